import Foundation
import OrchestratorCore

/// A consumed message that could not be parsed or validated (or named an unknown ticket),
/// recorded durably instead of being dropped, so that an operator can inspect and replay it.
///
/// Stores keep at most ``maxStoredPayload`` bytes of the payload; ``payloadSize`` is the full size.
/// A dead letter is identified by its source position (`topic`, `partition`, `offset`): saving
/// the same position again (a redelivery after a crash between save and offset commit) keeps the
/// first entry.
public struct DeadLetter: Sendable, Equatable, Codable {
    /// The store's sequence number (0 before it is saved).
    public var id: Int64
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The message key as text (invalid UTF-8 is replaced), if it had one.
    public var key: String?
    /// The payload, or its first ``maxStoredPayload`` bytes.
    public var payload: [UInt8]
    /// The size of the whole payload in bytes.
    public var payloadSize: Int
    /// Why the message was not accepted.
    public var reason: String
    public var recordedAt: EpochMillis

    /// The largest payload prefix kept (64 KiB).
    public static let maxStoredPayload = 64 * 1024

    public init(
        id: Int64 = 0,
        topic: String,
        partition: Int32,
        offset: Int64,
        key: String?,
        payload: [UInt8],
        reason: String,
        recordedAt: EpochMillis
    ) {
        self.id = id
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.payload = Array(payload.prefix(Self.maxStoredPayload))
        self.payloadSize = payload.count
        self.reason = reason
        self.recordedAt = recordedAt
    }

    /// Whether ``payload`` holds only a prefix of the message.
    public var isTruncated: Bool { payload.count < payloadSize }

    enum CodingKeys: String, CodingKey {
        case id, topic, partition, offset, key, reason
        case payloadBase64 = "payload_base64"
        case payloadText = "payload_text"
        case payloadSize = "payload_size"
        case truncated
        case recordedAt = "recorded_at"
    }

    /// The payload is written as base64, and as text too when it is valid UTF-8.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(topic, forKey: .topic)
        try c.encode(partition, forKey: .partition)
        try c.encode(offset, forKey: .offset)
        try c.encode(key, forKey: .key)
        try c.encode(Data(payload).base64EncodedString(), forKey: .payloadBase64)
        try c.encode(String(validating: payload, as: UTF8.self), forKey: .payloadText)
        try c.encode(payloadSize, forKey: .payloadSize)
        try c.encode(isTruncated, forKey: .truncated)
        try c.encode(reason, forKey: .reason)
        try c.encode(recordedAt, forKey: .recordedAt)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        topic = try c.decode(String.self, forKey: .topic)
        partition = try c.decode(Int32.self, forKey: .partition)
        offset = try c.decode(Int64.self, forKey: .offset)
        key = try c.decodeIfPresent(String.self, forKey: .key)
        let base64 = try c.decode(String.self, forKey: .payloadBase64)
        guard let data = Data(base64Encoded: base64) else {
            throw DecodingError.dataCorruptedError(
                forKey: .payloadBase64,
                in: c,
                debugDescription: "not base64"
            )
        }
        payload = Array(data)
        payloadSize = try c.decode(Int.self, forKey: .payloadSize)
        reason = try c.decode(String.self, forKey: .reason)
        recordedAt = try c.decode(EpochMillis.self, forKey: .recordedAt)
    }
}

/// Which dead letters to list: optionally one topic; oldest first.
public struct DeadLetterFilter: Sendable, Equatable {
    public var topic: String?
    public var limit: Int
    public var offset: Int
    public init(topic: String? = nil, limit: Int = 100, offset: Int = 0) {
        self.topic = topic
        self.limit = limit
        self.offset = offset
    }
}
