import OrchestratorCore
import OrchestratorStore
import PostgresNIO

/// Dead letters of the Kafka consumers (migration 2), idempotent by topic, partition and offset.
extension PostgresWorkflowStore {
    @discardableResult
    public func saveDeadLetter(_ letter: DeadLetter) async throws -> Int64 {
        let payload = ByteBuffer(bytes: letter.payload.prefix(DeadLetter.maxStoredPayload))
        let inserted = try await rows(
            DeadLetterSQL.insert,
            binds(
                letter.topic,
                Int32(letter.partition),
                letter.offset,
                letter.key ?? "",
                letter.key != nil,
                payload,
                Int32(clamping: letter.payloadSize),
                letter.reason,
                letter.recordedAt
            ),
            doing: "recording a dead letter"
        )
        if let row = inserted.first { return try row.decode(Int64.self) }
        // Recorded before (the message was delivered again): the existing entry's id.
        let existing = try await rows(
            DeadLetterSQL.idAt,
            binds(letter.topic, Int32(letter.partition), letter.offset),
            doing: "reading a dead letter"
        )
        guard let row = existing.first else {
            throw StoreError.corrupt("dead letter of \(letter.topic) was not stored")
        }
        return try row.decode(Int64.self)
    }

    public func deadLetters(_ filter: DeadLetterFilter) async throws -> [DeadLetter] {
        let limit = Int64(max(0, filter.limit))
        let offset = Int64(max(0, filter.offset))
        let rows =
            if let topic = filter.topic {
                try await rows(DeadLetterSQL.listTopic, binds(topic, limit, offset), doing: "listing dead letters")
            } else {
                try await rows(DeadLetterSQL.list, binds(limit, offset), doing: "listing dead letters")
            }
        return try rows.map { row in
            let (id, topic, partition, messageOffset, key, payload, payloadSize, reason, recordedAt) = try row.decode(
                (Int64, String, Int32, Int64, String?, ByteBuffer, Int32, String, Int64).self
            )
            var letter = DeadLetter(
                id: id,
                topic: topic,
                partition: partition,
                offset: messageOffset,
                key: key,
                payload: Array(payload.readableBytesView),
                reason: reason,
                recordedAt: recordedAt
            )
            letter.payloadSize = Int(payloadSize)
            return letter
        }
    }
}

private enum DeadLetterSQL {
    static let insert = """
        INSERT INTO dead_letters
            (topic, partition, message_offset, message_key, payload, payload_size, reason, recorded_at)
        VALUES ($1, $2, $3, CASE WHEN $5 THEN $4 ELSE NULL END, $6, $7, $8, $9)
        ON CONFLICT (topic, partition, message_offset) DO NOTHING
        RETURNING id
        """
    static let idAt = "SELECT id FROM dead_letters WHERE topic = $1 AND partition = $2 AND message_offset = $3"
    static let columns = """
        SELECT id, topic, partition, message_offset, message_key, payload, payload_size, reason, recorded_at
        FROM dead_letters
        """
    static let list = columns + " ORDER BY id LIMIT $1 OFFSET $2"
    static let listTopic = columns + " WHERE topic = $1 ORDER BY id LIMIT $2 OFFSET $3"
}
