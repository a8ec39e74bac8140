import OrchestratorCore
import OrchestratorStore
import PostgresNIO

/// Reading workflows back: the row's state plus its ticket rows in position order, read by one
/// statement so that both come from the same snapshot.
extension PostgresWorkflowStore {
    public func workflow(_ workflowId: String) async throws -> StoredWorkflow? {
        let rows = try await rows(SQL.workflow, binds(workflowId), doing: "reading workflow \(workflowId)")
        var workflows = try assemble(rows)
        return workflows.popLast()
    }

    public func workflowId(forDecision decisionId: String) async throws -> String? {
        try await rows(SQL.workflowIdByDecision, binds(decisionId), doing: "looking up decision \(decisionId)")
            .first?.decode(String.self)
    }

    public func workflowExists(_ workflowId: String) async throws -> Bool {
        try await !rows(SQL.workflowExists, binds(workflowId), doing: "looking up workflow \(workflowId)").isEmpty
    }

    /// Every non-terminal workflow, oldest first, with its tickets.
    public func activeWorkflows() async throws -> [StoredWorkflow] {
        try assemble(try await rows(SQL.activeWorkflows, doing: "reading the active workflows"))
    }

    /// The given workflows with their tickets, oldest first (missing ids are left out).
    func workflows(_ ids: [String]) async throws -> [StoredWorkflow] {
        try assemble(try await rows(SQL.workflowsByIds, binds(ids), doing: "reading \(ids.count) workflow(s)"))
    }

    public func workflowsWaiting(forPlan planId: String) async throws -> [String] {
        try await rows(SQL.waitingForPlan, binds(planId), doing: "reading workflows waiting for plan \(planId)")
            .map { try $0.decode(String.self) }
    }

    public func decision(ofWorkflow workflowId: String) async throws -> ConsolidatedDecision? {
        let rows = try await rows(SQL.decision, binds(workflowId), doing: "reading the decision of \(workflowId)")
        guard let row = rows.first, let text = try row.decode(String?.self) else { return nil }
        return try decode(ConsolidatedDecision.self, text, table: "workflows", key: workflowId)
    }

    public func history(_ workflowId: String, after: Int, limit: Int) async throws -> [HistoryEntry] {
        let rows = try await rows(
            SQL.history,
            binds(workflowId, Int64(after), Int64(max(0, limit))),
            doing: "reading the history of \(workflowId)"
        )
        return try rows.map { row in
            let (sequence, text) = try row.decode((Int, String).self)
            let event = try decode(TimedEvent.self, text, table: "history", key: "\(workflowId)#\(sequence)")
            return HistoryEntry(sequence: sequence, event: event)
        }
    }

    /// Workflows from rows of ``SQL/workflowColumns``: each workflow's row (kind 0) followed by its
    /// tickets (kind 1) in position order.
    private func assemble(_ rows: [PostgresRow]) throws -> [StoredWorkflow] {
        var workflows: [StoredWorkflow] = []
        var current: (id: String, version: Int64, ticketCount: Int, state: WorkflowState)?
        func finish() throws {
            guard let done = current else { return }
            guard done.state.tickets.count == done.ticketCount else {
                throw StoreError.corrupt(
                    "workflows row '\(done.id)' has \(done.ticketCount) tickets but \(done.state.tickets.count) are stored"
                )
            }
            workflows.append(StoredWorkflow(state: done.state, version: done.version))
            current = nil
        }
        for row in rows {
            let (kind, workflowId, position, version, ticketCount, key, body) = try row.decode(
                (Int, String, Int, Int64, Int, String, String).self
            )
            if kind == 0 {
                try finish()
                let state = try decode(WorkflowState.self, body, table: "workflows", key: workflowId)
                current = (workflowId, version, ticketCount, state)
                current?.state.tickets.reserveCapacity(ticketCount)
                continue
            }
            guard current?.id == workflowId else {
                throw StoreError.corrupt("tickets row '\(key)' belongs to no workflow being read")
            }
            guard position == current?.state.tickets.count else {
                throw StoreError.corrupt(
                    "tickets row '\(key)' of workflow '\(workflowId)' is at position \(position), "
                        + "expected \(current?.state.tickets.count ?? 0)"
                )
            }
            current?.state.tickets.append(try decode(TicketRecord.self, body, table: "tickets", key: key))
        }
        try finish()
        return workflows
    }
}

/// Statements of the workflow reads.
private enum SQL {
    /// `kind, workflow_id, position, version, ticket_count, key, body` of a workflow (kind 0, the
    /// state without tickets) and of its tickets (kind 1).
    static let workflow = """
        SELECT 0 AS kind, workflow_id, -1 AS position, version, ticket_count, workflow_id AS key, state AS body
        FROM workflows WHERE workflow_id = $1
        UNION ALL
        SELECT 1, workflow_id, position, 0, 0, ticket_id, record FROM tickets WHERE workflow_id = $1
        ORDER BY kind, position
        """
    static let workflowIdByDecision = "SELECT workflow_id FROM workflows WHERE decision_id = $1"
    static let workflowExists = "SELECT 1 FROM workflows WHERE workflow_id = $1"
    /// The same columns for every active workflow (oldest first), each followed by its tickets.
    static let activeWorkflows = workflows(where: "status IN (\(WorkflowStatusSQL.active))")
    /// The same columns for the workflows of an id list (`$1`).
    static let workflowsByIds = workflows(where: "workflow_id = ANY($1::text[])")

    /// The columns of ``workflow`` for the workflows matching `condition` (oldest first), each
    /// followed by its tickets.
    static func workflows(where condition: String) -> String {
        """
        WITH chosen AS (
            SELECT workflow_id, created_at, version, ticket_count, state FROM workflows WHERE \(condition)
        )
        SELECT kind, workflow_id, position, version, ticket_count, key, body FROM (
            SELECT 0 AS kind, c.created_at, c.workflow_id, -1 AS position, c.version, c.ticket_count,
                c.workflow_id AS key, c.state AS body
            FROM chosen c
            UNION ALL
            SELECT 1, c.created_at, t.workflow_id, t.position, 0, 0, t.ticket_id, t.record
            FROM chosen c JOIN tickets t ON t.workflow_id = c.workflow_id
        ) parts
        ORDER BY created_at, workflow_id, kind, position
        """
    }
    static let waitingForPlan = """
        SELECT workflow_id FROM workflows WHERE plan_id = $1 AND status = 'WAITING_FOR_PLAN'
        ORDER BY created_at, workflow_id
        """
    static let decision = "SELECT decision FROM workflows WHERE workflow_id = $1"
    static let history = """
        SELECT sequence, event FROM history WHERE workflow_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3
        """
}
