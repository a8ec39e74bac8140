import OrchestratorCore
import OrchestratorEngine

/// Calls the ``Engine`` directly (workers inside the orchestrator process).
struct EngineConnection: WorkerConnection {
    let engine: Engine

    func register(_ registration: WorkerRegistration) async throws -> WorkerRecordSnapshot {
        try await engine.register(registration)
    }

    /// How long past its wait a poll may take before the worker stops waiting for it.
    static let pollGraceMs: Int64 = 5000

    func poll(_ request: PollRequest) async throws -> [LeaseGrant] {
        let engine = self.engine
        guard
            let grants = try await withAbandonDeadline(
                request.waitMs + Self.pollGraceMs,
                { try await engine.poll(request) }
            )
        else {
            throw PollTimeout(waitMs: request.waitMs)
        }
        return grants
    }

    func heartbeat(_ grant: LeaseGrant, workerId: String) async throws {
        _ = try await engine.report(
            TicketReport(
                ticketId: grant.ticket.ticketId,
                fencingToken: grant.fencingToken,
                workerId: workerId,
                kind: .heartbeat
            )
        )
    }

    func complete(_ grant: LeaseGrant, workerId: String, outcome: TaskOutcome) async throws {
        let result = outcome.executionResult(for: grant, workerId: workerId, at: SystemClock().nowMillis())
        _ = try await engine.report(
            TicketReport(
                ticketId: grant.ticket.ticketId,
                fencingToken: grant.fencingToken,
                workerId: workerId,
                kind: .completed(result)
            )
        )
    }

    func fail(_ grant: LeaseGrant, workerId: String, outcome: TaskOutcome) async throws {
        let result = outcome.executionResult(for: grant, workerId: workerId, at: SystemClock().nowMillis())
        _ = try await engine.report(
            TicketReport(
                ticketId: grant.ticket.ticketId,
                fencingToken: grant.fencingToken,
                workerId: workerId,
                kind: .failed(error: result.errorMessage ?? "failed", retryable: outcome.retryable, result: result)
            )
        )
    }

    func fault(of error: any Error) -> WorkerFault {
        guard let error = error as? EngineError else { return .transport }
        switch error.code {
        case .conflict: return .conflict
        case .notFound: return .notFound
        case .invalid: return .rejected
        case .unavailable: return .unavailable
        }
    }
}

/// The engine did not answer a poll in time (it may be stopping, or badly overloaded).
struct PollTimeout: Error, CustomStringConvertible {
    var waitMs: Int64
    var description: String {
        "the engine did not answer a poll within \(waitMs + EngineConnection.pollGraceMs) ms"
    }
}

extension TaskOutcome {
    /// The contract's execution result for this outcome.
    func executionResult(for grant: LeaseGrant, workerId: String, at timestamp: EpochMillis) -> ExecutionResult {
        ExecutionResult(
            ticketId: grant.ticket.ticketId,
            status: success ? .COMPLETED : .FAILED,
            result: ExecutionResultPayload(
                success: success,
                output: output,
                metadata: resultMetadata(for: grant, workerId: workerId),
                logs: logs
            ),
            errorMessage: success ? nil : (error ?? "the task failed"),
            actualDurationMs: durationMs,
            agentId: workerId,
            timestamp: timestamp
        )
    }

    /// Metadata sent with every report.
    func resultMetadata(for grant: LeaseGrant, workerId: String) -> [String: String] {
        ["worker_id": workerId, "attempt": String(grant.ticket.retryCount), "retryable": String(retryable)]
    }
}
