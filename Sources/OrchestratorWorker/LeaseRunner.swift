import Logging
import OrchestratorEngine

/// Executes one leased ticket: runs the executor, heartbeats while it runs, reports the outcome
/// under the lease's fencing token.
struct LeaseRunner: Sendable {
    let connection: any WorkerConnection
    let executor: any TaskExecutor
    let workerId: String
    let settings: WorkerSettings
    let stats: WorkerStats
    let logger: Logger

    func run(_ grant: LeaseGrant) async {
        var logger = self.logger
        logger[metadataKey: "ticket_id"] = "\(grant.ticket.ticketId)"
        logger[metadataKey: "workflow_id"] = "\(grant.workflowId)"
        logger[metadataKey: "attempt"] = "\(grant.ticket.retryCount)"
        stats.update {
            $0.leased += 1
            $0.inFlight += 1
        }
        defer { stats.update { $0.inFlight -= 1 } }
        logger.debug("executing", metadata: ["task_type": "\(grant.ticket.taskType.rawValue)"])
        guard let outcome = await executeWhileHeartbeating(grant, logger: logger) else {
            stats.update { $0.leasesLost += 1 }
            logger.warning("lease lost while executing; the work was abandoned and is not reported")
            return
        }
        await report(outcome, for: grant, logger: logger)
    }

    private enum Race: Sendable {
        case finished(TaskOutcome)
        case leaseLost
        case heartbeatStopped
    }

    /// The outcome, or `nil` when the lease was lost (the execution is then cancelled).
    private func executeWhileHeartbeating(_ grant: LeaseGrant, logger: Logger) async -> TaskOutcome? {
        await withTaskGroup(of: Race.self) { group in
            group.addTask { .finished(await executor.execute(grant.ticket, attempt: grant.ticket.retryCount)) }
            group.addTask { await heartbeat(grant, logger: logger) }
            var lost = false
            for await event in group {
                switch event {
                case .finished(let outcome):
                    group.cancelAll()
                    return lost ? nil : outcome
                case .leaseLost:
                    lost = true
                    group.cancelAll()
                case .heartbeatStopped:
                    continue
                }
            }
            return nil
        }
    }

    /// Extends the lease every heartbeat interval until cancelled or until the lease is refused.
    private func heartbeat(_ grant: LeaseGrant, logger: Logger) async -> Race {
        let interval = max(10, grant.heartbeatIntervalMs)
        while true {
            do {
                try await Task.sleep(for: .milliseconds(interval))
            } catch {
                return .heartbeatStopped
            }
            do {
                try await connection.heartbeat(grant, workerId: workerId)
            } catch {
                if Task.isCancelled { return .heartbeatStopped }
                switch connection.fault(of: error) {
                case .conflict, .notFound:
                    logger.warning("heartbeat refused", metadata: ["reason": "\(error)"])
                    return .leaseLost
                case .rejected, .unavailable, .transport:
                    logger.notice("heartbeat failed; trying again next interval", metadata: ["reason": "\(error)"])
                }
            }
        }
    }

    private func report(_ outcome: TaskOutcome, for grant: LeaseGrant, logger: Logger) async {
        var backoff = Backoff(initialMs: settings.initialBackoffMs, maxMs: settings.maxBackoffMs)
        let attempts = max(1, settings.reportAttempts)
        for attempt in 1...attempts {
            do {
                if outcome.success {
                    try await connection.complete(grant, workerId: workerId, outcome: outcome)
                    stats.update { $0.completed += 1 }
                    logger.info("completed", metadata: ["duration_ms": "\(outcome.durationMs)"])
                } else {
                    try await connection.fail(grant, workerId: workerId, outcome: outcome)
                    stats.update { $0.failed += 1 }
                    logger.info(
                        "failed",
                        metadata: [
                            "error": "\(outcome.error ?? "")", "retryable": "\(outcome.retryable)",
                            "duration_ms": "\(outcome.durationMs)",
                        ]
                    )
                }
                return
            } catch {
                switch connection.fault(of: error) {
                case .conflict:
                    stats.update { $0.rejected += 1 }
                    logger.notice("report refused as stale or duplicate", metadata: ["reason": "\(error)"])
                    return
                case .notFound, .rejected:
                    logger.error("report refused", metadata: ["reason": "\(error)"])
                    return
                case .unavailable where settings.stopWhenUnavailable:
                    logger.warning("orchestrator unavailable; report dropped", metadata: ["reason": "\(error)"])
                    return
                case .unavailable, .transport:
                    guard attempt < attempts else {
                        logger.error("report given up", metadata: ["reason": "\(error)", "attempts": "\(attempts)"])
                        return
                    }
                    logger.notice("report failed; retrying", metadata: ["reason": "\(error)"])
                    await backoff.wait()
                }
            }
        }
    }
}
