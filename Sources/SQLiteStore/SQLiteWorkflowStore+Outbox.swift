import OrchestratorCore
import OrchestratorStore
import SQLiteDB

/// The transactional outbox and the durable timers, as the relay and the timer wheel read them.
extension SQLiteWorkflowStore {
    public func outbox(after: Int64, limit: Int) throws -> [StoredOutboxMessage] {
        try connection.query(SQL.outbox, [.integer(after), .integer(Int64(max(0, limit)))]).map { row in
            let sequence = try row.int64(0)
            let key = "\(sequence)"
            let message = OutboxMessage(
                topic: try parse(OutboxTopic.self, try row.string(1), table: "outbox", key: key),
                key: try row.string(2),
                payload: try row.string(3),
                headers: try headers(try row.string(4), key: key),
                workflowId: try row.string(5),
                createdAt: try row.int64(6)
            )
            return StoredOutboxMessage(sequence: sequence, message: message)
        }
    }

    /// Message headers: the fast reader for the flat maps this store writes, else the decoder.
    private func headers(_ text: String, key: String) throws -> [String: String] {
        if let map = FlatStringMapJSON.parse(text) { return map }
        return try decode([String: String].self, text, table: "outbox", key: key)
    }

    public func acknowledgeOutbox(through sequence: Int64) throws {
        try connection.run(SQL.acknowledge, [.integer(sequence)])
    }

    public func outboxCount() throws -> Int {
        Int(try connection.scalarInt64(SQL.count) ?? 0)
    }

    /// Every pending timer, soonest first.
    public func timers() throws -> [TimerSpec] {
        try connection.query(SQL.timers).map { row in
            let key = try row.string(0)
            return TimerSpec(
                workflowId: try row.string(1),
                ticketId: try row.string(2),
                kind: try parse(TimerKind.self, try row.string(3), table: "timers", key: key),
                fireAt: try row.int64(4),
                token: try row.int64(5)
            )
        }
    }
}

/// Statements of the outbox and timers (constant text, so their prepared forms are cached).
private enum SQL {
    static let outbox = """
        SELECT sequence, topic, message_key, payload, headers, workflow_id, created_at FROM outbox
        WHERE sequence > ? ORDER BY sequence LIMIT ?
        """
    static let acknowledge = "DELETE FROM outbox WHERE sequence <= ?"
    static let count = "SELECT COUNT(*) FROM outbox"
    static let timers = """
        SELECT timer_key, workflow_id, ticket_id, kind, fire_at, token FROM timers ORDER BY fire_at, timer_key
        """
}
