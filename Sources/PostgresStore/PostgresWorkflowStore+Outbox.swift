import OrchestratorCore
import OrchestratorStore
import PostgresNIO

/// The transactional outbox and the durable timers, as the relay and the timer wheel read them.
extension PostgresWorkflowStore {
    public func outbox(after: Int64, limit: Int) async throws -> [StoredOutboxMessage] {
        try messages(try await rows(SQL.outbox, binds(after, Int64(max(0, limit))), doing: "reading the outbox"))
    }

    public func acknowledgeOutbox(through sequence: Int64) async throws {
        _ = try await rows(SQL.acknowledge, binds(sequence), doing: "acknowledging the outbox")
    }

    /// Delivers the oldest undelivered messages and deletes exactly those, in one transaction that
    /// holds a transaction-scoped advisory lock: one relay at a time across all replicas (so
    /// messages leave in sequence order), and a row another replica commits meanwhile with a lower
    /// sequence is never deleted undelivered (which `acknowledgeOutbox(through:)` could do).
    /// Returns `nil` when another replica is relaying.
    public func relayOutbox(
        limit: Int,
        _ deliver: @escaping @Sendable ([StoredOutboxMessage]) async throws -> Void
    ) async throws -> Int? {
        // Delivery to a slow sink (Kafka waiting for its acknowledgements) happens inside.
        try await transaction(doing: "relaying the outbox", deadline: .seconds(300)) { [self] connection in
            let locked = try await execute(connection, SQL.tryRelayLock, binds(Self.relayLockKey)).first
            guard try locked?.decode(Bool.self) == true else { return nil }
            let batch = try messages(try await execute(connection, SQL.claimOutbox, binds(Int64(max(1, limit)))))
            guard !batch.isEmpty else { return 0 }
            try await deliver(batch)
            try await execute(connection, SQL.deleteDelivered, binds(batch.map(\.sequence)))
            return batch.count
        }
    }

    /// The key of the transaction-scoped advisory lock of the outbox relay ("outboxrl" in ASCII).
    static let relayLockKey: Int64 = 0x6F75_7462_6F78_726C

    public func outboxCount() async throws -> Int {
        try await rows(SQL.count, doing: "counting the outbox").first?.decode(Int.self) ?? 0
    }

    /// Every pending timer, soonest first.
    public func timers() async throws -> [TimerSpec] {
        try timerSpecs(try await rows(SQL.timers, doing: "reading the timers"))
    }

    /// The pending timers of some workflows, soonest first.
    func timers(ofWorkflows ids: [String]) async throws -> [TimerSpec] {
        try timerSpecs(
            try await rows(SQL.timersOf, binds(ids), doing: "reading the timers of \(ids.count) workflow(s)")
        )
    }

    private func messages(_ rows: [PostgresRow]) throws -> [StoredOutboxMessage] {
        try rows.map { row in
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

    private func timerSpecs(_ rows: [PostgresRow]) throws -> [TimerSpec] {
        try rows.map { row in
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
    static let tryRelayLock = "SELECT pg_try_advisory_xact_lock($1)"
    static let claimOutbox = """
        SELECT sequence, topic, message_key, payload, headers, workflow_id, created_at FROM outbox
        ORDER BY sequence LIMIT $1 FOR UPDATE
        """
    static let deleteDelivered = "DELETE FROM outbox WHERE sequence = ANY($1::bigint[])"
    static let timers = """
        SELECT timer_key, workflow_id, ticket_id, kind, fire_at, token FROM timers ORDER BY fire_at, timer_key
        """
    static let timersOf = """
        SELECT timer_key, workflow_id, ticket_id, kind, fire_at, token FROM timers
        WHERE workflow_id = ANY($1::text[]) ORDER BY fire_at, timer_key
        """
}
