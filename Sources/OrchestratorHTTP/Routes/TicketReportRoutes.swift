import Hummingbird
import HummingbirdAuth
import OrchestratorCore
import OrchestratorEngine

/// A worker's reports on a leased ticket: `heartbeat`, `complete`, `fail` under
/// `/api/v1/tickets/{ticket_id}/`. Every report carries the lease's fencing token and lease
/// secret; a stale or duplicate report is refused with 409, a wrong lease secret (or a lease of
/// another principal) with 403, and nothing changes.
struct TicketReportRoutes<Context: AuthRequestContext<Principal>> {
    let engine: Engine
    let maxBodyBytes: Int
    let clock: any WallClock
    let secrets: LeaseSecrets

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("{ticket_id}/heartbeat") { request, context in
            let ticketId = try PathParameter.id("ticket_id", in: context)
            let lease = try await BodyReader.decode(LeaseProof.self, from: request, limit: maxBodyBytes)
            try await check(lease, of: ticketId, context)
            let record = try await engine.report(
                TicketReport(
                    ticketId: ticketId,
                    fencingToken: lease.fencingToken,
                    workerId: lease.workerId,
                    kind: .heartbeat
                )
            )
            return try JSONResponse.make(HeartbeatAnswer(ticketId: ticketId, leaseExpiresAt: record.leaseExpiresAt))
        }
        routes.post("{ticket_id}/complete") { request, context in
            let ticketId = try PathParameter.id("ticket_id", in: context)
            let body = try await BodyReader.decode(CompleteBody.self, from: request, limit: maxBodyBytes)
            try await check(body.lease, of: ticketId, context)
            let result = ExecutionResult(
                ticketId: ticketId,
                status: .COMPLETED,
                result: ExecutionResultPayload(
                    success: true,
                    output: body.output,
                    metadata: body.metadata,
                    logs: body.logs
                ),
                actualDurationMs: body.actualDurationMs,
                agentId: body.lease.workerId,
                timestamp: clock.nowMillis()
            )
            let record = try await engine.report(
                TicketReport(
                    ticketId: ticketId,
                    fencingToken: body.lease.fencingToken,
                    workerId: body.lease.workerId,
                    kind: .completed(result)
                )
            )
            return try JSONResponse.make(ReportAnswer(record))
        }
        routes.post("{ticket_id}/fail") { request, context in
            let ticketId = try PathParameter.id("ticket_id", in: context)
            let body = try await BodyReader.decode(FailBody.self, from: request, limit: maxBodyBytes)
            try await check(body.lease, of: ticketId, context)
            let result = ExecutionResult(
                ticketId: ticketId,
                status: .FAILED,
                result: ExecutionResultPayload(success: false, output: body.output, logs: body.logs),
                errorMessage: body.errorMessage,
                actualDurationMs: body.actualDurationMs,
                agentId: body.lease.workerId,
                timestamp: clock.nowMillis()
            )
            let record = try await engine.report(
                TicketReport(
                    ticketId: ticketId,
                    fencingToken: body.lease.fencingToken,
                    workerId: body.lease.workerId,
                    kind: .failed(error: body.errorMessage, retryable: body.retryable, result: result)
                )
            )
            return try JSONResponse.make(ReportAnswer(record))
        }
        return routes
    }

    /// Refuses a report without the lease's secret (422 naming `lease_secret`) or with another
    /// one (403): a guessed fencing token, or another principal's lease, changes nothing.
    func check(_ lease: LeaseProof, of ticketId: String, _ context: Context) async throws {
        guard let presented = lease.leaseSecret, !presented.isEmpty else {
            throw APIError.invalidField(
                "lease_secret",
                "lease_secret: required (the lease_secret of the lease grant the report is made under)"
            )
        }
        let principal = context.identity?.name ?? "anonymous"
        let valid = try await secrets.verify(
            presented,
            ticketId: ticketId,
            fencingToken: lease.fencingToken,
            workerId: lease.workerId,
            principal: principal
        )
        guard valid else {
            // Only on this path (never on a valid report): an unknown ticket is a 404, as without
            // secrets.
            if try await engine.store.ticket(ticketId) == nil {
                throw APIError.notFound("no ticket \(ticketId)")
            }
            throw APIError.forbidden(
                "lease_secret is not the secret of lease \(lease.fencingToken) of ticket \(ticketId) granted to "
                    + "worker \(lease.workerId) polling as \(principal)"
            )
        }
    }

    struct HeartbeatAnswer: Encodable {
        var ticketId: String
        var leaseExpiresAt: EpochMillis?

        enum CodingKeys: String, CodingKey {
            case ticketId = "ticket_id"
            case leaseExpiresAt = "lease_expires_at"
        }
    }

    /// The ticket after a completion or failure: its wire status, engine phase and retry count.
    struct ReportAnswer: Encodable {
        var ticketId: String
        var status: TicketStatus
        var phase: TicketPhase
        var retryCount: Int
        var errorMessage: String?

        init(_ record: TicketRecord) {
            ticketId = record.ticketId
            status = record.ticket.status
            phase = record.phase
            retryCount = record.ticket.retryCount
            errorMessage = record.ticket.errorMessage
        }

        enum CodingKeys: String, CodingKey {
            case ticketId = "ticket_id"
            case status, phase
            case retryCount = "retry_count"
            case errorMessage = "error_message"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(ticketId, forKey: .ticketId)
            try c.encode(status, forKey: .status)
            try c.encode(phase, forKey: .phase)
            try c.encode(retryCount, forKey: .retryCount)
            try c.encode(errorMessage, forKey: .errorMessage)
        }
    }
}
