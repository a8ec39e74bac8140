import OrchestratorEngine

/// Calls the orchestrator's REST API (the reference worker process).
struct APIConnection: WorkerConnection {
    let client: OrchestratorClient

    func register(_ registration: WorkerRegistration) async throws -> WorkerRecordSnapshot {
        try await client.registerWorker(
            workerId: registration.workerId,
            capabilities: registration.capabilities,
            labels: registration.labels
        )
    }

    func poll(_ request: PollRequest) async throws -> [LeaseGrant] {
        try await client.poll(workerId: request.workerId, maxTickets: request.maxTickets, waitMs: request.waitMs)
    }

    func heartbeat(_ grant: LeaseGrant, workerId: String) async throws {
        try await client.heartbeat(
            ticketId: grant.ticket.ticketId,
            workerId: workerId,
            fencingToken: grant.fencingToken,
            leaseSecret: grant.leaseSecret,
            traceparent: grant.traceparent
        )
    }

    func complete(_ grant: LeaseGrant, workerId: String, outcome: TaskOutcome) async throws {
        try await client.complete(
            ticketId: grant.ticket.ticketId,
            workerId: workerId,
            fencingToken: grant.fencingToken,
            leaseSecret: grant.leaseSecret,
            output: outcome.output,
            metadata: outcome.resultMetadata(for: grant, workerId: workerId),
            logs: outcome.logs,
            actualDurationMs: outcome.durationMs,
            traceparent: grant.traceparent
        )
    }

    func fail(_ grant: LeaseGrant, workerId: String, outcome: TaskOutcome) async throws {
        try await client.fail(
            ticketId: grant.ticket.ticketId,
            workerId: workerId,
            fencingToken: grant.fencingToken,
            leaseSecret: grant.leaseSecret,
            errorMessage: outcome.error ?? "the task failed",
            retryable: outcome.retryable,
            output: outcome.output,
            logs: outcome.logs,
            actualDurationMs: outcome.durationMs,
            traceparent: grant.traceparent
        )
    }

    func fault(of error: any Error) -> WorkerFault {
        guard let error = error as? ClientError else { return .transport }
        guard let status = error.status else { return .transport }
        switch status {
        case 409: return .conflict
        case 404: return .notFound
        case 408, 429, 500...599: return .unavailable
        default: return .rejected
        }
    }
}
