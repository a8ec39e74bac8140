import OrchestratorCore
import OrchestratorStore
import SQLiteDB

/// Reading workflows back: the row's state plus its ticket rows in position order.
extension SQLiteWorkflowStore {
    public func workflow(_ workflowId: String) throws -> StoredWorkflow? {
        // One read transaction, so the workflow row and its tickets come from the same snapshot.
        try connection.transaction(.deferred) {
            guard let row = try connection.queryFirst(SQL.workflow, [.text(workflowId)]) else { return nil }
            var tickets: [TicketRecord] = []
            try connection.forEach(SQL.ticketsOfWorkflow, [.text(workflowId)]) { ticket in
                try appendTicket(ticket, to: &tickets)
            }
            return try assemble(row, tickets: tickets)
        }
    }

    public func workflowId(forDecision decisionId: String) throws -> String? {
        try connection.queryFirst(SQL.workflowIdByDecision, [.text(decisionId)])?.string(0)
    }

    public func workflowExists(_ workflowId: String) throws -> Bool {
        try connection.queryFirst(SQL.workflowExists, [.text(workflowId)]) != nil
    }

    /// Every non-terminal workflow: one query for the workflows, one for their tickets.
    public func activeWorkflows() throws -> [StoredWorkflow] {
        try connection.transaction(.deferred) {
            var ticketsByWorkflow: [String: [TicketRecord]] = [:]
            try connection.forEach(SQL.activeTickets) { row in
                let workflowId = try row.string(0)
                try appendTicket(row, to: &ticketsByWorkflow[workflowId, default: []])
            }
            var workflows: [StoredWorkflow] = []
            try connection.forEach(SQL.activeWorkflows) { row in
                let tickets = ticketsByWorkflow.removeValue(forKey: try row.string(0)) ?? []
                workflows.append(try assemble(row, tickets: tickets))
            }
            return workflows
        }
    }

    public func workflowsWaiting(forPlan planId: String) throws -> [String] {
        try connection.query(SQL.waitingForPlan, [.text(planId)]).map { try $0.string(0) }
    }

    public func decision(ofWorkflow workflowId: String) throws -> ConsolidatedDecision? {
        guard let text = try connection.queryFirst(SQL.decision, [.text(workflowId)])?.optionalString(0) else {
            return nil
        }
        return try decode(ConsolidatedDecision.self, text, table: "workflows", key: workflowId)
    }

    public func history(_ workflowId: String, after: Int, limit: Int) throws -> [HistoryEntry] {
        let bindings: [SQLiteValue] = [.text(workflowId), .integer(Int64(after)), .integer(Int64(max(0, limit)))]
        return try connection.query(SQL.history, bindings).map { row in
            let sequence = try row.int(0)
            let event = try decode(
                TimedEvent.self,
                try row.string(1),
                table: "history",
                key: "\(workflowId)#\(sequence)"
            )
            return HistoryEntry(sequence: sequence, event: event)
        }
    }

    /// Appends the ticket of a `(workflow_id, ticket_id, position, record)` row, checking that
    /// positions are contiguous from 0.
    private func appendTicket(_ row: SQLiteRow, to tickets: inout [TicketRecord]) throws {
        let ticketId = try row.string(1)
        let position = try row.int(2)
        guard position == tickets.count else {
            throw StoreError.corrupt(
                "tickets row '\(ticketId)' of workflow '\(try row.string(0))' is at position \(position), "
                    + "expected \(tickets.count)"
            )
        }
        tickets.append(try decode(TicketRecord.self, try row.string(3), table: "tickets", key: ticketId))
    }

    /// A workflow from a `(workflow_id, version, ticket_count, state)` row and its tickets.
    private func assemble(_ row: SQLiteRow, tickets: [TicketRecord]) throws -> StoredWorkflow {
        let workflowId = try row.string(0)
        let ticketCount = try row.int(2)
        guard tickets.count == ticketCount else {
            throw StoreError.corrupt(
                "workflows row '\(workflowId)' has \(ticketCount) tickets but \(tickets.count) are stored"
            )
        }
        var state = try decode(WorkflowState.self, try row.string(3), table: "workflows", key: workflowId)
        state.tickets = tickets
        return StoredWorkflow(state: state, version: try row.int64(1))
    }
}

/// Statements of the workflow reads (constant text, so their prepared forms are cached).
private enum SQL {
    static let workflow = "SELECT workflow_id, version, ticket_count, state FROM workflows WHERE workflow_id = ?"
    static let ticketsOfWorkflow = """
        SELECT workflow_id, ticket_id, position, record FROM tickets WHERE workflow_id = ? ORDER BY position
        """
    static let workflowIdByDecision = "SELECT workflow_id FROM workflows WHERE decision_id = ?"
    static let workflowExists = "SELECT 1 FROM workflows WHERE workflow_id = ?"
    static let activeWorkflows = """
        SELECT workflow_id, version, ticket_count, state FROM workflows
        WHERE status IN (\(WorkflowStatusSQL.active)) ORDER BY created_at, workflow_id
        """
    static let activeTickets = """
        SELECT t.workflow_id, t.ticket_id, t.position, t.record FROM tickets t
        JOIN workflows w ON w.workflow_id = t.workflow_id
        WHERE w.status IN (\(WorkflowStatusSQL.active)) ORDER BY t.workflow_id, t.position
        """
    static let waitingForPlan = """
        SELECT workflow_id FROM workflows WHERE plan_id = ? AND status = 'WAITING_FOR_PLAN'
        ORDER BY created_at, workflow_id
        """
    static let decision = "SELECT decision FROM workflows WHERE workflow_id = ?"
    static let history = """
        SELECT sequence, event FROM history WHERE workflow_id = ? AND sequence > ? ORDER BY sequence LIMIT ?
        """
}
