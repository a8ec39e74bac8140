import OrchestratorCore
import OrchestratorStore
import PostgresNIO

/// The write path: group commit of workflow transitions.
extension PostgresWorkflowStore {
    /// Writes every commit of the batch in one transaction; on any error the whole batch is rolled
    /// back and the error rethrown.
    ///
    /// Optimistic concurrency: existing workflows are updated `WHERE version = expected`; a row not
    /// updated is a ``StoreError/versionConflict(workflowId:)``. New workflows are inserted with
    /// `ON CONFLICT DO NOTHING`; one not inserted is a ``StoreError/duplicateDecision(decisionId:workflowId:)``
    /// when its decision id is taken (the unique constraint makes a concurrent insert of the same
    /// decision by another replica wait for that transaction, then lose), else a version conflict
    /// (its workflow id is taken).
    public func commit(_ commits: [WorkflowCommit]) async throws {
        guard !commits.isEmpty else { return }
        let batch = try CommitBatch(commits) { try self.json($0) }
        try await transaction(doing: "commit of \(commits.count) transition(s)") { connection in
            try await insertWorkflows(batch.inserts, on: connection)
            try await updateWorkflows(batch.updates, on: connection)
            try await writeTickets(batch.tickets, on: connection)
            try await writeHistory(batch.history, on: connection)
            try await writeTimers(deleting: batch.deletedTimers, scheduling: batch.scheduledTimers, on: connection)
            try await writeOutbox(batch.outbox, on: connection)
            try await writeIncidents(batch.incidents, on: connection)
            try await writeAudits(batch.audits, on: connection)
        }
    }

    private func insertWorkflows(_ rows: [CommitBatch.WorkflowRow], on connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 12)
        bindings.append(rows.map(\.workflowId))
        bindings.append(rows.map(\.decisionId))
        bindings.append(rows.map(\.planId))
        bindings.append(rows.map(\.createdAt))
        bindings.append(rows.map(\.version))
        bindings.append(rows.map(\.status))
        bindings.append(rows.map(\.riskBand))
        bindings.append(rows.map(\.ticketCount))
        bindings.append(rows.map(\.updatedAt))
        bindings.append(rows.map(\.completedAt))
        bindings.append(rows.map(\.state))
        bindings.append(rows.map(\.decision))
        var inserted: Set<String> = []
        for row in try await execute(connection, SQL.insertWorkflows, bindings) {
            inserted.insert(try row.decode(String.self))
        }
        guard let refused = rows.first(where: { !inserted.contains($0.workflowId) }) else { return }
        let owner = try await execute(connection, SQL.workflowIdByDecision, binds(refused.decisionId)).first
        if let owner {
            throw StoreError.duplicateDecision(
                decisionId: refused.decisionId,
                workflowId: try owner.decode(String.self)
            )
        }
        throw StoreError.versionConflict(workflowId: refused.workflowId)
    }

    private func updateWorkflows(_ rows: [CommitBatch.WorkflowRow], on connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 10)
        bindings.append(rows.map(\.workflowId))
        bindings.append(rows.map(\.expectedVersion))
        bindings.append(rows.map(\.version))
        bindings.append(rows.map(\.status))
        bindings.append(rows.map(\.riskBand))
        bindings.append(rows.map(\.ticketCount))
        bindings.append(rows.map(\.updatedAt))
        bindings.append(rows.map(\.completedAt))
        bindings.append(rows.map(\.state))
        bindings.append(rows.map(\.decision))
        var updated: Set<String> = []
        for row in try await execute(connection, SQL.updateWorkflows, bindings) {
            updated.insert(try row.decode(String.self))
        }
        if let stale = rows.first(where: { !updated.contains($0.workflowId) }) {
            throw StoreError.versionConflict(workflowId: stale.workflowId)
        }
    }

    private func writeTickets(_ rows: [CommitBatch.TicketRow], on connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 9)
        bindings.append(rows.map(\.ticketId))
        bindings.append(rows.map(\.workflowId))
        bindings.append(rows.map(\.position))
        bindings.append(rows.map(\.planId))
        bindings.append(rows.map(\.phase))
        bindings.append(rows.map(\.status))
        bindings.append(rows.map(\.score))
        bindings.append(rows.map(\.deadline))
        bindings.append(rows.map(\.record))
        try await execute(connection, SQL.upsertTickets, bindings)
    }

    private func writeHistory(_ rows: [CommitBatch.HistoryRow], on connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(rows.map(\.workflowId))
        bindings.append(rows.map(\.sequence))
        bindings.append(rows.map(\.name))
        bindings.append(rows.map(\.at))
        bindings.append(rows.map(\.event))
        try await execute(connection, SQL.insertHistory, bindings)
    }

    private func writeTimers(
        deleting keys: [String],
        scheduling timers: [TimerSpec],
        on connection: PostgresConnection
    ) async throws {
        if !keys.isEmpty {
            try await execute(connection, SQL.deleteTimers, binds(keys))
        }
        guard !timers.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(timers.map(\.key))
        bindings.append(timers.map(\.workflowId))
        bindings.append(timers.map(\.ticketId))
        bindings.append(timers.map(\.kind.rawValue))
        bindings.append(timers.map(\.fireAt))
        bindings.append(timers.map(\.token))
        try await execute(connection, SQL.upsertTimers, bindings)
    }

    private func writeOutbox(_ messages: [OutboxMessage], on connection: PostgresConnection) async throws {
        guard !messages.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(messages.map(\.topic.rawValue))
        bindings.append(messages.map(\.key))
        bindings.append(messages.map(\.payload))
        bindings.append(try messages.map { try json($0.headers) })
        bindings.append(messages.map(\.workflowId))
        bindings.append(messages.map(\.createdAt))
        try await execute(connection, SQL.insertOutbox, bindings)
    }

    private func writeIncidents(_ incidents: [OrchestrationIncident], on connection: PostgresConnection) async throws {
        guard !incidents.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(incidents.map(\.incidentId))
        bindings.append(incidents.map(\.workflowId))
        bindings.append(incidents.map(\.incidentType.rawValue))
        bindings.append(incidents.map(\.createdAt))
        bindings.append(try incidents.map { try json($0) })
        try await execute(connection, SQL.insertIncidents, bindings)
    }

    private func writeAudits(_ rows: [CommitBatch.AuditRow], on connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(rows.map(\.workflowId))
        bindings.append(rows.map(\.decisionId))
        bindings.append(rows.map(\.planId))
        bindings.append(rows.map(\.valid))
        bindings.append(rows.map(\.report))
        bindings.append(rows.map(\.createdAt))
        try await execute(connection, SQL.insertAudits, bindings)
    }
}

/// Statements of the write path: constant texts, one per kind of row, each taking one array per
/// column. `WITH ORDINALITY … ORDER BY` keeps the batch order where it matters (identity values of
/// the outbox and audits).
private enum SQL {
    /// ``CommitBatch/noTime`` as a `BIGINT` literal.
    static let noTime = "'\(CommitBatch.noTime)'::bigint"

    static let insertWorkflows = """
        INSERT INTO workflows (workflow_id, decision_id, plan_id, created_at, version,
            status, risk_band, ticket_count, updated_at, completed_at, state, decision)
        SELECT v.workflow_id, v.decision_id, v.plan_id, v.created_at, v.version,
            v.status, NULLIF(v.risk_band, ''), v.ticket_count, v.updated_at, NULLIF(v.completed_at, \(noTime)),
            v.state, NULLIF(v.decision, '')
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
            $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[])
            WITH ORDINALITY AS v(workflow_id, decision_id, plan_id, created_at, version, status, risk_band,
                ticket_count, updated_at, completed_at, state, decision, ord)
        ORDER BY v.ord
        ON CONFLICT DO NOTHING
        RETURNING workflow_id
        """
    static let workflowIdByDecision = "SELECT workflow_id FROM workflows WHERE decision_id = $1"
    static let updateWorkflows = """
        UPDATE workflows AS w SET status = v.status, risk_band = NULLIF(v.risk_band, ''),
            ticket_count = v.ticket_count, updated_at = v.updated_at,
            completed_at = NULLIF(v.completed_at, \(noTime)), state = v.state,
            decision = COALESCE(NULLIF(v.decision, ''), w.decision), version = v.version
        FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
            $8::bigint[], $9::text[], $10::text[])
            AS v(workflow_id, expected, version, status, risk_band, ticket_count, updated_at, completed_at, state,
                decision)
        WHERE w.workflow_id = v.workflow_id AND w.version = v.expected
        RETURNING w.workflow_id
        """
    static let upsertTickets = """
        INSERT INTO tickets (ticket_id, workflow_id, position, plan_id, phase, status, score, deadline, record)
        SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
            $7::float8[], $8::bigint[], $9::text[])
        ON CONFLICT (ticket_id) DO UPDATE SET workflow_id = EXCLUDED.workflow_id, position = EXCLUDED.position,
            plan_id = EXCLUDED.plan_id, phase = EXCLUDED.phase, status = EXCLUDED.status, score = EXCLUDED.score,
            deadline = EXCLUDED.deadline, record = EXCLUDED.record
        """
    static let insertHistory = """
        INSERT INTO history (workflow_id, sequence, name, at, event)
        SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[])
        """
    static let deleteTimers = "DELETE FROM timers WHERE timer_key = ANY($1::text[])"
    static let upsertTimers = """
        INSERT INTO timers (timer_key, workflow_id, ticket_id, kind, fire_at, token)
        SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
        ON CONFLICT (timer_key) DO UPDATE SET workflow_id = EXCLUDED.workflow_id, ticket_id = EXCLUDED.ticket_id,
            kind = EXCLUDED.kind, fire_at = EXCLUDED.fire_at, token = EXCLUDED.token
        """
    static let insertOutbox = """
        INSERT INTO outbox (topic, message_key, payload, headers, workflow_id, created_at)
        SELECT v.topic, v.message_key, v.payload, v.headers, v.workflow_id, v.created_at
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
            WITH ORDINALITY AS v(topic, message_key, payload, headers, workflow_id, created_at, ord)
        ORDER BY v.ord
        """
    static let insertIncidents = """
        INSERT INTO incidents (incident_id, workflow_id, incident_type, created_at, body)
        SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])
        ON CONFLICT (incident_id) DO NOTHING
        """
    static let insertAudits = """
        INSERT INTO audits (workflow_id, decision_id, plan_id, valid, report, created_at)
        SELECT v.workflow_id, v.decision_id, v.plan_id, v.valid, v.report, v.created_at
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::bigint[])
            WITH ORDINALITY AS v(workflow_id, decision_id, plan_id, valid, report, created_at, ord)
        ORDER BY v.ord
        """
}
