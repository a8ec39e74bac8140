import Logging
import OrchestratorCore
import OrchestratorStore
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The durable Flow C engine: one workflow per decision, driven by a single writer loop over a
/// ``WorkflowStore``. Run it as a `Service`; call its methods from any task.
public final class Engine: Service, Sendable {
    public let store: any WorkflowStore
    public let configuration: EngineConfiguration
    /// Live feed of relayed outbox messages (server-sent events).
    public let feed = LiveFeed()
    let clock: any WallClock
    let logger: Logger
    let queue = CommandQueue()
    let sinks: [any OutboxSink]
    let outboxSignal: AsyncStream<Void>
    let outboxWake: AsyncStream<Void>.Continuation
    let readyState = ReadyFlag()

    /// - Parameters:
    ///   - sinks: where outbox messages go besides the live feed (e.g. a ``JSONLinesSink``).
    public init(
        store: any WorkflowStore,
        configuration: EngineConfiguration = EngineConfiguration(),
        clock: any WallClock = SystemClock(),
        sinks: [any OutboxSink] = [],
        logger: Logger
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.sinks = sinks
        self.logger = logger
        (outboxSignal, outboxWake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Whether the engine has loaded its state and is taking commands.
    public var isRunning: Bool { readyState.value }

    /// Runs until cancelled or until graceful shutdown: loads state, then runs the command loop,
    /// the timer ticker and the outbox relay.
    public func run() async throws {
        _ = try await store.migrate()
        let loop = EngineLoop(
            store: store,
            configuration: configuration,
            clock: clock,
            logger: logger,
            metrics: EngineMetrics(),
            outboxSignal: outboxWake
        )
        let waiting = try await loop.bootstrap()
        await loop.attachWaitingPlans(waiting)
        let relay = OutboxRelay(
            store: store,
            sinks: sinks + [feed],
            batchSize: configuration.relayBatch,
            logger: logger
        )
        readyState.set(true)
        defer { readyState.set(false) }
        let tick = configuration.tickIntervalMs
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await relay.run(signal: self.outboxSignal) }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(tick))
                        guard self.queue.enqueue(.tick) else { return }
                    }
                }
                // The loop runs in this task: it alone owns the engine's in-memory state.
                await loop.run(queue: self.queue)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
        shutdown()
        // Deliver what is already committed before returning.
        _ = try? await relay.relayAll()
    }

    /// Stops taking commands; queued ones fail as unavailable.
    func shutdown() {
        for command in queue.close() { command.fail(EngineError(.unavailable, "the engine is shutting down")) }
        outboxWake.finish()
    }

    // MARK: - Commands

    func send<T: Sendable>(_ make: (Reply<T>) -> EngineCommand) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let command = make(Reply(continuation: continuation))
            if !queue.enqueue(command) {
                continuation.resume(throwing: EngineError(.unavailable, "the engine is not running"))
            }
        }
    }

    /// Accepts a decision (idempotent by `decision_id`).
    public func submit(decision: ConsolidatedDecision) async throws -> SubmitOutcome {
        try await send { .submitDecision(decision, $0) }
    }

    /// Keeps a plan in the ledger, hands it to decisions waiting for it, and with `start` runs it
    /// as its own workflow (decision id `plan-<plan_id>`).
    public func submit(plan: CognitivePlan, start: Bool) async throws -> SubmitOutcome? {
        try await send { .submitPlan(plan, start: start, $0) }
    }

    public func perform(_ action: OperatorAction, on workflowId: String) async throws -> WorkflowState {
        try await send { .operatorAction(workflowId: workflowId, action, $0) }
    }

    public func register(_ registration: WorkerRegistration) async throws -> WorkerRecordSnapshot {
        try await send { .registerWorker(registration, $0) }
    }

    /// Leases up to `maxTickets` tickets, waiting up to `waitMs` for one to become ready.
    public func poll(_ request: PollRequest) async throws -> [LeaseGrant] {
        var bounded = request
        bounded.maxTickets = min(max(1, request.maxTickets), configuration.maxTicketsPerPoll)
        bounded.waitMs = min(max(0, request.waitMs), configuration.maxPollWaitMs)
        return try await send { .poll(bounded, $0) }
    }

    /// A heartbeat, completion or failure.
    public func report(_ report: TicketReport) async throws -> TicketRecord {
        try await send { .report(report, $0) }
    }

    /// The current state of a workflow (from memory when active).
    public func workflow(_ workflowId: String) async throws -> WorkflowState? {
        try await send { .snapshot(workflowId: workflowId, $0) }
    }
}

extension EngineCommand {
    func fail(_ error: any Error) {
        switch self {
        case .submitDecision(_, let reply): reply.fail(error)
        case .submitPlan(_, _, let reply): reply.fail(error)
        case .operatorAction(_, _, let reply): reply.fail(error)
        case .poll(_, let reply): reply.fail(error)
        case .report(_, let reply): reply.fail(error)
        case .registerWorker(_, let reply): reply.fail(error)
        case .snapshot(_, let reply): reply.fail(error)
        case .tick: break
        }
    }
}

/// The wall clock.
public struct SystemClock: WallClock {
    public init() {}
    public func nowMillis() -> EpochMillis {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return EpochMillis(spec.tv_sec) * 1000 + EpochMillis(spec.tv_nsec) / 1_000_000
    }
}
