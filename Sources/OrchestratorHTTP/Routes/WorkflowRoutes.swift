import Hummingbird
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore

/// Reading workflows: list, view, history, consolidated result, C1 audit.
struct WorkflowRoutes<Context: RequestContext> {
    let engine: Engine

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get { request, _ in try await list(request) }
        routes.get("{workflow_id}") { _, context in
            try JSONResponse.make(WorkflowView(try await state(context)))
        }
        routes.get("{workflow_id}/result") { _, context in
            try JSONResponse.make(WorkflowResultView(state: try await state(context)))
        }
        routes.get("{workflow_id}/history") { request, context in
            try await history(try PathParameter.workflowId(in: context), request)
        }
        routes.get("{workflow_id}/audit") { _, context in
            let workflowId = try PathParameter.workflowId(in: context)
            try await requireExists(workflowId)
            return try JSONResponse.make(
                Audits(workflowId: workflowId, audits: try await engine.store.audits(workflowId))
            )
        }
        return routes
    }

    func state(_ context: Context) async throws -> WorkflowState {
        try await WorkflowLookup.state(try PathParameter.workflowId(in: context), engine: engine)
    }

    func requireExists(_ workflowId: String) async throws {
        guard try await engine.store.workflowExists(workflowId) else {
            throw APIError.notFound("no workflow \(workflowId)")
        }
    }

    func list(_ request: Request) async throws -> Response {
        let query = QueryReader(request)
        let (limit, offset) = try query.page(defaultLimit: 50, maxLimit: 1000)
        let filter = WorkflowFilter(
            status: try query.value("status", as: WorkflowStatus.self),
            planId: query.string("plan_id"),
            decisionId: query.string("decision_id"),
            limit: limit,
            offset: offset
        )
        let workflows = try await engine.store.listWorkflows(filter)
        return try JSONResponse.make(
            WorkflowPage(workflows: workflows, limit: limit, offset: offset, count: workflows.count)
        )
    }

    func history(_ workflowId: String, _ request: Request) async throws -> Response {
        let query = QueryReader(request)
        let after = try query.int("after", default: 0, in: 0...Int(Int32.max))
        let limit = try query.int("limit", default: 500, in: 1...5000)
        let entries = try await engine.store.history(workflowId, after: after, limit: limit)
        if entries.isEmpty { try await requireExists(workflowId) }
        return try JSONResponse.make(HistoryView(workflowId: workflowId, entries: entries))
    }

    struct WorkflowPage: Encodable {
        var workflows: [WorkflowSummary]
        var limit: Int
        var offset: Int
        var count: Int
    }

    struct Audits: Encodable {
        var workflowId: String
        var audits: [AuditRecord]

        enum CodingKeys: String, CodingKey {
            case workflowId = "workflow_id"
            case audits
        }
    }
}

/// Finding a workflow or answering 404.
enum WorkflowLookup {
    static func state(_ workflowId: String, engine: Engine) async throws -> WorkflowState {
        guard let state = try await engine.workflow(workflowId) else {
            throw APIError.notFound("no workflow \(workflowId)")
        }
        return state
    }
}
