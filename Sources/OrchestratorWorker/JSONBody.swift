import Foundation
import OrchestratorCore

/// JSON request and response bodies of the REST API.
enum JSONBody {
    /// Encodes a request body.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Decodes a response body, naming the type on failure.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], status: Int) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw ClientError(
                status: status,
                code: "invalid_response",
                message: "the response is not a valid \(type): \(error)",
                body: decode(bytes),
                underlying: error
            )
        }
    }

    /// Any JSON value, `nil` when the bytes are not JSON.
    static func decode(_ bytes: [UInt8]) -> JSONValue? {
        guard !bytes.isEmpty else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }
}

extension JSONValue {
    /// Strings as they are, numbers and booleans as their text; `nil` for null, arrays and objects.
    var scalarText: String? {
        switch self {
        case .null, .array, .object: return nil
        default: return mapText
        }
    }

    /// The member `key` of an object.
    func member(_ key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}

extension JSONValue {
    /// A whole number, also from a numeric string.
    var integer: Int64? {
        switch self {
        case .integer(let value): return value
        case .number(let value) where value.rounded() == value && abs(value) < 9.2e18: return Int64(value)
        case .string(let text): return Int64(text)
        default: return nil
        }
    }

    /// Re-decodes this value as `T`.
    func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: JSONEncoder().encode(self))
    }
}
