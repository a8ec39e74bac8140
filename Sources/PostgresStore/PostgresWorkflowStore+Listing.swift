import OrchestratorCore
import OrchestratorStore
import PostgresNIO

/// Listings with optional filters. Each combination of filters yields one constant statement text
/// holding only the conditions that are set, so every filter can use its index.
extension PostgresWorkflowStore {
    /// Workflow summaries, newest first (`created_at` descending, then `workflow_id` ascending).
    public func listWorkflows(_ filter: WorkflowFilter) async throws -> [WorkflowSummary] {
        var query = FilteredQuery()
        query.add("status", filter.status?.rawValue)
        query.add("plan_id", filter.planId)
        query.add("decision_id", filter.decisionId)
        let sql = query.sql(
            select: """
                SELECT workflow_id, decision_id, plan_id, status, risk_band, ticket_count, created_at, updated_at,
                    completed_at FROM workflows
                """,
            orderBy: "created_at DESC, workflow_id"
        )
        let rows = try await rows(
            sql,
            query.bindings(limit: filter.limit, offset: filter.offset),
            doing: "listing workflows"
        )
        return try rows.map { try summary($0) }
    }

    /// A plan's tickets in position order, optionally with one wire status only.
    public func tickets(planId: String, status: TicketStatus?, limit: Int, offset: Int) async throws -> [TicketRecord] {
        var query = FilteredQuery()
        query.add("plan_id", planId)
        query.add("status", status?.rawValue)
        let sql = query.sql(select: "SELECT ticket_id, record FROM tickets", orderBy: "position, ticket_id")
        let rows = try await rows(
            sql,
            query.bindings(limit: limit, offset: offset),
            doing: "listing tickets of \(planId)"
        )
        return try rows.map { row in
            let (ticketId, record) = try row.decode((String, String).self)
            return try decode(TicketRecord.self, record, table: "tickets", key: ticketId)
        }
    }

    /// Incidents, oldest first.
    public func incidents(_ filter: IncidentFilter) async throws -> [OrchestrationIncident] {
        var query = FilteredQuery()
        query.add("workflow_id", filter.workflowId)
        query.add("incident_type", filter.type?.rawValue)
        let sql = query.sql(select: "SELECT incident_id, body FROM incidents", orderBy: "created_at, incident_id")
        let rows = try await rows(
            sql,
            query.bindings(limit: filter.limit, offset: filter.offset),
            doing: "listing incidents"
        )
        return try rows.map { row in
            let (incidentId, body) = try row.decode((String, String).self)
            return try decode(OrchestrationIncident.self, body, table: "incidents", key: incidentId)
        }
    }

    private func summary(_ row: PostgresRow) throws -> WorkflowSummary {
        let (workflowId, decisionId, planId, status, riskBand, ticketCount, createdAt, updatedAt, completedAt) =
            try row.decode((String, String, String, String, String?, Int, Int64, Int64, Int64?).self)
        return WorkflowSummary(
            workflowId: workflowId,
            decisionId: decisionId,
            planId: planId,
            status: try parse(WorkflowStatus.self, status, table: "workflows", key: workflowId),
            riskBand: try riskBand.map { try parse(RiskBand.self, $0, table: "workflows", key: workflowId) },
            ticketCount: ticketCount,
            createdAt: createdAt,
            updatedAt: updatedAt,
            completedAt: completedAt
        )
    }
}

/// A `SELECT` whose `WHERE` clause holds only the filters that are set, as `column = $n`.
private struct FilteredQuery {
    private var conditions: [String] = []
    private var values: [String] = []

    /// Adds `column = $n` when `value` is not `nil`. `column` is a constant of the caller.
    mutating func add(_ column: String, _ value: String?) {
        guard let value else { return }
        values.append(value)
        conditions.append("\(column) = $\(values.count)")
    }

    func sql(select: String, orderBy: String) -> String {
        let filters = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let limit = values.count + 1
        return select + filters + " ORDER BY " + orderBy + " LIMIT $\(limit) OFFSET $\(limit + 1)"
    }

    /// The filter values, then the page (a negative limit or offset counts as 0).
    func bindings(limit: Int, offset: Int) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count + 2)
        for value in values { bindings.append(value) }
        bindings.append(Int64(max(0, limit)))
        bindings.append(Int64(max(0, offset)))
        return bindings
    }
}
