import OrchestratorCore

/// The consolidated result of a workflow (C5): its outcome, metrics and every ticket's result.
/// `finished` is false while tickets are still running; `metrics` is `null` until then.
struct WorkflowResultView: Encodable {
    var state: WorkflowState

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case decisionId = "decision_id"
        case planId = "plan_id"
        case correlationId = "correlation_id"
        case status, finished, metrics, reason, tickets
        case completedAt = "completed_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state.workflowId, forKey: .workflowId)
        try c.encode(state.decisionId, forKey: .decisionId)
        try c.encode(state.planId, forKey: .planId)
        try c.encode(state.correlationId, forKey: .correlationId)
        try c.encode(state.status, forKey: .status)
        try c.encode(state.status.isTerminal, forKey: .finished)
        try c.encode(state.metrics, forKey: .metrics)
        try c.encode(state.reason, forKey: .reason)
        try c.encode(state.completedAt, forKey: .completedAt)
        try c.encode(state.tickets.map(TicketResult.init), forKey: .tickets)
    }
}

/// One ticket's outcome inside a ``WorkflowResultView``.
struct TicketResult: Encodable {
    var record: TicketRecord

    init(_ record: TicketRecord) {
        self.record = record
    }

    enum CodingKeys: String, CodingKey {
        case ticketId = "ticket_id"
        case taskId = "task_id"
        case taskType = "task_type"
        case status, phase, result
        case errorMessage = "error_message"
        case actualDurationMs = "actual_duration_ms"
        case retryCount = "retry_count"
        case slaViolated = "sla_violated"
        case compensationTicketId = "compensation_ticket_id"
        case compensation
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let ticket = record.ticket
        try c.encode(ticket.ticketId, forKey: .ticketId)
        try c.encode(ticket.taskId, forKey: .taskId)
        try c.encode(ticket.taskType, forKey: .taskType)
        try c.encode(ticket.status, forKey: .status)
        try c.encode(record.phase, forKey: .phase)
        try c.encode(record.result, forKey: .result)
        try c.encode(ticket.errorMessage, forKey: .errorMessage)
        try c.encode(ticket.actualDurationMs, forKey: .actualDurationMs)
        try c.encode(ticket.retryCount, forKey: .retryCount)
        try c.encode(record.slaViolated, forKey: .slaViolated)
        try c.encode(ticket.compensationTicketId, forKey: .compensationTicketId)
        try c.encode(record.compensation, forKey: .compensation)
    }
}
