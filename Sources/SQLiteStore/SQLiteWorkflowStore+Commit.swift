import OrchestratorCore
import OrchestratorStore
import SQLiteDB

/// The write path: group commit of workflow transitions.
extension SQLiteWorkflowStore {
    /// Writes every commit of the batch in one `BEGIN IMMEDIATE` transaction; on any error the whole
    /// batch is rolled back and the error rethrown.
    public func commit(_ commits: [WorkflowCommit]) throws {
        guard !commits.isEmpty else { return }
        try connection.transaction(.immediate) {
            for commit in commits {
                try write(commit)
            }
        }
    }

    private func write(_ commit: WorkflowCommit) throws {
        let state = commit.state
        if commit.expectedVersion == 0 {
            try insertWorkflow(commit)
        } else {
            try updateWorkflow(commit)
        }
        for position in commit.ticketPositions {
            try upsertTicket(
                try commit.ticket(at: position),
                json: commit.encoded?.tickets[position],
                position: position,
                workflowId: state.workflowId
            )
        }
        try connection.run(
            SQL.insertHistory,
            [
                .text(state.workflowId), .integer(Int64(state.eventCount)), .text(commit.event.event.name),
                .integer(commit.event.at), .text(try commit.encoded?.event ?? json(commit.event)),
            ]
        )
        try applyTimers(commit)
        for message in commit.outbox {
            try connection.run(
                SQL.insertOutbox,
                [
                    .text(message.topic.rawValue), .text(message.key), .text(message.payload),
                    .text(try json(message.headers)), .text(message.workflowId), .integer(message.createdAt),
                ]
            )
        }
        for incident in commit.incidents {
            try connection.run(
                SQL.insertIncident,
                [
                    .text(incident.incidentId), .text(incident.workflowId), .text(incident.incidentType.rawValue),
                    .integer(incident.createdAt), .text(try json(incident)),
                ]
            )
        }
        if let report = commit.audit {
            try connection.run(
                SQL.insertAudit,
                [
                    .text(state.workflowId), .text(state.decisionId), .text(state.planId), SQLiteValue(report.isValid),
                    .text(try json(report)), .integer(report.validatedAt),
                ]
            )
        }
    }

    /// The workflow row's columns shared by insert and update: the state is stored without its tickets.
    private func stateColumns(_ commit: WorkflowCommit) throws -> [SQLiteValue] {
        let state = commit.state
        let text = try commit.encoded?.state ?? json(state)
        return [
            .text(state.status.rawValue), SQLiteValue(state.riskBand?.rawValue), .integer(Int64(commit.ticketCount)),
            .integer(state.updatedAt), SQLiteValue(state.completedAt), .text(text),
        ]
    }

    private func insertWorkflow(_ commit: WorkflowCommit) throws {
        let state = commit.state
        let decision = try commit.decision.map { SQLiteValue.text(try json($0)) } ?? .null
        let bindings: [SQLiteValue] =
            [.text(state.workflowId), .text(state.decisionId), .text(state.planId), .integer(state.createdAt)]
            + (try stateColumns(commit)) + [decision]
        do {
            try connection.run(SQL.insertWorkflow, bindings)
        } catch let error as SQLiteError where error.isUniqueViolation {
            // Either the decision already started a workflow (possibly this very one, re-delivered)
            // or the workflow id is taken by another decision.
            if let existing = try connection.queryFirst(SQL.workflowIdByDecision, [.text(state.decisionId)]) {
                throw StoreError.duplicateDecision(decisionId: state.decisionId, workflowId: try existing.string(0))
            }
            throw StoreError.versionConflict(workflowId: state.workflowId)
        }
    }

    private func updateWorkflow(_ commit: WorkflowCommit) throws {
        let state = commit.state
        let decision = try commit.decision.map { SQLiteValue.text(try json($0)) } ?? .null
        let bindings =
            (try stateColumns(commit)) + [decision, .text(state.workflowId), .integer(commit.expectedVersion)]
        try connection.run(SQL.updateWorkflow, bindings)
        guard connection.changes == 1 else {
            throw StoreError.versionConflict(workflowId: state.workflowId)
        }
    }

    private func upsertTicket(_ record: TicketRecord, json encoded: String?, position: Int, workflowId: String) throws {
        try connection.run(
            SQL.upsertTicket,
            [
                .text(record.ticketId), .text(workflowId), .integer(Int64(position)), .text(record.ticket.planId),
                .text(record.phase.rawValue), .text(record.ticket.status.rawValue), .text(try encoded ?? json(record)),
            ]
        )
    }

    /// Timer changes in order, then the fired timers: each is consumed unless this commit scheduled
    /// it again.
    private func applyTimers(_ commit: WorkflowCommit) throws {
        var rescheduled: Set<String> = []
        for change in commit.timers {
            switch change {
            case .schedule(let timer):
                let key = timer.key
                rescheduled.insert(key)
                try connection.run(
                    SQL.scheduleTimer,
                    [
                        .text(key), .text(timer.workflowId), .text(timer.ticketId), .text(timer.kind.rawValue),
                        .integer(timer.fireAt), .integer(timer.token),
                    ]
                )
            case .cancel(let key):
                try connection.run(SQL.deleteTimer, [.text(key)])
            }
        }
        for key in commit.firedTimers where !rescheduled.contains(key) {
            try connection.run(SQL.deleteTimer, [.text(key)])
        }
    }
}

/// Statements of the write path (constant text, so their prepared forms are cached).
private enum SQL {
    static let insertWorkflow = """
        INSERT INTO workflows (workflow_id, decision_id, plan_id, created_at, version,
            status, risk_band, ticket_count, updated_at, completed_at, state, decision)
        VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
        """
    static let updateWorkflow = """
        UPDATE workflows SET status = ?, risk_band = ?, ticket_count = ?, updated_at = ?, completed_at = ?,
            state = ?, decision = COALESCE(?, decision), version = version + 1
        WHERE workflow_id = ? AND version = ?
        """
    static let workflowIdByDecision = "SELECT workflow_id FROM workflows WHERE decision_id = ?"
    static let upsertTicket = """
        INSERT INTO tickets (ticket_id, workflow_id, position, plan_id, phase, status, record)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (ticket_id) DO UPDATE SET phase = excluded.phase, status = excluded.status,
            record = excluded.record
        """
    // A ticket's workflow, position and plan never change (its id derives from the workflow and
    // the task): leaving them out of the update spares the rewrite of both ticket indexes.
    static let insertHistory = "INSERT INTO history (workflow_id, sequence, name, at, event) VALUES (?, ?, ?, ?, ?)"
    static let scheduleTimer = """
        INSERT OR REPLACE INTO timers (timer_key, workflow_id, ticket_id, kind, fire_at, token)
        VALUES (?, ?, ?, ?, ?, ?)
        """
    static let deleteTimer = "DELETE FROM timers WHERE timer_key = ?"
    static let insertOutbox = """
        INSERT INTO outbox (topic, message_key, payload, headers, workflow_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?)
        """
    static let insertIncident = """
        INSERT OR IGNORE INTO incidents (incident_id, workflow_id, incident_type, created_at, body)
        VALUES (?, ?, ?, ?, ?)
        """
    static let insertAudit = """
        INSERT INTO audits (workflow_id, decision_id, plan_id, valid, report, created_at)
        VALUES (?, ?, ?, ?, ?, ?)
        """
}
