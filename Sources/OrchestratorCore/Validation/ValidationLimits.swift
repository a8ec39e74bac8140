/// Size limits enforced by C1. Every value is configurable; the defaults are documented in
/// docs/CONFIGURATION.md.
public struct ValidationLimits: Sendable, Equatable, Codable {
    /// Most tasks in one plan.
    public var maxTasks: Int = 100_000
    /// Most dependencies of one task.
    public var maxDependenciesPerTask: Int = 1_000
    /// Longest task id, in UTF-8 bytes.
    public var maxTaskIdBytes: Int = 256
    /// Longest task description, in UTF-8 bytes.
    public var maxDescriptionBytes: Int = 16_384
    /// Largest `parameters` + `metadata` of one task, keys and values in UTF-8 bytes.
    public var maxTaskPayloadBytes: Int = 65_536
    /// How many cycles are reported at most (each with its task ids).
    public var maxReportedCycles: Int = 10

    public init() {}
}
