import Hummingbird
import OrchestratorCore
import OrchestratorEngine

/// `GET /api/v1/tickets/{ticket_id}` and `GET /api/v1/tickets/by-plan/{plan_id}`.
struct TicketRoutes<Context: RequestContext> {
    let engine: Engine

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("by-plan/{plan_id}") { request, context in
            try await byPlan(try PathParameter.id("plan_id", in: context), request)
        }
        routes.get("{ticket_id}") { _, context in
            try await ticket(try PathParameter.id("ticket_id", in: context))
        }
        return routes
    }

    func ticket(_ ticketId: String) async throws -> Response {
        guard let found = try await engine.store.ticket(ticketId) else {
            throw APIError.notFound("no ticket \(ticketId)")
        }
        return try JSONResponse.make(TicketView(record: found.record, workflowId: found.workflowId))
    }

    func byPlan(_ planId: String, _ request: Request) async throws -> Response {
        let query = QueryReader(request)
        let status = try query.symbol("status", as: TicketStatus.self)
        let (limit, offset) = try query.page(defaultLimit: 100, maxLimit: 1000)
        let records = try await engine.store.tickets(planId: planId, status: status, limit: limit, offset: offset)
        let tickets = records.map { TicketView(record: $0, workflowId: $0.ticket.metadata["workflow_id"]) }
        return try JSONResponse.make(
            TicketPage(planId: planId, tickets: tickets, limit: limit, offset: offset, count: tickets.count)
        )
    }

    struct TicketPage: Encodable {
        var planId: String
        var tickets: [TicketView]
        var limit: Int
        var offset: Int
        var count: Int

        enum CodingKeys: String, CodingKey {
            case planId = "plan_id"
            case tickets, limit, offset, count
        }
    }
}
