import OrchestratorCore
import OrchestratorStore
import SQLiteDB

/// Dead letters of the Kafka consumers (migration 2).
extension SQLiteWorkflowStore {
    @discardableResult
    public func saveDeadLetter(_ letter: DeadLetter) throws -> Int64 {
        try connection.run(
            DeadLetterSQL.insert,
            [
                .text(letter.topic), .integer(Int64(letter.partition)), .integer(letter.offset),
                SQLiteValue(letter.key),
                .blob(Array(letter.payload.prefix(DeadLetter.maxStoredPayload))), .integer(Int64(letter.payloadSize)),
                .text(letter.reason), .integer(letter.recordedAt),
            ]
        )
        let id = try connection.scalarInt64(
            DeadLetterSQL.idAt,
            [.text(letter.topic), .integer(Int64(letter.partition)), .integer(letter.offset)]
        )
        guard let id else { throw StoreError.corrupt("dead letter of \(letter.topic) was not stored") }
        return id
    }

    public func deadLetters(_ filter: DeadLetterFilter) throws -> [DeadLetter] {
        let limit = SQLiteValue.integer(Int64(max(0, filter.limit)))
        let offset = SQLiteValue.integer(Int64(max(0, filter.offset)))
        let rows =
            if let topic = filter.topic {
                try connection.query(DeadLetterSQL.listTopic, [.text(topic), limit, offset])
            } else {
                try connection.query(DeadLetterSQL.list, [limit, offset])
            }
        return try rows.map { row in
            var letter = DeadLetter(
                id: try row.int64(0),
                topic: try row.string(1),
                partition: Int32(truncatingIfNeeded: try row.int64(2)),
                offset: try row.int64(3),
                key: try row.optionalString(4),
                payload: try row.blob(5),
                reason: try row.string(7),
                recordedAt: try row.int64(8)
            )
            letter.payloadSize = try row.int(6)
            return letter
        }
    }
}

private enum DeadLetterSQL {
    static let insert = """
        INSERT OR IGNORE INTO dead_letters
            (topic, partition, message_offset, message_key, payload, payload_size, reason, recorded_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let idAt = "SELECT id FROM dead_letters WHERE topic = ? AND partition = ? AND message_offset = ?"
    static let columns = """
        SELECT id, topic, partition, message_offset, message_key, payload, payload_size, reason, recorded_at
        FROM dead_letters
        """
    static let list = columns + " ORDER BY id LIMIT ? OFFSET ?"
    static let listTopic = columns + " WHERE topic = ? ORDER BY id LIMIT ? OFFSET ?"
}
