import Foundation

/// A metadata value of a telemetry event: `null | string | int | long | boolean` in the schema.
public enum TelemetryValue: Sendable, Equatable, Codable {
    case null
    case string(String)
    case int(Int32)
    case long(Int64)
    case boolean(Bool)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(Bool.self) {
            self = .boolean(value)
        } else if let value = try? c.decode(Int64.self) {
            self = Int32(exactly: value).map(TelemetryValue.int) ?? .long(value)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .string(let value): try c.encode(value)
        case .int(let value): try c.encode(value)
        case .long(let value): try c.encode(value)
        case .boolean(let value): try c.encode(value)
        }
    }
}

/// A Flow C step event (`flow-c-telemetry.avsc`), published on `telemetry-flow-c`.
public struct FlowCTelemetryEvent: Sendable, Equatable, Codable {
    public var eventType: FlowCEventType
    public var timestamp: EpochMillis
    public var intentId: String?
    public var planId: String?
    public var decisionId: String?
    public var workflowId: String?
    public var correlationId: String?
    public var traceId: String?
    public var spanId: String?
    public var step: String?
    public var ticketId: String?
    public var taskType: String?
    public var workerId: String?
    public var durationMs: Int64?
    public var status: String?
    public var success: Bool?
    public var slaCompliant: Bool?
    public var ticketIds: [String]
    public var error: String?
    public var errorType: String?
    public var result: [String: String]?
    public var metadata: [String: TelemetryValue]
    public var schemaVersion: Int

    public init(eventType: FlowCEventType, timestamp: EpochMillis) {
        self.eventType = eventType
        self.timestamp = timestamp
        self.ticketIds = []
        self.metadata = [:]
        self.schemaVersion = 1
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type"
        case timestamp
        case intentId = "intent_id"
        case planId = "plan_id"
        case decisionId = "decision_id"
        case workflowId = "workflow_id"
        case correlationId = "correlation_id"
        case traceId = "trace_id"
        case spanId = "span_id"
        case step
        case ticketId = "ticket_id"
        case taskType = "task_type"
        case workerId = "worker_id"
        case durationMs = "duration_ms"
        case status
        case success
        case slaCompliant = "sla_compliant"
        case ticketIds = "ticket_ids"
        case error
        case errorType = "error_type"
        case result
        case metadata
        case schemaVersion = "schema_version"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(eventType, forKey: .eventType)
        try c.encode(timestamp, forKey: .timestamp)
        try c.encode(intentId, forKey: .intentId)
        try c.encode(planId, forKey: .planId)
        try c.encode(decisionId, forKey: .decisionId)
        try c.encode(workflowId, forKey: .workflowId)
        try c.encode(correlationId, forKey: .correlationId)
        try c.encode(traceId, forKey: .traceId)
        try c.encode(spanId, forKey: .spanId)
        try c.encode(step, forKey: .step)
        try c.encode(ticketId, forKey: .ticketId)
        try c.encode(taskType, forKey: .taskType)
        try c.encode(workerId, forKey: .workerId)
        try c.encode(durationMs, forKey: .durationMs)
        try c.encode(status, forKey: .status)
        try c.encode(success, forKey: .success)
        try c.encode(slaCompliant, forKey: .slaCompliant)
        try c.encode(ticketIds, forKey: .ticketIds)
        try c.encode(error, forKey: .error)
        try c.encode(errorType, forKey: .errorType)
        try c.encode(result, forKey: .result)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(schemaVersion, forKey: .schemaVersion)
    }
}

/// Consolidated figures of a finished workflow, carried by the final telemetry frame.
public struct WorkflowMetrics: Sendable, Equatable, Codable {
    public var total: Int
    public var successful: Int
    public var failed: Int
    public var compensated: Int
    public var skipped: Int
    public var retries: Int
    public var slaViolations: Int
    public var durationMs: Int64
    public var averageTicketDurationMs: Int64?

    public init(
        total: Int = 0,
        successful: Int = 0,
        failed: Int = 0,
        compensated: Int = 0,
        skipped: Int = 0,
        retries: Int = 0,
        slaViolations: Int = 0,
        durationMs: Int64 = 0,
        averageTicketDurationMs: Int64? = nil
    ) {
        self.total = total
        self.successful = successful
        self.failed = failed
        self.compensated = compensated
        self.skipped = skipped
        self.retries = retries
        self.slaViolations = slaViolations
        self.durationMs = durationMs
        self.averageTicketDurationMs = averageTicketDurationMs
    }

    enum CodingKeys: String, CodingKey {
        case total, successful, failed, compensated, skipped, retries
        case slaViolations = "sla_violations"
        case durationMs = "duration_ms"
        case averageTicketDurationMs = "average_ticket_duration_ms"
    }
}

/// The final frame on `telemetry.orchestration`: full correlation and the workflow's metrics.
public struct TelemetryFrame: Sendable, Equatable, Codable {
    public var correlationId: String?
    public var traceId: String?
    public var intentId: String
    public var planId: String
    public var decisionId: String
    public var workflowId: String
    public var status: String
    public var ticketIds: [String]
    public var metrics: WorkflowMetrics
    public var source: String
    public var timestamp: EpochMillis

    public init(
        correlationId: String?,
        traceId: String?,
        intentId: String,
        planId: String,
        decisionId: String,
        workflowId: String,
        status: String,
        ticketIds: [String],
        metrics: WorkflowMetrics,
        timestamp: EpochMillis
    ) {
        self.correlationId = correlationId
        self.traceId = traceId
        self.intentId = intentId
        self.planId = planId
        self.decisionId = decisionId
        self.workflowId = workflowId
        self.status = status
        self.ticketIds = ticketIds
        self.metrics = metrics
        self.source = "orchestrator-dynamic"
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey {
        case correlationId = "correlation_id"
        case traceId = "trace_id"
        case intentId = "intent_id"
        case planId = "plan_id"
        case decisionId = "decision_id"
        case workflowId = "workflow_id"
        case status
        case ticketIds = "ticket_ids"
        case metrics
        case source
        case timestamp
    }
}
