import Synchronization

/// Running totals of a worker or a pool, for progress displays.
public struct WorkerCounters: Sendable, Equatable {
    /// Tickets leased to the worker.
    public var leased = 0
    /// Completions the orchestrator accepted.
    public var completed = 0
    /// Failures the orchestrator accepted (the orchestrator decides about retries).
    public var failed = 0
    /// Reports the orchestrator refused as stale or duplicate (HTTP 409).
    public var rejected = 0
    /// Leases lost while executing (a heartbeat was refused): the work was abandoned unreported.
    public var leasesLost = 0
    /// Tickets executing right now.
    public var inFlight = 0

    public init() {}
}

/// Thread-safe ``WorkerCounters``.
final class WorkerStats: Sendable {
    private let counters = Mutex(WorkerCounters())

    var snapshot: WorkerCounters { counters.withLock { $0 } }

    func update(_ change: (inout WorkerCounters) -> Void) {
        counters.withLock { change(&$0) }
    }
}
