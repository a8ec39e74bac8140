/// A readiness check beyond the built-in database and engine checks (e.g. the Kafka sink):
/// `/ready` answers 503 while any check reports a problem, and lists every check's state.
public struct ReadinessCheck: Sendable {
    /// The key in `/ready`'s `checks` object.
    public var name: String
    /// `nil` when healthy, else the reason it is not.
    public var problem: @Sendable () async -> String?

    public init(name: String, problem: @escaping @Sendable () async -> String?) {
        self.name = name
        self.problem = problem
    }
}
