import OrchestratorCore
import OrchestratorEngine

/// What a decision or plan submission answered.
public struct SubmitResponse: Sendable, Equatable {
    /// The HTTP status (e.g. 201 for a new workflow, 200 for one already accepted).
    public var statusCode: Int
    /// The outcome, when the answer was one (a plan kept without `start` has none).
    public var outcome: SubmitOutcome?
    /// The whole answer.
    public var json: JSONValue?

    init(_ response: OrchestratorClient.Response) {
        statusCode = response.status
        json = JSONBody.decode(response.body)
        outcome = json.flatMap { try? $0.decoded(as: SubmitOutcome.self) }
    }
}
