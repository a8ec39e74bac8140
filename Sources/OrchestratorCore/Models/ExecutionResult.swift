import Foundation

/// The detailed outcome inside an ``ExecutionResult``.
public struct ExecutionResultPayload: Sendable, Equatable, Codable {
    public var success: Bool
    /// Output values as text; non-string values sent by workers (e.g. `exit_code: 0`) keep their JSON text.
    public var output: [String: String]
    public var metadata: [String: String]
    public var logs: [String]

    public init(success: Bool, output: [String: String] = [:], metadata: [String: String] = [:], logs: [String] = []) {
        self.success = success
        self.output = output
        self.metadata = metadata
        self.logs = logs
    }

    enum CodingKeys: String, CodingKey { case success, output, metadata, logs }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        success = try c.lenientBool(.success) ?? false
        output = try c.lenientMap(.output)
        metadata = try c.lenientMap(.metadata)
        logs = try c.lenientStrings(.logs)
    }
}

/// A worker's report (`execution-result.avsc`), from `execution.results` or the worker API.
public struct ExecutionResult: Sendable, Equatable, Codable {
    public var ticketId: String
    public var status: ExecutionStatus
    public var result: ExecutionResultPayload
    public var errorMessage: String?
    public var actualDurationMs: Int64?
    public var agentId: String
    public var timestamp: EpochMillis
    public var schemaVersion: Int

    public init(
        ticketId: String,
        status: ExecutionStatus,
        result: ExecutionResultPayload,
        errorMessage: String? = nil,
        actualDurationMs: Int64? = nil,
        agentId: String,
        timestamp: EpochMillis,
        schemaVersion: Int = 1
    ) {
        self.ticketId = ticketId
        self.status = status
        self.result = result
        self.errorMessage = errorMessage
        self.actualDurationMs = actualDurationMs
        self.agentId = agentId
        self.timestamp = timestamp
        self.schemaVersion = schemaVersion
    }

    enum CodingKeys: String, CodingKey {
        case ticketId = "ticket_id"
        case status
        case result
        case errorMessage = "error_message"
        case actualDurationMs = "actual_duration_ms"
        case agentId = "agent_id"
        case timestamp
        case schemaVersion = "schema_version"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ticketId = try c.checkedIdentifier(try c.decode(String.self, forKey: .ticketId), .ticketId)
        status = try c.decode(ExecutionStatus.self, forKey: .status)
        result =
            try c.decodeIfPresent(ExecutionResultPayload.self, forKey: .result)
            ?? ExecutionResultPayload(success: status == .COMPLETED)
        errorMessage = try c.lenientString(.errorMessage)
        actualDurationMs = try c.lenientInt64(.actualDurationMs)
        agentId = try c.lenientString(.agentId) ?? ""
        timestamp = try c.timestamp(.timestamp) ?? 0
        schemaVersion = Int(try c.lenientInt64(.schemaVersion) ?? 1)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ticketId, forKey: .ticketId)
        try c.encode(status, forKey: .status)
        try c.encode(result, forKey: .result)
        try c.encode(errorMessage, forKey: .errorMessage)
        try c.encode(actualDurationMs, forKey: .actualDurationMs)
        try c.encode(agentId, forKey: .agentId)
        try c.encode(timestamp, forKey: .timestamp)
        try c.encode(schemaVersion, forKey: .schemaVersion)
    }
}
