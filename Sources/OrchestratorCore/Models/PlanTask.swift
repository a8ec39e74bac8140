import Foundation

/// One node of a plan's task DAG (`cognitive-plan.avsc` TaskNode), as producers send it.
///
/// Enumerated values (`task_type`) are kept as sent; C1 validation and C2 ticket generation
/// interpret them, so that a bad value is reported as a validation problem, not a parse failure.
public struct PlanTask: Sendable, Equatable, Codable {
    public var taskId: String
    public var taskType: String
    public var description: String
    public var dependencies: [String]
    public var estimatedDurationMs: Int64?
    public var requiredCapabilities: [String]
    public var parameters: [String: String]
    public var metadata: [String: String]

    public init(
        taskId: String,
        taskType: String = "EXECUTE",
        description: String = "",
        dependencies: [String] = [],
        estimatedDurationMs: Int64? = nil,
        requiredCapabilities: [String] = [],
        parameters: [String: String] = [:],
        metadata: [String: String] = [:]
    ) {
        self.taskId = taskId
        self.taskType = taskType
        self.description = description
        self.dependencies = dependencies
        self.estimatedDurationMs = estimatedDurationMs
        self.requiredCapabilities = requiredCapabilities
        self.parameters = parameters
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case taskId = "task_id"
        case taskType = "task_type"
        case description
        case dependencies
        case estimatedDurationMs = "estimated_duration_ms"
        case requiredCapabilities = "required_capabilities"
        case parameters
        case metadata
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        taskId = try c.lenientString(.taskId) ?? ""
        taskType = try c.lenientString(.taskType) ?? ""
        description = try c.lenientString(.description) ?? ""
        dependencies = try c.lenientStrings(.dependencies)
        estimatedDurationMs = try c.lenientInt64(.estimatedDurationMs)
        requiredCapabilities = try c.lenientStrings(.requiredCapabilities)
        parameters = try c.lenientMap(.parameters)
        metadata = try c.lenientMap(.metadata)
    }
}
