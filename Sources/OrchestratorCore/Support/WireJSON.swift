import Foundation

/// JSON encoding and decoding as the hive-mind's services expect it (snake_case keys are spelled by
/// each model's coding keys; timestamps are epoch-millisecond integers).
public enum WireJSON {
    /// Encodes a value as compact JSON with stable key order.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty
            ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Encodes a value as a compact JSON string.
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
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
