import Hummingbird
import HummingbirdAuth
import OrchestratorEngine

/// Operator actions: `approve`, `reject`, `cancel` under `/api/v1/workflows/{workflow_id}/`.
/// Each answers the workflow view after the change; a workflow not in a state that accepts the
/// action is a 409.
struct WorkflowActionRoutes<Context: AuthRequestContext<Principal>> {
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
            return try await perform(.approve(by: actor(body, context), note: body.note), context)
        }
        routes.post("{workflow_id}/reject") { request, context in
            let body = try await BodyReader.decode(
                ActionBody.self,
                from: request,
                limit: maxBodyBytes,
                emptyIsObject: true
            )
            return try await perform(
                .reject(by: actor(body, context), reason: body.reason ?? "rejected by \(actor(body, context))"),
                context
            )
        }
        routes.post("{workflow_id}/cancel") { request, context in
            let body = try await BodyReader.decode(
                ActionBody.self,
                from: request,
                limit: maxBodyBytes,
                emptyIsObject: true
            )
            return try await perform(
                .cancel(by: actor(body, context), reason: body.reason ?? "cancelled by \(actor(body, context))"),
                context
            )
        }
        return routes
    }

    /// Who acted: the authenticated principal. Only with authentication off (`--auth none`), when
    /// nobody is known, the body's unverified `by` (default `api`) is recorded instead.
    func actor(_ body: ActionBody, _ context: Context) -> String {
        guard let principal = context.identity, principal.source != "open" else { return body.by }
        return principal.name
    }

    func perform(_ action: OperatorAction, _ context: Context) async throws -> Response {
        let workflowId = try PathParameter.workflowId(in: context)
        let state = try await engine.perform(action, on: workflowId)
        return try JSONResponse.make(WorkflowView(state))
    }

    /// `{by, note}` or `{by, reason}`; `by` (default `api`) counts only with authentication off.
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
