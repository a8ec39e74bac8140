/// Message framings that carry an Avro payload with the identity of its writer's schema.
public enum AvroFraming {
    /// A message in the Confluent Schema Registry wire format.
    public struct ConfluentFrame: Sendable, Equatable {
        /// The registry's id of the writer's schema.
        public var schemaId: UInt32
        /// The Avro binary payload.
        public var payload: [UInt8]

        /// Creates a frame.
        public init(schemaId: UInt32, payload: [UInt8]) {
            self.schemaId = schemaId
            self.payload = payload
        }
    }

    /// A message in the Avro single-object encoding.
    public struct SingleObjectFrame: Sendable, Equatable {
        /// The CRC-64-AVRO fingerprint of the writer's schema (see ``AvroSchema/fingerprint``).
        public var fingerprint: UInt64
        /// The Avro binary payload.
        public var payload: [UInt8]

        /// Creates a frame.
        public init(fingerprint: UInt64, payload: [UInt8]) {
            self.fingerprint = fingerprint
            self.payload = payload
        }
    }

    /// The first byte of a Confluent-framed message.
    public static let confluentMagicByte: UInt8 = 0

    /// The two marker bytes that open a single-object-encoded message.
    public static let singleObjectMarker: [UInt8] = [0xC3, 0x01]

    /// Frames a payload for the Confluent wire format: magic byte 0, the schema id as 4 big-endian
    /// bytes, then the payload.
    public static func confluent(schemaId: UInt32, payload: [UInt8]) -> [UInt8] {
        var message: [UInt8] = [confluentMagicByte]
        message.reserveCapacity(5 + payload.count)
        for shift in stride(from: 24, through: 0, by: -8) {
            message.append(UInt8(truncatingIfNeeded: schemaId >> UInt32(shift)))
        }
        message.append(contentsOf: payload)
        return message
    }

    /// Splits a Confluent-framed message into its schema id and payload.
    ///
    /// - Throws: ``AvroError`` `invalidFraming` if the message is shorter than 5 bytes or does not
    ///   start with the magic byte 0.
    public static func parseConfluent(_ message: [UInt8]) throws -> ConfluentFrame {
        guard let frame = detectConfluent(message) else {
            throw AvroError(
                .invalidFraming,
                message.count < 5
                    ? "a Confluent-framed message needs at least 5 bytes, got \(message.count)"
                    : "a Confluent-framed message starts with byte 0, got \(message[0])"
            )
        }
        return frame
    }

    /// The frame if `message` looks Confluent-framed (at least 5 bytes, first byte 0), else `nil`.
    ///
    /// A bare Avro payload can also start with 0 (an empty string, a zero, a union's first
    /// branch): use this only where both forms may arrive, and prefer ``parseConfluent(_:)``
    /// when the topic's format is known.
    public static func detectConfluent(_ message: [UInt8]) -> ConfluentFrame? {
        guard message.count >= 5, message[0] == confluentMagicByte else { return nil }
        var schemaId: UInt32 = 0
        for byte in message[1..<5] {
            schemaId = schemaId << 8 | UInt32(byte)
        }
        return ConfluentFrame(schemaId: schemaId, payload: Array(message[5...]))
    }

    /// Frames a payload in the Avro single-object encoding: `C3 01`, the schema's CRC-64-AVRO
    /// fingerprint as 8 little-endian bytes, then the payload.
    public static func singleObject(fingerprint: UInt64, payload: [UInt8]) -> [UInt8] {
        var message = singleObjectMarker
        message.reserveCapacity(10 + payload.count)
        for shift in stride(from: 0, to: 64, by: 8) {
            message.append(UInt8(truncatingIfNeeded: fingerprint >> UInt64(shift)))
        }
        message.append(contentsOf: payload)
        return message
    }

    /// The frame if `message` starts with the single-object marker and holds a fingerprint,
    /// else `nil`.
    public static func detectSingleObject(_ message: [UInt8]) -> SingleObjectFrame? {
        guard message.count >= 10, message[0] == singleObjectMarker[0], message[1] == singleObjectMarker[1] else {
            return nil
        }
        var fingerprint: UInt64 = 0
        for (offset, byte) in message[2..<10].enumerated() {
            fingerprint |= UInt64(byte) << UInt64(offset * 8)
        }
        return SingleObjectFrame(fingerprint: fingerprint, payload: Array(message[10...]))
    }
}
