import Hummingbird
import HummingbirdAuth
import OrchestratorEngine
import OrchestratorStore

/// `GET /api/v1/workers`, `POST /api/v1/workers/register`, `POST /api/v1/workers/{worker_id}/poll`.
/// Each grant of a poll carries its `lease_secret` (``LeaseSecrets``), bound to the polling
/// principal.
struct WorkerRoutes<Context: AuthRequestContext<Principal>> {
    let engine: Engine
    let maxBodyBytes: Int
    let secrets: LeaseSecrets
    let longPolls: LongPollCounter

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
            // The key first: once tickets are leased, nothing may fail before they are answered.
            try await secrets.load()
            let waits = body.waitMs > 0
            if waits {
                guard longPolls.enter(workerId) else {
                    throw APIError(
                        .tooManyRequests,
                        code: "rate_limited",
                        message:
                            "worker \(workerId) already holds \(longPolls.limit) long polls open (http.max_long_polls_per_worker)",
                        retryAfterSeconds: 1
                    )
                }
            }
            defer { if waits { longPolls.leave(workerId) } }
            var grants = try await engine.poll(
                PollRequest(workerId: workerId, maxTickets: body.maxTickets, waitMs: body.waitMs)
            )
            let principal = context.identity?.name ?? "anonymous"
            for index in grants.indices {
                grants[index].leaseSecret = try await secrets.secret(
                    ticketId: grants[index].ticket.ticketId,
                    fencingToken: grants[index].fencingToken,
                    workerId: workerId,
                    principal: principal
                )
            }
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
