import OrchestratorCore

/// A workflow as `GET /api/v1/workflows/{id}` shows it. Decoding is lenient: unknown keys are
/// ignored, missing optional fields stay `nil`, numbers may arrive as strings.
public struct WorkflowView: Sendable, Equatable, Codable {
    public var workflowId: String
    /// The workflow status as sent (see ``workflowStatus``).
    public var status: String
    public var planId: String?
    public var decisionId: String?
    public var correlationId: String?
    public var riskBand: String?
    /// Why the workflow was rejected, cancelled or failed.
    public var reason: String?
    public var createdAt: EpochMillis?
    public var completedAt: EpochMillis?
    /// Filled once the workflow has ended.
    public var metrics: WorkflowMetrics?
    public var tickets: [TicketView]

    public init(workflowId: String, status: String, tickets: [TicketView] = []) {
        self.workflowId = workflowId
        self.status = status
        self.tickets = tickets
    }

    /// The status, `nil` when the server sent one this client does not know.
    public var workflowStatus: WorkflowStatus? { WorkflowStatus(rawValue: status) }
    /// Whether no further event changes the workflow.
    public var isTerminal: Bool { workflowStatus?.isTerminal ?? false }

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case status
        case planId = "plan_id"
        case decisionId = "decision_id"
        case correlationId = "correlation_id"
        case riskBand = "risk_band"
        case reason
        case createdAt = "created_at"
        case completedAt = "completed_at"
        case metrics
        case tickets
    }

    public init(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder)
        guard let workflowId = json.member(CodingKeys.workflowId.rawValue)?.scalarText else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "workflow_id: required field is missing")
            )
        }
        self.workflowId = workflowId
        status = json.member("status")?.scalarText ?? ""
        planId = json.member(CodingKeys.planId.rawValue)?.scalarText
        decisionId = json.member(CodingKeys.decisionId.rawValue)?.scalarText
        correlationId = json.member(CodingKeys.correlationId.rawValue)?.scalarText
        riskBand = json.member(CodingKeys.riskBand.rawValue)?.scalarText
        reason = json.member("reason")?.scalarText
        createdAt = json.member(CodingKeys.createdAt.rawValue)?.integer
        completedAt = json.member(CodingKeys.completedAt.rawValue)?.integer
        metrics = json.member("metrics").flatMap { try? $0.decoded(as: WorkflowMetrics.self) }
        if case .array(let items)? = json.member("tickets") {
            tickets = items.compactMap(TicketView.init(json:))
        } else {
            tickets = []
        }
    }
}
