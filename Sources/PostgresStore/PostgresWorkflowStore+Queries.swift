import OrchestratorCore
import OrchestratorStore
import PostgresNIO

/// Tickets by id, the plan ledger, audits, workers and the figures behind metrics.
extension PostgresWorkflowStore {
    public func ticket(_ ticketId: String) async throws -> (workflowId: String, record: TicketRecord)? {
        guard let row = try await rows(SQL.ticket, binds(ticketId), doing: "reading ticket \(ticketId)").first else {
            return nil
        }
        let (workflowId, record) = try row.decode((String, String).self)
        return (workflowId, try decode(TicketRecord.self, record, table: "tickets", key: ticketId))
    }

    /// Keeps the plan (the latest one wins); `true` when its `plan_id` was not in the ledger yet.
    /// One statement: `xmax = 0` holds for a row the upsert inserted, not for one it updated.
    @discardableResult
    public func savePlan(_ plan: CognitivePlan, receivedAt: EpochMillis) async throws -> Bool {
        let rows = try await rows(
            SQL.upsertPlan,
            binds(plan.planId, receivedAt, try json(plan)),
            idempotent: false,
            doing: "saving plan \(plan.planId)"
        )
        guard let row = rows.first else { throw StoreError.corrupt("saving plan \(plan.planId) returned no row") }
        // The replica owning a workflow that waits for this plan may be another one: wake it.
        try await notifyPlan(plan.planId)
        return try row.decode(Bool.self)
    }

    public func plan(_ planId: String) async throws -> CognitivePlan? {
        guard let row = try await rows(SQL.plan, binds(planId), doing: "reading plan \(planId)").first else {
            return nil
        }
        return try decode(CognitivePlan.self, try row.decode(String.self), table: "plans", key: planId)
    }

    /// The C1 audit records of a workflow, oldest first.
    public func audits(_ workflowId: String) async throws -> [AuditRecord] {
        try await rows(SQL.audits, binds(workflowId), doing: "reading the audits of \(workflowId)").map { row in
            let (id, decisionId, planId, report) = try row.decode((Int64, String, String, String).self)
            return AuditRecord(
                workflowId: workflowId,
                decisionId: decisionId,
                planId: planId,
                report: try decode(ValidationReport.self, report, table: "audits", key: "\(id)")
            )
        }
    }

    public func saveWorker(_ worker: WorkerRecord) async throws {
        _ = try await rows(
            SQL.upsertWorker,
            binds(worker.workerId, try json(worker), worker.lastSeenAt),
            doing: "saving worker \(worker.workerId)"
        )
    }

    /// The secret under `name`, storing `proposed` (hex) when there is none yet; the first
    /// replica's proposal wins.
    public func sharedSecret(_ name: String, proposed: [UInt8]) async throws -> [UInt8] {
        _ = try await rows(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            binds(name, SecretHex.encode(proposed)),
            doing: "storing the secret \(name)"
        )
        let found = try await rows(
            "SELECT value FROM secrets WHERE name = $1",
            binds(name),
            doing: "reading the secret \(name)"
        )
        guard let row = found.first, let value = SecretHex.decode(try row.decode(String.self)) else {
            throw StoreError.corrupt("secrets: no hex value under \(name)")
        }
        return value
    }

    /// Every registered worker, by id.
    public func workers() async throws -> [WorkerRecord] {
        try await rows(SQL.workers, doing: "reading the workers").map { row in
            let (workerId, body) = try row.decode((String, String).self)
            return try decode(WorkerRecord.self, body, table: "workers", key: workerId)
        }
    }

    public func workflowCounts() async throws -> [WorkflowStatus: Int] {
        var counts: [WorkflowStatus: Int] = [:]
        for row in try await rows(SQL.counts, doing: "counting workflows") {
            let (text, count) = try row.decode((String, Int).self)
            counts[try parse(WorkflowStatus.self, text, table: "workflows", key: "status \(text)")] = count
        }
        return counts
    }

    /// `completed_at - created_at` of terminal workflows, most recently completed first.
    public func recentDurations(limit: Int) async throws -> [Int64] {
        try await rows(SQL.durations, binds(Int64(max(0, limit))), doing: "reading recent durations").map {
            try $0.decode(Int64.self)
        }
    }
}

/// Statements of the reads above.
private enum SQL {
    static let ticket = "SELECT workflow_id, record FROM tickets WHERE ticket_id = $1"
    static let upsertPlan = """
        INSERT INTO plans (plan_id, received_at, body) VALUES ($1, $2, $3)
        ON CONFLICT (plan_id) DO UPDATE SET received_at = EXCLUDED.received_at, body = EXCLUDED.body
        RETURNING xmax = 0
        """
    static let plan = "SELECT body FROM plans WHERE plan_id = $1"
    static let audits = "SELECT id, decision_id, plan_id, report FROM audits WHERE workflow_id = $1 ORDER BY id"
    static let upsertWorker = """
        INSERT INTO workers (worker_id, body, last_seen_at) VALUES ($1, $2, $3)
        ON CONFLICT (worker_id) DO UPDATE SET body = EXCLUDED.body, last_seen_at = EXCLUDED.last_seen_at
        """
    static let workers = "SELECT worker_id, body FROM workers ORDER BY worker_id"
    static let counts = "SELECT status, COUNT(*) FROM workflows GROUP BY status"
    static let durations = """
        SELECT completed_at - created_at FROM workflows
        WHERE completed_at IS NOT NULL AND status IN (\(WorkflowStatusSQL.terminal))
        ORDER BY completed_at DESC, workflow_id LIMIT $1
        """
}
