/// The full state of one workflow: what the store persists and the state machine evolves.
public struct WorkflowState: Sendable, Equatable, Codable {
    public var workflowId: String
    public var decisionId: String
    public var planId: String
    public var intentId: String
    public var correlationId: String?
    public var traceId: String?
    public var spanId: String?
    public var status: WorkflowStatus
    public var riskBand: RiskBand?
    public var createdAt: EpochMillis
    public var updatedAt: EpochMillis
    /// When tickets were first released.
    public var startedAt: EpochMillis?
    public var completedAt: EpochMillis?
    /// The C1 result (audited).
    public var validation: ValidationReport?
    /// Tickets in topological order; compensation tickets are appended as they are planned.
    public var tickets: [TicketRecord]
    /// Filled by C5 when the workflow ends.
    public var metrics: WorkflowMetrics?
    /// Why the workflow was rejected, cancelled or failed, when it was.
    public var reason: String?
    /// Who approved, rejected or cancelled it.
    public var actor: String?
    /// Number of events applied (the sequence number of the last history entry).
    public var eventCount: Int
    /// Incidents raised so far (ids), so that replay can be compared.
    public var incidentCount: Int
    /// The decision of a workflow waiting for its plan (its gate, expiry and trace apply once the
    /// plan arrives).
    public var pendingDecision: ConsolidatedDecision?

    public init(workflowId: String, decisionId: String, planId: String, intentId: String, createdAt: EpochMillis) {
        self.workflowId = workflowId
        self.decisionId = decisionId
        self.planId = planId
        self.intentId = intentId
        self.status = .WAITING_FOR_PLAN
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.tickets = []
        self.eventCount = 0
        self.incidentCount = 0
    }

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case decisionId = "decision_id"
        case planId = "plan_id"
        case intentId = "intent_id"
        case correlationId = "correlation_id"
        case traceId = "trace_id"
        case spanId = "span_id"
        case status
        case riskBand = "risk_band"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case completedAt = "completed_at"
        case validation
        case tickets
        case metrics
        case reason
        case actor
        case eventCount = "event_count"
        case incidentCount = "incident_count"
        case pendingDecision = "pending_decision"
    }

    /// Index of a ticket by id (linear; the state machine keeps its own index for hot paths).
    public func index(of ticketId: String) -> Int? {
        tickets.firstIndex { $0.ticketId == ticketId }
    }
}
