/// One problem found by C1 validation, naming the field or task it concerns.
public struct ValidationProblem: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A stable machine-readable code, e.g. `dependency_cycle`.
    public var code: Code
    /// The offending field as a path, e.g. `tasks[2].dependencies`.
    public var field: String
    /// The task concerned, when there is one.
    public var taskId: String?
    /// A readable explanation.
    public var message: String

    public init(_ code: Code, field: String, taskId: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.taskId = taskId
        self.message = message
    }

    public var description: String {
        if let taskId { return "\(field) (task \(taskId)): \(message)" }
        return "\(field): \(message)"
    }

    enum CodingKeys: String, CodingKey {
        case code, field, message
        case taskId = "task_id"
    }

    /// Problem codes.
    public enum Code: String, Sendable, Codable, CaseIterable {
        case missingField = "missing_field"
        case invalidValue = "invalid_value"
        case expired
        case duplicateTaskId = "duplicate_task_id"
        case unknownDependency = "unknown_dependency"
        case selfDependency = "self_dependency"
        case dependencyCycle = "dependency_cycle"
        case executionOrderMismatch = "execution_order_mismatch"
        case executionOrderViolatesDependencies = "execution_order_violates_dependencies"
        case limitExceeded = "limit_exceeded"
        case planMismatch = "plan_mismatch"
        case unreadablePlan = "unreadable_plan"
    }
}

/// The audited result of C1: every problem at once, plus the non-fatal notes.
public struct ValidationReport: Sendable, Equatable, Codable {
    public var problems: [ValidationProblem]
    /// Normalisations applied and other non-fatal observations (e.g. a derived `execution_order`).
    public var warnings: [String]
    /// Cycles found, each as the task ids along it, the first repeated at the end.
    public var cycles: [[String]]
    public var validatedAt: EpochMillis

    public var isValid: Bool { problems.isEmpty }

    public init(
        problems: [ValidationProblem] = [],
        warnings: [String] = [],
        cycles: [[String]] = [],
        validatedAt: EpochMillis
    ) {
        self.problems = problems
        self.warnings = warnings
        self.cycles = cycles
        self.validatedAt = validatedAt
    }

    enum CodingKeys: String, CodingKey {
        case problems, warnings, cycles
        case validatedAt = "validated_at"
        case isValid = "valid"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        problems = try c.decode([ValidationProblem].self, forKey: .problems)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
        cycles = try c.decodeIfPresent([[String]].self, forKey: .cycles) ?? []
        validatedAt = try c.decode(EpochMillis.self, forKey: .validatedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(isValid, forKey: .isValid)
        try c.encode(problems, forKey: .problems)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(cycles, forKey: .cycles)
        try c.encode(validatedAt, forKey: .validatedAt)
    }
}

extension ValidationReport {
    /// Most entries of each list a workflow's state keeps (``bounded(_:)``).
    public static let keptInState = 50

    /// The report with at most `limit` problems, warnings and cycles each, and a last warning that
    /// counts what was left out. A workflow's state keeps this form, so that a plan of 100 000
    /// tasks with a warning each does not make every transition rewrite 100 000 warnings; the
    /// complete report is kept once, as the workflow's audit record.
    public func bounded(_ limit: Int = ValidationReport.keptInState) -> ValidationReport {
        guard problems.count > limit || warnings.count > limit || cycles.count > limit else { return self }
        var kept = ValidationReport(
            problems: Array(problems.prefix(limit)),
            warnings: Array(warnings.prefix(limit)),
            cycles: Array(cycles.prefix(limit)),
            validatedAt: validatedAt
        )
        let omitted = [
            (problems.count - kept.problems.count, "problem(s)"),
            (warnings.count - kept.warnings.count, "warning(s)"),
            (cycles.count - kept.cycles.count, "cycle(s)"),
        ].filter { $0.0 > 0 }.map { "\($0.0) more \($0.1)" }
        kept.warnings.append(
            "\(omitted.joined(separator: ", ")) not shown here: the complete report is the workflow's audit record"
        )
        return kept
    }
}
