import OrchestratorCore
import OrchestratorStore
import SQLiteDB

/// Tickets by id, the plan ledger, audits, workers and the figures behind metrics.
extension SQLiteWorkflowStore {
    public func ticket(_ ticketId: String) throws -> (workflowId: String, record: TicketRecord)? {
        guard let row = try connection.queryFirst(SQL.ticket, [.text(ticketId)]) else { return nil }
        let record = try decode(TicketRecord.self, try row.string(1), table: "tickets", key: ticketId)
        return (try row.string(0), record)
    }

    /// Keeps the plan (the latest one wins); `true` when its `plan_id` was not in the ledger yet.
    @discardableResult
    public func savePlan(_ plan: CognitivePlan, receivedAt: EpochMillis) throws -> Bool {
        let body = try json(plan)
        return try connection.transaction(.immediate) {
            let known = try connection.queryFirst(SQL.planExists, [.text(plan.planId)]) != nil
            try connection.run(SQL.upsertPlan, [.text(plan.planId), .integer(receivedAt), .text(body)])
            return !known
        }
    }

    public func plan(_ planId: String) throws -> CognitivePlan? {
        guard let row = try connection.queryFirst(SQL.plan, [.text(planId)]) else { return nil }
        return try decode(CognitivePlan.self, try row.string(0), table: "plans", key: planId)
    }

    /// The C1 audit records of a workflow, oldest first.
    public func audits(_ workflowId: String) throws -> [AuditRecord] {
        try connection.query(SQL.audits, [.text(workflowId)]).map { row in
            let key = "\(try row.int64(0))"
            return AuditRecord(
                workflowId: workflowId,
                decisionId: try row.string(1),
                planId: try row.string(2),
                report: try decode(ValidationReport.self, try row.string(3), table: "audits", key: key)
            )
        }
    }

    public func saveWorker(_ worker: WorkerRecord) throws {
        try connection.run(
            SQL.upsertWorker,
            [.text(worker.workerId), .text(try json(worker)), .integer(worker.lastSeenAt)]
        )
    }

    /// Every registered worker, by id.
    public func workers() throws -> [WorkerRecord] {
        try connection.query(SQL.workers).map { row in
            try decode(WorkerRecord.self, try row.string(1), table: "workers", key: try row.string(0))
        }
    }

    public func workflowCounts() throws -> [WorkflowStatus: Int] {
        var counts: [WorkflowStatus: Int] = [:]
        try connection.forEach(SQL.counts) { row in
            let text = try row.string(0)
            counts[try parse(WorkflowStatus.self, text, table: "workflows", key: "status \(text)")] = try row.int(1)
        }
        return counts
    }

    /// `completed_at - created_at` of terminal workflows, most recently completed first.
    public func recentDurations(limit: Int) throws -> [Int64] {
        try connection.query(SQL.durations, [.integer(Int64(max(0, limit)))]).map { try $0.int64(0) }
    }
}

/// Statements of the reads above (constant text, so their prepared forms are cached).
private enum SQL {
    static let ticket = "SELECT workflow_id, record FROM tickets WHERE ticket_id = ?"
    static let planExists = "SELECT 1 FROM plans WHERE plan_id = ?"
    static let upsertPlan = """
        INSERT INTO plans (plan_id, received_at, body) VALUES (?, ?, ?)
        ON CONFLICT (plan_id) DO UPDATE SET received_at = excluded.received_at, body = excluded.body
        """
    static let plan = "SELECT body FROM plans WHERE plan_id = ?"
    static let audits = "SELECT id, decision_id, plan_id, report FROM audits WHERE workflow_id = ? ORDER BY id"
    static let upsertWorker = """
        INSERT INTO workers (worker_id, body, last_seen_at) VALUES (?, ?, ?)
        ON CONFLICT (worker_id) DO UPDATE SET body = excluded.body, last_seen_at = excluded.last_seen_at
        """
    static let workers = "SELECT worker_id, body FROM workers ORDER BY worker_id"
    static let counts = "SELECT status, COUNT(*) FROM workflows GROUP BY status"
    static let durations = """
        SELECT completed_at - created_at FROM workflows
        WHERE completed_at IS NOT NULL AND status IN (\(WorkflowStatusSQL.terminal))
        ORDER BY completed_at DESC, workflow_id LIMIT ?
        """
}
