import Hummingbird
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore

/// `GET /api/v1/incidents?workflow_id=&type=&limit=&offset=`.
struct IncidentRoutes<Context: RequestContext> {
    let engine: Engine

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get { request, _ in
            let query = QueryReader(request)
            let (limit, offset) = try query.page(defaultLimit: 100, maxLimit: 1000)
            let filter = IncidentFilter(
                workflowId: query.string("workflow_id"),
                type: try query.symbol("type", as: IncidentType.self),
                limit: limit,
                offset: offset
            )
            let incidents = try await engine.store.incidents(filter)
            return try JSONResponse.make(
                IncidentPage(incidents: incidents, limit: limit, offset: offset, count: incidents.count)
            )
        }
        return routes
    }

    struct IncidentPage: Encodable {
        var incidents: [OrchestrationIncident]
        var limit: Int
        var offset: Int
        var count: Int
    }
}
