import OrchestratorCore

/// A ticket as the API shows it: the contract's 35-field JSON plus where it is inside the engine
/// (`phase`, `workflow_id` when known, the lease holder and its expiry).
struct TicketView: Encodable {
    var record: TicketRecord
    var workflowId: String?

    enum ExtraKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case phase
        case workerId = "worker_id"
        case leaseExpiresAt = "lease_expires_at"
    }

    func encode(to encoder: any Encoder) throws {
        try record.ticket.encode(to: encoder)
        var extra = encoder.container(keyedBy: ExtraKeys.self)
        try extra.encodeIfPresent(workflowId, forKey: .workflowId)
        try extra.encode(record.phase, forKey: .phase)
        try extra.encode(record.workerId, forKey: .workerId)
        try extra.encode(record.leaseExpiresAt, forKey: .leaseExpiresAt)
    }
}

/// A ticket in a workflow view.
struct TicketSummary: Encodable {
    var ticketId: String
    var taskId: String
    var taskType: TaskType
    var status: TicketStatus
    var phase: TicketPhase
    var retryCount: Int
    var workerId: String?
    var startedAt: EpochMillis?
    var completedAt: EpochMillis?
    var compensationTicketId: String?
    var compensates: String?

    init(_ record: TicketRecord) {
        ticketId = record.ticketId
        taskId = record.ticket.taskId
        taskType = record.ticket.taskType
        status = record.ticket.status
        phase = record.phase
        retryCount = record.ticket.retryCount
        workerId = record.workerId
        startedAt = record.ticket.startedAt
        completedAt = record.ticket.completedAt
        compensationTicketId = record.ticket.compensationTicketId
        compensates = record.compensates
    }

    enum CodingKeys: String, CodingKey {
        case ticketId = "ticket_id"
        case taskId = "task_id"
        case taskType = "task_type"
        case status, phase
        case retryCount = "retry_count"
        case workerId = "worker_id"
        case startedAt = "started_at"
        case completedAt = "completed_at"
        case compensationTicketId = "compensation_ticket_id"
        case compensates
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ticketId, forKey: .ticketId)
        try c.encode(taskId, forKey: .taskId)
        try c.encode(taskType, forKey: .taskType)
        try c.encode(status, forKey: .status)
        try c.encode(phase, forKey: .phase)
        try c.encode(retryCount, forKey: .retryCount)
        try c.encode(workerId, forKey: .workerId)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(completedAt, forKey: .completedAt)
        try c.encode(compensationTicketId, forKey: .compensationTicketId)
        try c.encode(compensates, forKey: .compensates)
    }
}
