import Foundation
import Hummingbird
import OrchestratorCore
import OrchestratorEngine

/// `POST /api/v1/decisions` and `POST /api/v1/plans`: JSON bodies, or Avro binary when the
/// content type says so.
struct IntakeRoutes<Context: RequestContext> {
    let engine: Engine
    let maxBodyBytes: Int

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("decisions") { request, _ in try await submitDecision(request) }
        routes.post("plans") { request, _ in try await submitPlan(request) }
        return routes
    }

    /// 201 with the outcome when a workflow was created; 200 when the decision had already been
    /// accepted (idempotent by `decision_id`).
    func submitDecision(_ request: Request) async throws -> Response {
        guard case .decision(let decision) = try await read(request, kind: .decision) else {
            throw APIError(.badRequest, code: "invalid_body", message: "the body is not a decision")
        }
        let outcome = try await engine.submit(decision: decision)
        return try JSONResponse.make(outcome, status: outcome.created ? .created : .ok)
    }

    /// 202 with `plan_id` and, when `start=true`, the outcome of the workflow it started.
    func submitPlan(_ request: Request) async throws -> Response {
        let start = try QueryReader(request).bool("start", default: false)
        guard case .plan(let plan) = try await read(request, kind: .plan) else {
            throw APIError(.badRequest, code: "invalid_body", message: "the body is not a plan")
        }
        let outcome = try await engine.submit(plan: plan, start: start)
        return try JSONResponse.make(PlanAccepted(planId: plan.planId, workflow: outcome), status: .accepted)
    }

    struct PlanAccepted: Encodable {
        var planId: String
        var workflow: SubmitOutcome?

        enum CodingKeys: String, CodingKey {
            case planId = "plan_id"
            case workflow
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(planId, forKey: .planId)
            try c.encode(workflow, forKey: .workflow)
        }
    }

    func read(_ request: Request, kind: SubmissionDecoder.Kind) async throws -> Submission {
        let bytes = try await BodyReader.bytes(of: request, limit: maxBodyBytes)
        let format = Self.format(of: request)
        do {
            return try SubmissionDecoder.decode(
                bytes,
                format: format,
                kind: kind,
                maxElements: engine.configuration.policies.validation.maxTasks
            )
        } catch let error as WireFormatError where format == .json {
            throw Self.classify(error, bytes: bytes)
        }
    }

    /// Avro for `avro/binary` and `application/vnd.apache.avro+binary`, JSON otherwise.
    static func format(of request: Request) -> SubmissionDecoder.Format {
        let type = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        switch type {
        case "avro/binary", "application/vnd.apache.avro+binary": return .avro
        default: return .json
        }
    }

    /// A JSON object that does not fit the model is a field problem (422, naming the field);
    /// anything else (not JSON, too deep, a duplicate key, not an object) is 400.
    static func classify(_ error: WireFormatError, bytes: [UInt8]) -> APIError {
        guard WireJSON.isObject(bytes) else { return APIError.from(error) }
        return APIError.invalidField(APIError.leadingField(of: error.message), error.message)
    }
}
