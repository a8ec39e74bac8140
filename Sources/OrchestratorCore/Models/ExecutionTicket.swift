import Foundation

/// A ticket's SLA.
public struct SLA: Sendable, Equatable, Codable, Hashable {
    public var deadline: EpochMillis
    public var timeoutMs: Int64
    public var maxRetries: Int

    public init(deadline: EpochMillis, timeoutMs: Int64, maxRetries: Int) {
        self.deadline = deadline
        self.timeoutMs = timeoutMs
        self.maxRetries = maxRetries
    }

    enum CodingKeys: String, CodingKey {
        case deadline
        case timeoutMs = "timeout_ms"
        case maxRetries = "max_retries"
    }
}

/// A ticket's quality of service.
public struct QoS: Sendable, Equatable, Codable, Hashable {
    public var deliveryMode: DeliveryMode
    public var consistency: Consistency
    public var durability: Durability

    public init(deliveryMode: DeliveryMode, consistency: Consistency, durability: Durability) {
        self.deliveryMode = deliveryMode
        self.consistency = consistency
        self.durability = durability
    }

    enum CodingKeys: String, CodingKey {
        case deliveryMode = "delivery_mode"
        case consistency
        case durability
    }
}

/// An execution ticket (`execution-ticket.avsc`: 29 fields + SLA 3 + QoS 3 = 35).
public struct ExecutionTicket: Sendable, Equatable, Codable {
    public var ticketId: String
    public var planId: String
    public var intentId: String
    public var decisionId: String
    public var correlationId: String?
    public var traceId: String?
    public var spanId: String?
    public var taskId: String
    public var taskType: TaskType
    public var description: String
    /// Ticket ids this ticket waits for.
    public var dependencies: [String]
    public var status: TicketStatus
    public var priority: Priority
    public var riskBand: RiskBand
    public var sla: SLA
    public var qos: QoS
    public var parameters: [String: String]
    public var requiredCapabilities: [String]
    public var securityLevel: SecurityLevel
    public var createdAt: EpochMillis
    public var startedAt: EpochMillis?
    public var completedAt: EpochMillis?
    public var estimatedDurationMs: Int64?
    public var actualDurationMs: Int64?
    public var retryCount: Int
    public var errorMessage: String?
    public var compensationTicketId: String?
    public var metadata: [String: String]
    public var schemaVersion: Int

    public init(
        ticketId: String,
        planId: String,
        intentId: String,
        decisionId: String,
        correlationId: String? = nil,
        traceId: String? = nil,
        spanId: String? = nil,
        taskId: String,
        taskType: TaskType,
        description: String,
        dependencies: [String],
        status: TicketStatus = .PENDING,
        priority: Priority,
        riskBand: RiskBand,
        sla: SLA,
        qos: QoS,
        parameters: [String: String] = [:],
        requiredCapabilities: [String] = [],
        securityLevel: SecurityLevel,
        createdAt: EpochMillis,
        startedAt: EpochMillis? = nil,
        completedAt: EpochMillis? = nil,
        estimatedDurationMs: Int64? = nil,
        actualDurationMs: Int64? = nil,
        retryCount: Int = 0,
        errorMessage: String? = nil,
        compensationTicketId: String? = nil,
        metadata: [String: String] = [:],
        schemaVersion: Int = 1
    ) {
        self.ticketId = ticketId
        self.planId = planId
        self.intentId = intentId
        self.decisionId = decisionId
        self.correlationId = correlationId
        self.traceId = traceId
        self.spanId = spanId
        self.taskId = taskId
        self.taskType = taskType
        self.description = description
        self.dependencies = dependencies
        self.status = status
        self.priority = priority
        self.riskBand = riskBand
        self.sla = sla
        self.qos = qos
        self.parameters = parameters
        self.requiredCapabilities = requiredCapabilities
        self.securityLevel = securityLevel
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.estimatedDurationMs = estimatedDurationMs
        self.actualDurationMs = actualDurationMs
        self.retryCount = retryCount
        self.errorMessage = errorMessage
        self.compensationTicketId = compensationTicketId
        self.metadata = metadata
        self.schemaVersion = schemaVersion
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ticketId = "ticket_id"
        case planId = "plan_id"
        case intentId = "intent_id"
        case decisionId = "decision_id"
        case correlationId = "correlation_id"
        case traceId = "trace_id"
        case spanId = "span_id"
        case taskId = "task_id"
        case taskType = "task_type"
        case description
        case dependencies
        case status
        case priority
        case riskBand = "risk_band"
        case sla
        case qos
        case parameters
        case requiredCapabilities = "required_capabilities"
        case securityLevel = "security_level"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case completedAt = "completed_at"
        case estimatedDurationMs = "estimated_duration_ms"
        case actualDurationMs = "actual_duration_ms"
        case retryCount = "retry_count"
        case errorMessage = "error_message"
        case compensationTicketId = "compensation_ticket_id"
        case metadata
        case schemaVersion = "schema_version"
    }

    public func encode(to encoder: any Encoder) throws {
        // Explicit so that optional fields appear as `null` (the contract lists every field).
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ticketId, forKey: .ticketId)
        try c.encode(planId, forKey: .planId)
        try c.encode(intentId, forKey: .intentId)
        try c.encode(decisionId, forKey: .decisionId)
        try c.encode(correlationId, forKey: .correlationId)
        try c.encode(traceId, forKey: .traceId)
        try c.encode(spanId, forKey: .spanId)
        try c.encode(taskId, forKey: .taskId)
        try c.encode(taskType, forKey: .taskType)
        try c.encode(description, forKey: .description)
        try c.encode(dependencies, forKey: .dependencies)
        try c.encode(status, forKey: .status)
        try c.encode(priority, forKey: .priority)
        try c.encode(riskBand, forKey: .riskBand)
        try c.encode(sla, forKey: .sla)
        try c.encode(qos, forKey: .qos)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(requiredCapabilities, forKey: .requiredCapabilities)
        try c.encode(securityLevel, forKey: .securityLevel)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(completedAt, forKey: .completedAt)
        try c.encode(estimatedDurationMs, forKey: .estimatedDurationMs)
        try c.encode(actualDurationMs, forKey: .actualDurationMs)
        try c.encode(retryCount, forKey: .retryCount)
        try c.encode(errorMessage, forKey: .errorMessage)
        try c.encode(compensationTicketId, forKey: .compensationTicketId)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(schemaVersion, forKey: .schemaVersion)
    }
}
