import OrchestratorCore
import OrchestratorStore
import PostgresNIO

/// The write path: group commit of workflow transitions.
extension PostgresWorkflowStore {
    /// Writes every commit of the batch in one transaction; on any error the whole batch is rolled
    /// back and the error rethrown.
    ///
    /// Optimistic concurrency and fencing: existing workflows are updated `WHERE version = expected
    /// AND owner = this replica`; a row not updated is a ``StoreError/notOwner(workflowId:owner:)``
    /// when another replica (or none) owns it, else a ``StoreError/versionConflict(workflowId:)``.
    /// New workflows are inserted owned by this replica. New workflows are inserted with
    /// `ON CONFLICT DO NOTHING`; one not inserted is a ``StoreError/duplicateDecision(decisionId:workflowId:)``
    /// when its decision id is taken (the unique constraint makes a concurrent insert of the same
    /// decision by another replica wait for that transaction, then lose), else a version conflict
    /// (its workflow id is taken).
    public func commit(_ commits: [WorkflowCommit]) async throws {
        guard !commits.isEmpty else { return }
        let batch = try CommitBatch(commits) { try self.json($0) }
        let bindings = try commitBindings(batch)
        try await transaction(doing: "commit of \(commits.count) transition(s)") { [self] connection in
            var rows = try await connection.execute(CommitStatement(bindings: bindings), logger: logger)
                .makeAsyncIterator()
            guard let (inserted, updated) = try await rows.next() else {
                throw StoreError.corrupt("the commit statement returned no row")
            }
            if let refused = batch.inserts.first(where: { !inserted.contains($0.workflowId) }) {
                let owner = try await execute(connection, SQL.workflowIdByDecision, binds(refused.decisionId)).first
                if let owner {
                    throw StoreError.duplicateDecision(
                        decisionId: refused.decisionId,
                        workflowId: try owner.decode(String.self)
                    )
                }
                throw StoreError.versionConflict(workflowId: refused.workflowId)
            }
            if let stale = batch.updates.first(where: { !updated.contains($0.workflowId) }) {
                let found = try await execute(connection, SQL.ownerOf, binds(stale.workflowId)).first
                let owner = try found?.decode(String?.self)
                if found != nil, owner != replicaId {
                    throw StoreError.notOwner(workflowId: stale.workflowId, owner: owner)
                }
                throw StoreError.versionConflict(workflowId: stale.workflowId)
            }
        }
    }

    /// The parameters of ``SQL/commit``: one array per column of each kind of row, in order.
    private func commitBindings(_ batch: CommitBatch) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 61)
        let inserts = batch.inserts
        bindings.append(inserts.map(\.workflowId))
        bindings.append(inserts.map(\.decisionId))
        bindings.append(inserts.map(\.planId))
        bindings.append(inserts.map(\.createdAt))
        bindings.append(inserts.map(\.version))
        bindings.append(inserts.map(\.status))
        bindings.append(inserts.map(\.riskBand))
        bindings.append(inserts.map(\.ticketCount))
        bindings.append(inserts.map(\.updatedAt))
        bindings.append(inserts.map(\.completedAt))
        bindings.append(inserts.map(\.state))
        bindings.append(inserts.map(\.decision))
        let updates = batch.updates
        bindings.append(updates.map(\.workflowId))
        bindings.append(updates.map(\.expectedVersion))
        bindings.append(updates.map(\.version))
        bindings.append(updates.map(\.status))
        bindings.append(updates.map(\.riskBand))
        bindings.append(updates.map(\.ticketCount))
        bindings.append(updates.map(\.updatedAt))
        bindings.append(updates.map(\.completedAt))
        bindings.append(updates.map(\.state))
        bindings.append(updates.map(\.decision))
        let tickets = batch.tickets
        bindings.append(tickets.map(\.ticketId))
        bindings.append(tickets.map(\.workflowId))
        bindings.append(tickets.map(\.position))
        bindings.append(tickets.map(\.planId))
        bindings.append(tickets.map(\.phase))
        bindings.append(tickets.map(\.status))
        bindings.append(tickets.map(\.score))
        bindings.append(tickets.map(\.deadline))
        bindings.append(tickets.map(\.record))
        let history = batch.history
        bindings.append(history.map(\.workflowId))
        bindings.append(history.map(\.sequence))
        bindings.append(history.map(\.name))
        bindings.append(history.map(\.at))
        bindings.append(history.map(\.event))
        bindings.append(batch.deletedTimers)
        let timers = batch.scheduledTimers
        bindings.append(timers.map(\.key))
        bindings.append(timers.map(\.workflowId))
        bindings.append(timers.map(\.ticketId))
        bindings.append(timers.map(\.kind.rawValue))
        bindings.append(timers.map(\.fireAt))
        bindings.append(timers.map(\.token))
        let outbox = batch.outbox
        bindings.append(outbox.map(\.topic.rawValue))
        bindings.append(outbox.map(\.key))
        bindings.append(outbox.map(\.payload))
        bindings.append(try outbox.map { try json($0.headers) })
        bindings.append(outbox.map(\.workflowId))
        bindings.append(outbox.map(\.createdAt))
        let incidents = batch.incidents
        bindings.append(incidents.map(\.incidentId))
        bindings.append(incidents.map(\.workflowId))
        bindings.append(incidents.map(\.incidentType.rawValue))
        bindings.append(incidents.map(\.createdAt))
        bindings.append(try incidents.map { try json($0) })
        let audits = batch.audits
        bindings.append(audits.map(\.workflowId))
        bindings.append(audits.map(\.decisionId))
        bindings.append(audits.map(\.planId))
        bindings.append(audits.map(\.valid))
        bindings.append(audits.map(\.report))
        bindings.append(audits.map(\.createdAt))
        bindings.append(replicaId)
        return bindings
    }
}

/// ``SQL/commit`` as a named prepared statement: parsed and planned once per connection instead of
/// on every commit.
struct CommitStatement: PostgresPreparedStatement {
    static let name = "orchestrator_commit_v3"
    static var sql: String { SQL.commit }
    typealias Row = ([String], [String])
    var bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The statement of the write path: one statement for the whole batch, so that a commit costs
/// three round trips (`BEGIN`, this, `COMMIT`) whatever its size. Each data-modifying `WITH` part
/// writes one kind of row from one array per column (empty arrays write nothing); all parts run,
/// on one snapshot. Tickets and history rows are written only for the workflows whose own row was
/// inserted or updated (so a refused workflow cannot make its history insert fail first). The
/// statement returns the workflow ids inserted and updated: the caller compares them with the
/// batch and rolls back on a difference. `WITH ORDINALITY … ORDER BY` keeps the batch
/// order where it matters (identity values of the outbox and audits).
private enum SQL {
    /// ``CommitBatch/noTime`` as a `BIGINT` literal.
    static let noTime = "'\(CommitBatch.noTime)'::bigint"

    static let commit = """
        WITH inserted AS (
            INSERT INTO workflows (workflow_id, decision_id, plan_id, created_at, version,
                status, risk_band, ticket_count, updated_at, completed_at, state, decision, owner)
            SELECT v.workflow_id, v.decision_id, v.plan_id, v.created_at, v.version,
                v.status, NULLIF(v.risk_band, ''), v.ticket_count, v.updated_at, NULLIF(v.completed_at, \(noTime)),
                v.state, NULLIF(v.decision, ''), $61
            FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
                $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[])
                WITH ORDINALITY AS v(workflow_id, decision_id, plan_id, created_at, version, status, risk_band,
                    ticket_count, updated_at, completed_at, state, decision, ord)
            ORDER BY v.ord
            ON CONFLICT DO NOTHING
            RETURNING workflow_id
        ), updated AS (
            UPDATE workflows AS w SET status = v.status, risk_band = NULLIF(v.risk_band, ''),
                ticket_count = v.ticket_count, updated_at = v.updated_at,
                completed_at = NULLIF(v.completed_at, \(noTime)), state = v.state,
                decision = COALESCE(NULLIF(v.decision, ''), w.decision), version = v.version
            FROM UNNEST($13::text[], $14::bigint[], $15::bigint[], $16::text[], $17::text[], $18::bigint[],
                $19::bigint[], $20::bigint[], $21::text[], $22::text[])
                AS v(workflow_id, expected, version, status, risk_band, ticket_count, updated_at, completed_at,
                    state, decision)
            WHERE w.workflow_id = v.workflow_id AND w.version = v.expected AND w.owner = $61
            RETURNING w.workflow_id
        ), written AS (
            SELECT workflow_id FROM inserted UNION ALL SELECT workflow_id FROM updated
        ), tickets_written AS (
            INSERT INTO tickets (ticket_id, workflow_id, position, plan_id, phase, status, score, deadline, record)
            SELECT * FROM UNNEST($23::text[], $24::text[], $25::bigint[], $26::text[], $27::text[], $28::text[],
                $29::float8[], $30::bigint[], $31::text[]) AS v(ticket_id, workflow_id)
            WHERE v.workflow_id IN (SELECT workflow_id FROM written)
            ON CONFLICT (ticket_id) DO UPDATE SET workflow_id = EXCLUDED.workflow_id, position = EXCLUDED.position,
                plan_id = EXCLUDED.plan_id, phase = EXCLUDED.phase, status = EXCLUDED.status,
                score = EXCLUDED.score, deadline = EXCLUDED.deadline, record = EXCLUDED.record
        ), history_written AS (
            INSERT INTO history (workflow_id, sequence, name, at, event)
            SELECT * FROM UNNEST($32::text[], $33::bigint[], $34::text[], $35::bigint[], $36::text[])
                AS v(workflow_id)
            WHERE v.workflow_id IN (SELECT workflow_id FROM written)
        ), timers_deleted AS (
            DELETE FROM timers WHERE timer_key = ANY($37::text[])
        ), timers_written AS (
            INSERT INTO timers (timer_key, workflow_id, ticket_id, kind, fire_at, token)
            SELECT * FROM UNNEST($38::text[], $39::text[], $40::text[], $41::text[], $42::bigint[], $43::bigint[])
            ON CONFLICT (timer_key) DO UPDATE SET workflow_id = EXCLUDED.workflow_id,
                ticket_id = EXCLUDED.ticket_id, kind = EXCLUDED.kind, fire_at = EXCLUDED.fire_at,
                token = EXCLUDED.token
        ), outbox_written AS (
            INSERT INTO outbox (topic, message_key, payload, headers, workflow_id, created_at)
            SELECT v.topic, v.message_key, v.payload, v.headers, v.workflow_id, v.created_at
            FROM UNNEST($44::text[], $45::text[], $46::text[], $47::text[], $48::text[], $49::bigint[])
                WITH ORDINALITY AS v(topic, message_key, payload, headers, workflow_id, created_at, ord)
            ORDER BY v.ord
        ), incidents_written AS (
            INSERT INTO incidents (incident_id, workflow_id, incident_type, created_at, body)
            SELECT * FROM UNNEST($50::text[], $51::text[], $52::text[], $53::bigint[], $54::text[])
            ON CONFLICT (incident_id) DO NOTHING
        ), audits_written AS (
            INSERT INTO audits (workflow_id, decision_id, plan_id, valid, report, created_at)
            SELECT v.workflow_id, v.decision_id, v.plan_id, v.valid, v.report, v.created_at
            FROM UNNEST($55::text[], $56::text[], $57::text[], $58::boolean[], $59::text[], $60::bigint[])
                WITH ORDINALITY AS v(workflow_id, decision_id, plan_id, valid, report, created_at, ord)
            ORDER BY v.ord
        )
        SELECT ARRAY(SELECT workflow_id FROM inserted), ARRAY(SELECT workflow_id FROM updated)
        """
    static let workflowIdByDecision = "SELECT workflow_id FROM workflows WHERE decision_id = $1"
    static let ownerOf = "SELECT owner FROM workflows WHERE workflow_id = $1"
}
