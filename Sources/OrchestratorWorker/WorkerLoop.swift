import Logging
import OrchestratorEngine

/// One worker slot: registers, then long-polls, executes and reports until cancelled.
struct WorkerLoop: Sendable {
    /// Why a loop ended.
    enum Exit: Sendable {
        case cancelled
        /// The orchestrator is stopping (only with ``WorkerSettings/stopWhenUnavailable``).
        case unavailable
        /// The orchestrator refused the registration itself: retrying cannot help.
        case refused(any Error)
    }

    let connection: any WorkerConnection
    let registration: WorkerRegistration
    let runner: LeaseRunner
    let settings: WorkerSettings
    let logger: Logger

    init(
        connection: any WorkerConnection,
        registration: WorkerRegistration,
        executor: any TaskExecutor,
        settings: WorkerSettings,
        stats: WorkerStats,
        logger: Logger
    ) {
        var logger = logger
        logger[metadataKey: "worker_id"] = "\(registration.workerId)"
        self.connection = connection
        self.registration = registration
        self.settings = settings
        self.logger = logger
        self.runner = LeaseRunner(
            connection: connection,
            executor: executor,
            workerId: registration.workerId,
            settings: settings,
            stats: stats,
            logger: logger
        )
    }

    /// Registers, retrying what may be transient; `nil` once registered.
    func register() async -> Exit? {
        var backoff = Backoff(initialMs: settings.initialBackoffMs, maxMs: settings.maxBackoffMs)
        while !Task.isCancelled {
            do {
                let snapshot = try await connection.register(registration)
                logger.info(
                    "registered",
                    metadata: [
                        "capabilities": "\(snapshot.capabilities.joined(separator: ","))",
                        "lease_ttl_ms": "\(snapshot.leaseTtlMs)",
                    ]
                )
                return nil
            } catch {
                switch connection.fault(of: error) {
                case .rejected:
                    logger.error("registration refused", metadata: ["reason": "\(error)"])
                    return .refused(error)
                case .unavailable where settings.stopWhenUnavailable:
                    return .unavailable
                case .conflict, .notFound, .unavailable, .transport:
                    logger.warning("registration failed; retrying", metadata: ["reason": "\(error)"])
                    await backoff.wait()
                }
            }
        }
        return .cancelled
    }

    /// Polls and executes until cancelled (or the orchestrator stops, see ``WorkerSettings``).
    /// - Parameter registered: whether ``register()`` already succeeded for this worker id.
    func run(registered: Bool) async -> Exit {
        var registered = registered
        var backoff = Backoff(initialMs: settings.initialBackoffMs, maxMs: settings.maxBackoffMs)
        let request = PollRequest(
            workerId: registration.workerId,
            maxTickets: settings.maxTickets,
            waitMs: settings.pollWaitMs
        )
        while !Task.isCancelled {
            if !registered {
                if let exit = await register() { return exit }
                registered = true
            }
            let grants: [LeaseGrant]
            do {
                grants = try await connection.poll(request)
                backoff.reset()
            } catch {
                if Task.isCancelled { break }
                switch connection.fault(of: error) {
                case .notFound:
                    logger.notice("the orchestrator does not know this worker; registering again")
                    registered = false
                case .unavailable where settings.stopWhenUnavailable:
                    logger.info("the orchestrator is stopping; worker stops")
                    return .unavailable
                case .conflict, .rejected, .unavailable, .transport:
                    logger.warning("poll failed; retrying", metadata: ["reason": "\(error)"])
                    await backoff.wait()
                }
                continue
            }
            if !grants.isEmpty { await execute(grants) }
        }
        return .cancelled
    }

    /// Runs a batch of grants concurrently. Cancelling the loop does not interrupt them at once:
    /// they get ``WorkerSettings/drainGraceMs`` to finish and report.
    private func execute(_ grants: [LeaseGrant]) async {
        let runner = self.runner
        let work = Task {
            await withTaskGroup(of: Void.self) { group in
                for grant in grants {
                    group.addTask { await runner.run(grant) }
                }
            }
        }
        let grace = settings.drainGraceMs
        await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            Task {
                try? await Task.sleep(for: .milliseconds(grace))
                work.cancel()
            }
        }
    }
}
