import OrchestratorCore

/// A workflow as `GET /api/v1/workflows/{workflow_id}` shows it. Optional fields are written as
/// `null` so that clients see every field.
struct WorkflowView: Encodable {
    var state: WorkflowState

    init(_ state: WorkflowState) {
        self.state = state
    }

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case decisionId = "decision_id"
        case planId = "plan_id"
        case intentId = "intent_id"
        case correlationId = "correlation_id"
        case traceId = "trace_id"
        case status
        case riskBand = "risk_band"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case completedAt = "completed_at"
        case reason, actor, metrics, validation, tickets
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state.workflowId, forKey: .workflowId)
        try c.encode(state.decisionId, forKey: .decisionId)
        try c.encode(state.planId, forKey: .planId)
        try c.encode(state.intentId, forKey: .intentId)
        try c.encode(state.correlationId, forKey: .correlationId)
        try c.encode(state.traceId, forKey: .traceId)
        try c.encode(state.status, forKey: .status)
        try c.encode(state.riskBand, forKey: .riskBand)
        try c.encode(state.createdAt, forKey: .createdAt)
        try c.encode(state.updatedAt, forKey: .updatedAt)
        try c.encode(state.startedAt, forKey: .startedAt)
        try c.encode(state.completedAt, forKey: .completedAt)
        try c.encode(state.reason, forKey: .reason)
        try c.encode(state.actor, forKey: .actor)
        try c.encode(state.metrics, forKey: .metrics)
        try c.encode(state.validation, forKey: .validation)
        try c.encode(state.tickets.map(TicketSummary.init), forKey: .tickets)
    }
}
