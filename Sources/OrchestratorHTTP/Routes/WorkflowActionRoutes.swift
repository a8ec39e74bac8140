import Hummingbird
import OrchestratorEngine

/// Operator actions: `approve`, `reject`, `cancel` under `/api/v1/workflows/{workflow_id}/`.
/// Each answers the workflow view after the change; a workflow not in a state that accepts the
/// action is a 409.
struct WorkflowActionRoutes<Context: RequestContext> {
    let engine: Engine
    let maxBodyBytes: Int

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("{workflow_id}/approve") { request, context in
            let body = try await BodyReader.decode(
                ActionBody.self,
                from: request,
                limit: maxBodyBytes,
                emptyIsObject: true
            )
            return try await perform(.approve(by: body.by, note: body.note), context)
        }
        routes.post("{workflow_id}/reject") { request, context in
            let body = try await BodyReader.decode(
                ActionBody.self,
                from: request,
                limit: maxBodyBytes,
                emptyIsObject: true
            )
            return try await perform(.reject(by: body.by, reason: body.reason ?? "rejected by \(body.by)"), context)
        }
        routes.post("{workflow_id}/cancel") { request, context in
            let body = try await BodyReader.decode(
                ActionBody.self,
                from: request,
                limit: maxBodyBytes,
                emptyIsObject: true
            )
            return try await perform(.cancel(by: body.by, reason: body.reason ?? "cancelled by \(body.by)"), context)
        }
        return routes
    }

    func perform(_ action: OperatorAction, _ context: Context) async throws -> Response {
        let workflowId = try PathParameter.workflowId(in: context)
        let state = try await engine.perform(action, on: workflowId)
        return try JSONResponse.make(WorkflowView(state))
    }

    /// `{by, note}` or `{by, reason}`; `by` defaults to `api`.
    struct ActionBody: Decodable {
        var by: String
        var note: String?
        var reason: String?

        enum CodingKeys: String, CodingKey {
            case by, note, reason
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let by = try c.decodeIfPresent(String.self, forKey: .by) ?? ""
            self.by = by.isEmpty ? "api" : by
            note = try c.decodeIfPresent(String.self, forKey: .note)
            reason = try c.decodeIfPresent(String.self, forKey: .reason)
        }
    }
}
