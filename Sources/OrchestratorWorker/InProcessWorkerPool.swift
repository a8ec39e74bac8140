import Logging
import OrchestratorEngine

/// Workers inside the orchestrator process, calling the ``Engine`` directly: the built-in
/// workers of `orchestrator-dynamic run` and of the embedded mode.
///
/// Each of the `size` workers registers as `<idPrefix>-<n>`, then long-polls, executes with the
/// executor (heartbeating while it runs) and reports under the lease's fencing token. Stale or
/// duplicate reports are logged and skipped. ``run()`` returns when its task is cancelled
/// (running tickets get a grace period to finish) or when the engine stops.
public actor InProcessWorkerPool {
    /// The ids of the pool's workers.
    public nonisolated let workerIds: [String]
    private let engine: Engine
    private let capabilities: [String]
    private let executor: any TaskExecutor
    private let settings: WorkerSettings
    private let logger: Logger
    private let stats = WorkerStats()

    /// - Parameters:
    ///   - size: The number of workers (at least 1).
    ///   - capabilities: What the workers offer; `*` takes any ticket.
    ///   - idPrefix: Worker ids are `<idPrefix>-1` … `<idPrefix>-<size>`.
    ///   - pollWaitMs: Long-poll wait of each poll.
    ///   - maxTicketsPerPoll: Tickets leased per poll; a batch executes concurrently.
    ///   - drainGraceMs: After cancellation, how long running tickets may still take.
    public init(
        engine: Engine,
        size: Int,
        capabilities: [String] = ["*"],
        executor: any TaskExecutor,
        idPrefix: String,
        pollWaitMs: Int64 = 1000,
        maxTicketsPerPoll: Int = 1,
        drainGraceMs: Int64 = 5000,
        logger: Logger
    ) {
        self.engine = engine
        self.workerIds = (1...max(1, size)).map { "\(idPrefix)-\($0)" }
        self.capabilities = capabilities
        self.executor = executor
        self.settings = WorkerSettings(
            pollWaitMs: pollWaitMs,
            maxTickets: max(1, maxTicketsPerPoll),
            stopWhenUnavailable: true,
            reportAttempts: 3,
            drainGraceMs: drainGraceMs
        )
        self.logger = logger
    }

    /// Totals over all workers of the pool.
    public nonisolated var counters: WorkerCounters { stats.snapshot }

    /// Runs every worker until cancelled or until the engine stops.
    public func run() async {
        let loops = workerIds.map { workerId in
            WorkerLoop(
                connection: EngineConnection(engine: engine),
                registration: WorkerRegistration(
                    workerId: workerId,
                    capabilities: capabilities,
                    labels: ["kind": "in-process"]
                ),
                executor: executor,
                settings: settings,
                stats: stats,
                logger: logger
            )
        }
        logger.info("worker pool starting", metadata: ["size": "\(loops.count)"])
        await withTaskGroup(of: Void.self) { group in
            for loop in loops {
                group.addTask {
                    if case .refused(let error) = await loop.run(registered: false) {
                        loop.logger.error("worker stopped: registration refused", metadata: ["reason": "\(error)"])
                    }
                }
            }
        }
        logger.info("worker pool stopped")
    }
}
