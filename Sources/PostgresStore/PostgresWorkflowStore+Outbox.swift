import OrchestratorCore
import OrchestratorStore
import PostgresNIO

/// The transactional outbox and the durable timers, as the relay and the timer wheel read them.
extension PostgresWorkflowStore {
    public func outbox(after: Int64, limit: Int) async throws -> [StoredOutboxMessage] {
        let rows = try await rows(SQL.outbox, binds(after, Int64(max(0, limit))), doing: "reading the outbox")
        return try rows.map { row in
            let (sequence, topic, key, payload, headers, workflowId, createdAt) = try row.decode(
                (Int64, String, String, String, String, String, Int64).self
            )
            let rowKey = "\(sequence)"
            let message = OutboxMessage(
                topic: try parse(OutboxTopic.self, topic, table: "outbox", key: rowKey),
                key: key,
                payload: payload,
                headers: try decode([String: String].self, headers, table: "outbox", key: rowKey),
                workflowId: workflowId,
                createdAt: createdAt
            )
            return StoredOutboxMessage(sequence: sequence, message: message)
        }
    }

    public func acknowledgeOutbox(through sequence: Int64) async throws {
        _ = try await rows(SQL.acknowledge, binds(sequence), doing: "acknowledging the outbox")
    }

    public func outboxCount() async throws -> Int {
        try await rows(SQL.count, doing: "counting the outbox").first?.decode(Int.self) ?? 0
    }

    /// Every pending timer, soonest first.
    public func timers() async throws -> [TimerSpec] {
        try await rows(SQL.timers, doing: "reading the timers").map { row in
            let (key, workflowId, ticketId, kind, fireAt, token) = try row.decode(
                (String, String, String, String, Int64, Int64).self
            )
            return TimerSpec(
                workflowId: workflowId,
                ticketId: ticketId,
                kind: try parse(TimerKind.self, kind, table: "timers", key: key),
                fireAt: fireAt,
                token: token
            )
        }
    }
}

/// Statements of the outbox and timers.
private enum SQL {
    static let outbox = """
        SELECT sequence, topic, message_key, payload, headers, workflow_id, created_at FROM outbox
        WHERE sequence > $1 ORDER BY sequence LIMIT $2
        """
    static let acknowledge = "DELETE FROM outbox WHERE sequence <= $1"
    static let count = "SELECT COUNT(*) FROM outbox"
    static let timers = """
        SELECT timer_key, workflow_id, ticket_id, kind, fire_at, token FROM timers ORDER BY fire_at, timer_key
        """
}
