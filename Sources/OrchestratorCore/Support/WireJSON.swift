import Foundation

/// JSON encoding and decoding as the hive-mind's services expect it (snake_case keys are spelled by
/// each model's coding keys; timestamps are epoch-millisecond integers).
public enum WireJSON {
    /// Encodes a value as JSON with a stable key order: compact with ``StreamingJSONEncoder``
    /// (fields in declaration order, map keys sorted), or pretty-printed with every key sorted.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        guard pretty else { return Data(try StreamingJSONEncoder().encode(value)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return try encoder.encode(value)
    }

    /// Encodes a value as a compact JSON string.
    public static func string<T: Encodable>(_ value: T) throws -> String {
        try StreamingJSONEncoder().string(value)
    }

    /// Decodes a value, turning decoding errors into a readable ``WireFormatError`` naming the field.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw WireFormatError(format: "JSON", message: describe(error))
        }
    }
}

/// Input that could not be read at all (not JSON, not Avro of the expected schema).
public struct WireFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var format: String
    public var message: String
    public init(format: String, message: String) {
        self.format = format
        self.message = message
    }
    public var description: String { "unreadable \(format): \(message)" }
}
