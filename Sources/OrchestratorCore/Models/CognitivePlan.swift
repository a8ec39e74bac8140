import Foundation

/// A cognitive plan (`cognitive-plan.avsc`, 23 fields): a DAG of tasks with a risk band.
///
/// Decoding is tolerant of what real producers send (see CONTRACTS.md): unknown keys are ignored,
/// enumerations are kept as sent (validated in C1), map values may be any JSON, and the plan may
/// be wrapped as `{plan_id, intent_id, plan_data: {...}, hash}`. A missing required field decodes
/// as empty and is reported by validation, so that every problem is listed at once.
public struct CognitivePlan: Sendable, Equatable, Codable {
    public var planId: String
    public var version: String
    public var intentId: String
    public var correlationId: String?
    public var traceId: String?
    public var spanId: String?
    public var tasks: [PlanTask]
    /// `nil` when the producer omitted it; derived by validation.
    public var executionOrder: [String]?
    public var riskScore: Double
    /// As sent (`low | medium | high | critical`, any case); see ``riskBand``.
    public var riskBandText: String
    public var riskFactors: [String: Double]
    public var explainabilityToken: String
    public var reasoningSummary: String
    public var status: String
    public var createdAt: EpochMillis
    public var validUntil: EpochMillis?
    public var estimatedTotalDurationMs: Int64?
    public var complexityScore: Double
    public var originalDomain: String
    public var originalPriority: String
    public var originalSecurityLevel: String
    public var metadata: [String: String]
    public var requiresApproval: Bool
    public var approvalStatus: String?
    public var approvedBy: String?
    public var approvedAt: EpochMillis?
    public var isDestructive: Bool
    public var destructiveTasks: [String]
    public var riskMatrix: [String: Double]?
    public var schemaVersion: Int

    /// The parsed risk band, `nil` when missing or unknown.
    public var riskBand: RiskBand? { RiskBand(lenient: riskBandText) }

    public init(
        planId: String,
        intentId: String = "",
        tasks: [PlanTask],
        executionOrder: [String]? = nil,
        riskScore: Double = 0,
        riskBand: RiskBand = .low,
        createdAt: EpochMillis = 0,
        validUntil: EpochMillis? = nil,
        originalDomain: String = "TECHNICAL",
        originalPriority: String = "NORMAL",
        originalSecurityLevel: String = "INTERNAL"
    ) {
        self.planId = planId
        self.version = "1.0.0"
        self.intentId = intentId
        self.tasks = tasks
        self.executionOrder = executionOrder
        self.riskScore = riskScore
        self.riskBandText = riskBand.rawValue
        self.riskFactors = [:]
        self.explainabilityToken = ""
        self.reasoningSummary = ""
        self.status = "validated"
        self.createdAt = createdAt
        self.validUntil = validUntil
        self.complexityScore = 0
        self.originalDomain = originalDomain
        self.originalPriority = originalPriority
        self.originalSecurityLevel = originalSecurityLevel
        self.metadata = [:]
        self.requiresApproval = false
        self.isDestructive = false
        self.destructiveTasks = []
        self.schemaVersion = 1
    }

    enum CodingKeys: String, CodingKey {
        case planId = "plan_id"
        case version
        case intentId = "intent_id"
        case correlationId = "correlation_id"
        case traceId = "trace_id"
        case spanId = "span_id"
        case tasks
        case executionOrder = "execution_order"
        case riskScore = "risk_score"
        case riskBandText = "risk_band"
        case riskFactors = "risk_factors"
        case explainabilityToken = "explainability_token"
        case reasoningSummary = "reasoning_summary"
        case status
        case createdAt = "created_at"
        case validUntil = "valid_until"
        case estimatedTotalDurationMs = "estimated_total_duration_ms"
        case complexityScore = "complexity_score"
        case originalDomain = "original_domain"
        case originalPriority = "original_priority"
        case originalSecurityLevel = "original_security_level"
        case metadata
        case requiresApproval = "requires_approval"
        case approvalStatus = "approval_status"
        case approvedBy = "approved_by"
        case approvedAt = "approved_at"
        case isDestructive = "is_destructive"
        case destructiveTasks = "destructive_tasks"
        case riskMatrix = "risk_matrix"
        case schemaVersion = "schema_version"
        case planData = "plan_data"
    }

    public init(from decoder: any Decoder) throws {
        let outer = try decoder.container(keyedBy: CodingKeys.self)
        // The `plan_data` wrapper: the plan's fields live one level down; the wrapper's own ids and
        // timestamps count only where the inner plan lacks them.
        if outer.contains(.planData), try !outer.decodeNil(forKey: .planData) {
            var inner = try outer.decode(CognitivePlan.self, forKey: .planData)
            if inner.planId.isEmpty { inner.planId = try outer.identifier(.planId) ?? "" }
            if inner.intentId.isEmpty { inner.intentId = try outer.identifier(.intentId) ?? "" }
            if inner.correlationId == nil { inner.correlationId = try outer.lenientString(.correlationId) }
            if inner.createdAt == 0 { inner.createdAt = try outer.timestamp(.createdAt) ?? 0 }
            if inner.validUntil == nil { inner.validUntil = try outer.timestamp(.validUntil) }
            self = inner
            return
        }
        let c = outer
        planId = try c.identifier(.planId) ?? ""
        version = try c.lenientString(.version) ?? "1.0.0"
        intentId = try c.identifier(.intentId) ?? ""
        correlationId = try c.lenientString(.correlationId)
        traceId = try c.lenientString(.traceId)
        spanId = try c.lenientString(.spanId)
        tasks = try c.decodeIfPresent([PlanTask].self, forKey: .tasks) ?? []
        executionOrder =
            c.contains(.executionOrder) && (try? c.decodeNil(forKey: .executionOrder)) == false
            ? try c.lenientStrings(.executionOrder) : nil
        riskScore = try c.lenientDouble(.riskScore) ?? 0
        riskBandText = try c.lenientString(.riskBandText) ?? ""
        riskFactors = try c.decodeIfPresent([String: Double].self, forKey: .riskFactors) ?? [:]
        explainabilityToken = try c.lenientString(.explainabilityToken) ?? ""
        reasoningSummary = try c.lenientString(.reasoningSummary) ?? ""
        status = try c.lenientString(.status) ?? "draft"
        createdAt = try c.timestamp(.createdAt) ?? 0
        validUntil = try c.timestamp(.validUntil)
        estimatedTotalDurationMs = try c.lenientInt64(.estimatedTotalDurationMs)
        complexityScore = try c.lenientDouble(.complexityScore) ?? 0
        originalDomain = try c.lenientString(.originalDomain) ?? ""
        originalPriority = try c.lenientString(.originalPriority) ?? ""
        originalSecurityLevel = try c.lenientString(.originalSecurityLevel) ?? ""
        metadata = try c.lenientMap(.metadata)
        requiresApproval = try c.lenientBool(.requiresApproval) ?? false
        approvalStatus = try c.lenientString(.approvalStatus)
        approvedBy = try c.lenientString(.approvedBy)
        approvedAt = try c.timestamp(.approvedAt)
        isDestructive = try c.lenientBool(.isDestructive) ?? false
        destructiveTasks = try c.lenientStrings(.destructiveTasks)
        riskMatrix = try c.decodeIfPresent([String: Double].self, forKey: .riskMatrix)
        schemaVersion = Int(try c.lenientInt64(.schemaVersion) ?? 1)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(planId, forKey: .planId)
        try c.encode(version, forKey: .version)
        try c.encode(intentId, forKey: .intentId)
        try c.encode(correlationId, forKey: .correlationId)
        try c.encode(traceId, forKey: .traceId)
        try c.encode(spanId, forKey: .spanId)
        try c.encode(tasks, forKey: .tasks)
        try c.encodeIfPresent(executionOrder, forKey: .executionOrder)
        try c.encode(riskScore, forKey: .riskScore)
        try c.encode(riskBandText, forKey: .riskBandText)
        try c.encode(riskFactors, forKey: .riskFactors)
        try c.encode(explainabilityToken, forKey: .explainabilityToken)
        try c.encode(reasoningSummary, forKey: .reasoningSummary)
        try c.encode(status, forKey: .status)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(validUntil, forKey: .validUntil)
        try c.encode(estimatedTotalDurationMs, forKey: .estimatedTotalDurationMs)
        try c.encode(complexityScore, forKey: .complexityScore)
        try c.encode(originalDomain, forKey: .originalDomain)
        try c.encode(originalPriority, forKey: .originalPriority)
        try c.encode(originalSecurityLevel, forKey: .originalSecurityLevel)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(requiresApproval, forKey: .requiresApproval)
        try c.encode(approvalStatus, forKey: .approvalStatus)
        try c.encode(approvedBy, forKey: .approvedBy)
        try c.encode(approvedAt, forKey: .approvedAt)
        try c.encode(isDestructive, forKey: .isDestructive)
        try c.encode(destructiveTasks, forKey: .destructiveTasks)
        try c.encode(riskMatrix, forKey: .riskMatrix)
        try c.encode(schemaVersion, forKey: .schemaVersion)
    }
}
