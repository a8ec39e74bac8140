import OrchestratorCore
import OrchestratorEngine

/// What a decision or plan submission answered.
public struct SubmitResponse: Sendable, Equatable {
    /// The HTTP status (e.g. 201 for a new workflow, 200 for one already accepted).
    public var statusCode: Int
    /// The outcome: the answer itself for a decision, its `workflow` for a plan started with it (a
    /// plan kept without `start` has none).
    public var outcome: SubmitOutcome?
    /// The whole answer.
    public var json: JSONValue?

    init(_ response: OrchestratorClient.Response) {
        statusCode = response.status
        json = JSONBody.decode(response.body)
        var started: SubmitOutcome?
        if case .object(let fields) = json, let workflow = fields["workflow"] {
            started = try? workflow.decoded(as: SubmitOutcome.self)
        }
        outcome = started ?? json.flatMap { try? $0.decoded(as: SubmitOutcome.self) }
    }
}
