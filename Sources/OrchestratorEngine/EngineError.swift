import OrchestratorCore

/// Why an engine command failed; the HTTP layer maps codes to statuses.
public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        /// No such workflow, ticket or worker (404).
        case notFound = "not_found"
        /// The command conflicts with the current state: stale lease, duplicate report, wrong
        /// workflow state (409).
        case conflict
        /// The request itself is wrong (400/422).
        case invalid
        /// The engine is stopping or the store failed (503).
        case unavailable
    }

    public var code: Code
    public var message: String
    /// The state-machine refusal behind a conflict, when there is one.
    public var refusal: TransitionRefusal.Code?
    /// For a conflict: the replica that runs the workflow, when it is another one (several
    /// replicas on one database).
    public var owner: String?

    public init(_ code: Code, _ message: String, refusal: TransitionRefusal.Code? = nil, owner: String? = nil) {
        self.code = code
        self.message = message
        self.refusal = refusal
        self.owner = owner
    }

    public var description: String { message }

    static func from(_ refusal: TransitionRefusal) -> EngineError {
        let code: Code = refusal.code == .unknownTicket ? .notFound : .conflict
        return EngineError(code, refusal.message, refusal: refusal.code)
    }
}
