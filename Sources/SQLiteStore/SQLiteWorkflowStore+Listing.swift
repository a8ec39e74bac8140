import OrchestratorCore
import OrchestratorStore
import SQLiteDB

/// Listings with optional filters. Each combination of filters yields one constant statement text,
/// so the prepared statements stay cached and every filter can use its index.
extension SQLiteWorkflowStore {
    /// Workflow summaries, newest first (`created_at` descending, then `workflow_id` ascending).
    public func listWorkflows(_ filter: WorkflowFilter) throws -> [WorkflowSummary] {
        var query = FilteredQuery()
        query.add("status = ?", filter.status.map { .text($0.rawValue) })
        query.add("plan_id = ?", filter.planId.map { .text($0) })
        query.add("decision_id = ?", filter.decisionId.map { .text($0) })
        let sql = query.sql(
            select: """
                SELECT workflow_id, decision_id, plan_id, status, risk_band, ticket_count, created_at, updated_at,
                    completed_at FROM workflows
                """,
            orderBy: "created_at DESC, workflow_id"
        )
        return try connection.query(sql, query.bindings(limit: filter.limit, offset: filter.offset)).map {
            try summary($0)
        }
    }

    /// A plan's tickets in position order, optionally with one wire status only.
    public func tickets(planId: String, status: TicketStatus?, limit: Int, offset: Int) throws -> [TicketRecord] {
        var query = FilteredQuery()
        query.add("plan_id = ?", .text(planId))
        query.add("status = ?", status.map { .text($0.rawValue) })
        let sql = query.sql(select: "SELECT ticket_id, record FROM tickets", orderBy: "position, ticket_id")
        return try connection.query(sql, query.bindings(limit: limit, offset: offset)).map { row in
            try decode(TicketRecord.self, try row.string(1), table: "tickets", key: try row.string(0))
        }
    }

    /// Incidents, oldest first.
    public func incidents(_ filter: IncidentFilter) throws -> [OrchestrationIncident] {
        var query = FilteredQuery()
        query.add("workflow_id = ?", filter.workflowId.map { .text($0) })
        query.add("incident_type = ?", filter.type.map { .text($0.rawValue) })
        let sql = query.sql(select: "SELECT incident_id, body FROM incidents", orderBy: "created_at, incident_id")
        return try connection.query(sql, query.bindings(limit: filter.limit, offset: filter.offset)).map { row in
            try decode(OrchestrationIncident.self, try row.string(1), table: "incidents", key: try row.string(0))
        }
    }

    private func summary(_ row: SQLiteRow) throws -> WorkflowSummary {
        let workflowId = try row.string(0)
        return WorkflowSummary(
            workflowId: workflowId,
            decisionId: try row.string(1),
            planId: try row.string(2),
            status: try parse(WorkflowStatus.self, try row.string(3), table: "workflows", key: workflowId),
            riskBand: try row.optionalString(4).map {
                try parse(RiskBand.self, $0, table: "workflows", key: workflowId)
            },
            ticketCount: try row.int(5),
            createdAt: try row.int64(6),
            updatedAt: try row.int64(7),
            completedAt: try row.optionalInt64(8)
        )
    }
}

/// A `SELECT` whose `WHERE` clause holds only the filters that are set.
private struct FilteredQuery {
    private var conditions: [String] = []
    private var values: [SQLiteValue] = []

    /// Adds `condition` (with one `?`) when `value` is not `nil`.
    mutating func add(_ condition: String, _ value: SQLiteValue?) {
        guard let value else { return }
        conditions.append(condition)
        values.append(value)
    }

    func sql(select: String, orderBy: String) -> String {
        let filters = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return select + filters + " ORDER BY " + orderBy + " LIMIT ? OFFSET ?"
    }

    /// The filter values, then the page (a negative limit or offset counts as 0).
    func bindings(limit: Int, offset: Int) -> [SQLiteValue] {
        values + [.integer(Int64(max(0, limit))), .integer(Int64(max(0, offset)))]
    }
}
