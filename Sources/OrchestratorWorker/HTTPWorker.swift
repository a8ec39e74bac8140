import Logging
import OrchestratorEngine

/// The reference worker process: serves an orchestrator over its REST API.
///
/// ``run()`` registers (retrying until the server answers), then runs `concurrency` loops that
/// long-poll, execute (heartbeating while the executor runs) and report under the lease's
/// fencing token. A 409 on a report is logged and skipped. When the server cannot be reached or
/// is unavailable, calls are retried with capped exponential backoff for as long as it takes (the
/// server may be restarting); a 404 on a poll means the server forgot the worker, which then
/// registers again. Cancel the task running ``run()`` to stop: running tickets get
/// `drainGraceMs` to finish and report.
public actor HTTPWorker {
    /// The id the worker registers under (shared by its concurrent loops).
    public nonisolated let workerId: String
    private let client: OrchestratorClient
    private let capabilities: [String]
    private let labels: [String: String]
    private let concurrency: Int
    private let executor: any TaskExecutor
    private let settings: WorkerSettings
    private let logger: Logger
    private let stats = WorkerStats()

    /// - Parameters:
    ///   - capabilities: What the worker offers; `*` takes any ticket.
    ///   - concurrency: How many tickets run at once (each slot long-polls on its own).
    ///   - pollWaitMs: Long-poll wait per poll.
    ///   - maxTicketsPerPoll: Tickets leased per poll by one slot.
    ///   - drainGraceMs: After cancellation, how long running tickets may still take.
    ///   - maxBackoffMs: Largest delay between retries when the server is unreachable.
    public init(
        client: OrchestratorClient,
        workerId: String,
        capabilities: [String] = ["*"],
        labels: [String: String] = ["kind": "http"],
        concurrency: Int = 1,
        executor: any TaskExecutor,
        pollWaitMs: Int64 = 20_000,
        maxTicketsPerPoll: Int = 1,
        drainGraceMs: Int64 = 30_000,
        maxBackoffMs: Int64 = 10_000,
        logger: Logger
    ) {
        self.client = client
        self.workerId = workerId
        self.capabilities = capabilities
        self.labels = labels
        self.concurrency = max(1, concurrency)
        self.executor = executor
        self.settings = WorkerSettings(
            pollWaitMs: pollWaitMs,
            maxTickets: max(1, maxTicketsPerPoll),
            initialBackoffMs: 200,
            maxBackoffMs: maxBackoffMs,
            stopWhenUnavailable: false,
            reportAttempts: 12,
            drainGraceMs: drainGraceMs
        )
        self.logger = logger
    }

    /// Totals over the worker's slots.
    public nonisolated var counters: WorkerCounters { stats.snapshot }

    /// Runs until cancelled.
    /// - Throws: the ``ClientError`` with which the server refused the registration itself
    ///   (e.g. 400 for an invalid worker id); nothing else.
    public func run() async throws {
        let loop = WorkerLoop(
            connection: APIConnection(client: client),
            registration: WorkerRegistration(workerId: workerId, capabilities: capabilities, labels: labels),
            executor: executor,
            settings: settings,
            stats: stats,
            logger: logger
        )
        if let exit = await loop.register() {
            if case .refused(let error) = exit { throw error }
            return
        }
        logger.info("worker running", metadata: ["worker_id": "\(workerId)", "concurrency": "\(concurrency)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    if case .refused(let error) = await loop.run(registered: true) { throw error }
                }
            }
            try await group.waitForAll()
        }
        logger.info("worker stopped", metadata: ["worker_id": "\(workerId)"])
    }
}
