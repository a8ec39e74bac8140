import OrchestratorCore

/// One ticket of a ``WorkflowView``. Fields are read at the top level of each entry, or inside a
/// nested `ticket` object.
public struct TicketView: Sendable, Equatable, Codable {
    public var ticketId: String
    public var taskId: String
    public var taskType: String
    /// The wire status (`PENDING`, `RUNNING`, `COMPLETED`, …).
    public var status: String
    /// The engine's finer phase (`WAITING`, `READY`, `LEASED`, `RETRY_WAIT`, …), when sent.
    public var phase: String?
    public var retryCount: Int
    public var workerId: String?
    public var errorMessage: String?
    public var actualDurationMs: Int64?
    public var compensationTicketId: String?

    public init(ticketId: String, taskId: String, taskType: String, status: String, retryCount: Int = 0) {
        self.ticketId = ticketId
        self.taskId = taskId
        self.taskType = taskType
        self.status = status
        self.retryCount = retryCount
    }

    /// Whether this is a saga compensation ticket.
    public var isCompensation: Bool { taskType == TaskType.COMPENSATE.rawValue }

    enum CodingKeys: String, CodingKey {
        case ticketId = "ticket_id"
        case taskId = "task_id"
        case taskType = "task_type"
        case status
        case phase
        case retryCount = "retry_count"
        case workerId = "worker_id"
        case errorMessage = "error_message"
        case actualDurationMs = "actual_duration_ms"
        case compensationTicketId = "compensation_ticket_id"
    }

    public init(from decoder: any Decoder) throws {
        guard let view = TicketView(json: try JSONValue(from: decoder)) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "ticket_id: required field is missing")
            )
        }
        self = view
    }

    init?(json: JSONValue) {
        let nested = json.member("ticket")
        func field(_ key: CodingKeys) -> JSONValue? {
            if let value = json.member(key.rawValue), value != .null { return value }
            return nested?.member(key.rawValue)
        }
        guard let ticketId = field(.ticketId)?.scalarText else { return nil }
        self.ticketId = ticketId
        taskId = field(.taskId)?.scalarText ?? ""
        taskType = field(.taskType)?.scalarText ?? ""
        status = field(.status)?.scalarText ?? ""
        phase = field(.phase)?.scalarText
        retryCount = Int(field(.retryCount)?.integer ?? 0)
        workerId = field(.workerId)?.scalarText
        errorMessage = field(.errorMessage)?.scalarText
        actualDurationMs = field(.actualDurationMs)?.integer
        compensationTicketId = field(.compensationTicketId)?.scalarText
    }
}
