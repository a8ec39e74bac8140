import Avro
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

    /// The deepest nesting of arrays and objects accepted in JSON input (the top-level object is
    /// level 1). Real decisions nest about 8 levels; the limit keeps a hostile document from
    /// exhausting the stack of any decoder behind ``check(_:)``.
    public static let maxDepth = 64

    /// Checks JSON input before it is decoded: well-formed (errors give line and column), no
    /// deeper than ``maxDepth``, and no key twice in one object (other parsers keep the first or
    /// the last value, silently). Returns the outline of the top level.
    ///
    /// - Parameter maxElements: the most elements of any one array; intake passes the largest
    ///   plan it accepts (`validation.max_tasks`), so that an oversized plan is refused while it is
    ///   read, before it is decoded.
    @discardableResult
    public static func check(_ bytes: [UInt8], maxElements: Int = .max) throws(WireFormatError) -> JSONSyntax.Outline {
        do throws(JSONSyntaxError) {
            return try JSONSyntax.check(bytes, maxDepth: maxDepth, maxElements: maxElements)
        } catch {
            throw WireFormatError(error)
        }
    }

    /// Whether `bytes` pass ``check(_:)`` and hold an object at the top level.
    public static func isObject(_ bytes: [UInt8]) -> Bool {
        (try? check(bytes))?.kind == "object"
    }

    /// Decodes a value from checked JSON (see ``check(_:)``), turning decoding errors into a
    /// readable ``WireFormatError`` naming the field.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try check(Array(data))
        return try decodeChecked(type, from: data)
    }

    /// Decodes JSON that ``check(_:)`` has already accepted.
    static func decodeChecked<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
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
    /// The key to blame, when one is (a duplicate key).
    public var field: String?
    public init(format: String, message: String, field: String? = nil) {
        self.format = format
        self.message = message
        self.field = field
    }
    public var description: String { "unreadable \(format): \(message)" }
}

extension WireFormatError {
    /// The error for JSON that ``WireJSON/check(_:)`` refuses: `not valid JSON at line 3,
    /// column 14: expected ',' or '}'`, or one naming the depth limit or the duplicate key.
    init(_ error: JSONSyntaxError) {
        switch error.kind {
        case .syntax:
            self.init(format: "JSON", message: "not valid JSON at \(error.location): \(error.reason)")
        case .tooDeep:
            self.init(
                format: "JSON",
                message: "nested deeper than the limit of \(WireJSON.maxDepth) levels at \(error.location)"
            )
        case .tooManyElements(let limit):
            self.init(
                format: "JSON",
                message:
                    "the array at \(error.location) has more than \(limit) elements, the limit of the input "
                    + "(validation.max_tasks)"
            )
        case .duplicateKey(let key):
            self.init(
                format: "JSON",
                message: "duplicate key \"\(key)\" at \(error.location) (each key may appear once per object)",
                field: key
            )
        }
    }
}
