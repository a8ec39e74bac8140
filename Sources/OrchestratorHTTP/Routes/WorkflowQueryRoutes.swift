import Hummingbird
import OrchestratorCore
import OrchestratorEngine

/// The hive-mind's workflow calls: `POST /api/v1/workflows/start` and
/// `POST /api/v1/workflows/{workflow_id}/query`.
struct WorkflowQueryRoutes<Context: RequestContext> {
    let engine: Engine
    let maxBodyBytes: Int
    let clock: any WallClock

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("start") { request, _ in try await start(request) }
        routes.post("{workflow_id}/query") { request, context in
            try await query(try PathParameter.workflowId(in: context), request)
        }
        return routes
    }

    /// 201 when the workflow was created, 200 when the plan's workflow already existed.
    func start(_ request: Request) async throws -> Response {
        let body = try await BodyReader.decode(StartWorkflowBody.self, from: request, limit: maxBodyBytes)
        guard let outcome = try await engine.submit(plan: try body.preparedPlan(), start: true) else {
            throw APIError(.internalServerError, code: "internal", message: "the engine did not start a workflow")
        }
        return try JSONResponse.make(outcome, status: outcome.created ? .created : .ok)
    }

    func query(_ workflowId: String, _ request: Request) async throws -> Response {
        let body = try await BodyReader.decode(QueryBody.self, from: request, limit: maxBodyBytes)
        guard let name = WorkflowQuery(rawValue: body.queryName.lowercased()) else {
            throw APIError.invalidField(
                "query_name",
                "query_name: unknown query \"\(body.queryName)\" (expected one of \(WorkflowQuery.names))"
            )
        }
        let state = try await WorkflowLookup.state(workflowId, engine: engine)
        let result: QueryAnswer.Result
        switch name {
        case .status: result = .status(QueryAnswer.StatusResult(state))
        case .tickets: result = .tickets(state.tickets.map(TicketSummary.init))
        case .metrics: result = .metrics(WorkflowMetrics.current(state, now: clock.nowMillis()))
        case .validation: result = .validation(state.validation)
        case .history:
            let after = try body.intArgument("after", default: 0, in: 0...Int(Int32.max))
            let limit = try body.intArgument("limit", default: 500, in: 1...5000)
            let entries = try await engine.store.history(workflowId, after: after, limit: limit)
            result = .history(HistoryView(workflowId: workflowId, entries: entries))
        }
        return try JSONResponse.make(QueryAnswer(queryName: name.rawValue, result: result))
    }
}
