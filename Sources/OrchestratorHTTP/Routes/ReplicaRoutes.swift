import Hummingbird
import OrchestratorEngine
import OrchestratorStore

/// `GET /api/v1/replicas`: the replicas sharing the database (PostgreSQL), with their heartbeats
/// and how many active workflows each runs. On SQLite (one process) the list is empty and
/// `shared` is false.
struct ReplicaRoutes<Context: RequestContext> {
    let engine: Engine

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get { _, _ in
            guard let shared = engine.store as? any SharedWorkflowStore else {
                return try JSONResponse.make(ReplicaList(shared: false, replicaId: nil, replicas: []))
            }
            let replicas = try await shared.replicas()
            return try JSONResponse.make(ReplicaList(shared: true, replicaId: shared.replicaId, replicas: replicas))
        }
        return routes
    }

    struct ReplicaList: Encodable {
        var shared: Bool
        /// The replica that answered.
        var replicaId: String?
        var replicas: [ReplicaRecord]

        enum CodingKeys: String, CodingKey {
            case shared
            case replicaId = "replica_id"
            case replicas
        }
    }
}
