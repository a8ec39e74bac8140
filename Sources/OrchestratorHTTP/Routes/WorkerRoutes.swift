import Hummingbird
import OrchestratorEngine
import OrchestratorStore

/// `GET /api/v1/workers`, `POST /api/v1/workers/register`, `POST /api/v1/workers/{worker_id}/poll`.
struct WorkerRoutes<Context: RequestContext> {
    let engine: Engine
    let maxBodyBytes: Int

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get { _, _ in
            try JSONResponse.make(WorkerList(workers: try await engine.store.workers()))
        }
        routes.post("register") { request, _ in
            let body = try await BodyReader.decode(RegisterBody.self, from: request, limit: maxBodyBytes)
            let snapshot = try await engine.register(
                WorkerRegistration(workerId: body.workerId, capabilities: body.capabilities, labels: body.labels)
            )
            return try JSONResponse.make(snapshot)
        }
        routes.post("{worker_id}/poll") { request, context in
            let workerId = try PathParameter.id("worker_id", in: context)
            let body = try await BodyReader.decode(
                PollBody.self,
                from: request,
                limit: maxBodyBytes,
                emptyIsObject: true
            )
            let grants = try await engine.poll(
                PollRequest(workerId: workerId, maxTickets: body.maxTickets, waitMs: body.waitMs)
            )
            return try JSONResponse.make(Grants(tickets: grants))
        }
        return routes
    }

    struct WorkerList: Encodable {
        var workers: [WorkerRecord]
    }

    struct Grants: Encodable {
        var tickets: [LeaseGrant]
    }
}
