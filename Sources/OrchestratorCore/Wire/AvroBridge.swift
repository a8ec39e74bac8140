import Avro
import Foundation

/// Converts between the models' JSON form and Avro values, guided by a schema, so that every
/// model gets an Avro binary encoding from its one Codable definition.
public enum AvroBridge {
    /// Parsed project schemas, by record.
    public static let schemas: [ContractSchemas.Record: AvroSchema] = {
        var result: [ContractSchemas.Record: AvroSchema] = [:]
        for record in ContractSchemas.Record.allCases {
            // The embedded schemas are part of the build and covered by tests.
            result[record] = try! AvroSchema.parse(ContractSchemas.text(record))
        }
        return result
    }()

    /// Encodes a model as Avro binary with the project's schema for `record`.
    public static func encode<T: Encodable>(_ value: T, as record: ContractSchemas.Record) throws -> [UInt8] {
        let schema = schemas[record]!
        let json = try JSONDecoder().decode(JSONValue.self, from: WireJSON.encode(value))
        return try AvroEncoder().encode(try avroValue(json, schema: schema, path: schema.displayName), as: schema)
    }

    /// Decodes Avro binary written with `writer` (the project's schema for `record` when `nil`)
    /// into a model.
    public static func decode<T: Decodable>(
        _ type: T.Type,
        from bytes: [UInt8],
        as record: ContractSchemas.Record,
        writer: AvroSchema? = nil
    ) throws -> T {
        let reader = schemas[record]!
        let value: AvroValue
        do {
            value = try writer.map { try reader.decode(bytes, writer: $0) } ?? reader.decode(bytes)
        } catch let error as AvroError {
            throw WireFormatError(format: "Avro", message: "\(record.rawValue): \(error)")
        }
        let json = jsonValue(value)
        return try WireJSON.decode(type, from: try WireJSON.encode(json))
    }

    /// The JSON value of a decoded Avro value (records and maps become objects, enums strings,
    /// bytes and fixed base64 strings).
    public static func jsonValue(_ value: AvroValue) -> JSONValue {
        switch value {
        case .null: return .null
        case .boolean(let v): return .bool(v)
        case .int(let v): return .integer(Int64(v))
        case .long(let v): return .integer(v)
        case .float(let v): return .number(Double(v))
        case .double(let v): return .number(v)
        case .bytes(let v), .fixed(let v): return .string(Data(v).base64EncodedString())
        case .string(let v), .enumSymbol(let v): return .string(v)
        case .record(let fields), .map(let fields): return .object(fields.mapValues(jsonValue))
        case .array(let items): return .array(items.map(jsonValue))
        case .union(_, let inner): return jsonValue(inner)
        }
    }

    /// The Avro value of a JSON value under `schema`; `path` names the position for errors.
    public static func avroValue(_ json: JSONValue, schema: AvroSchema, path: String) throws -> AvroValue {
        func mismatch(_ expected: String) -> WireFormatError {
            WireFormatError(format: "Avro", message: "\(path): expected \(expected), got \(json.kindName)")
        }
        switch schema {
        case .null:
            guard case .null = json else { throw mismatch("null") }
            return .null
        case .boolean:
            guard case .bool(let v) = json else { throw mismatch("boolean") }
            return .boolean(v)
        case .int:
            guard case .integer(let v) = json, let narrow = Int32(exactly: v) else { throw mismatch("int") }
            return .int(narrow)
        case .long:
            guard case .integer(let v) = json else { throw mismatch("long") }
            return .long(v)
        case .float, .double:
            let number: Double
            switch json {
            case .integer(let v): number = Double(v)
            case .number(let v): number = v
            default: throw mismatch("number")
            }
            if case .float = schema { return .float(Float(number)) }
            return .double(number)
        case .string:
            guard case .string(let v) = json else { throw mismatch("string") }
            return .string(v)
        case .bytes, .fixed:
            guard case .string(let v) = json else { throw mismatch("bytes as a string") }
            return .bytes(Array(v.utf8))
        case .enumeration:
            guard case .string(let v) = json else { throw mismatch("enum symbol") }
            return .enumSymbol(v)
        case .array(let items):
            guard case .array(let values) = json else { throw mismatch("array") }
            return .array(
                try values.enumerated().map { try avroValue($1, schema: items, path: "\(path)[\($0)]") }
            )
        case .map(let values):
            guard case .object(let object) = json else { throw mismatch("map") }
            var result: [String: AvroValue] = [:]
            for (key, value) in object { result[key] = try avroValue(value, schema: values, path: "\(path).\(key)") }
            return .map(result)
        case .record(let record):
            guard case .object(let object) = json else { throw mismatch("record \(record.name)") }
            var result: [String: AvroValue] = [:]
            for field in record.fields {
                guard let value = object[field.name] else { continue }  // the encoder applies defaults
                result[field.name] = try avroValue(value, schema: field.type, path: "\(path).\(field.name)")
            }
            return .record(result)
        case .union(let branches):
            var lastError: (any Error)?
            for (index, branch) in branches.enumerated() where branch.accepts(json) {
                do {
                    return .union(branch: index, value: try avroValue(json, schema: branch, path: path))
                } catch {
                    lastError = error
                }
            }
            throw lastError ?? mismatch(branches.map(\.displayName).joined(separator: " or "))
        }
    }
}

extension AvroSchema {
    /// A short name for messages.
    var displayName: String {
        switch self {
        case .null: return "null"
        case .boolean: return "boolean"
        case .int: return "int"
        case .long: return "long"
        case .float: return "float"
        case .double: return "double"
        case .bytes: return "bytes"
        case .string: return "string"
        case .record(let r): return r.name
        case .enumeration(let e): return e.name
        case .array: return "array"
        case .map: return "map"
        case .union: return "union"
        case .fixed: return "fixed"
        }
    }

    /// Whether a JSON value could be of this (union branch) type.
    fileprivate func accepts(_ json: JSONValue) -> Bool {
        switch (self, json) {
        case (.null, .null), (.boolean, .bool), (.string, .string), (.bytes, .string), (.fixed, .string),
            (.enumeration, .string), (.array, .array), (.map, .object), (.record, .object):
            return true
        case (.int, .integer(let v)): return Int32(exactly: v) != nil
        case (.long, .integer): return true
        case (.float, .integer), (.float, .number), (.double, .integer), (.double, .number): return true
        default: return false
        }
    }
}

extension JSONValue {
    /// The kind of value, for messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension AvroBridge {
    /// The Avro payload of a message: Confluent framing (byte 0 + 4-byte schema id) and the
    /// single-object encoding (`C3 01` + fingerprint) are stripped; anything else is returned as is.
    /// Every record we read starts with a non-empty string, whose first byte is never 0 or 0xC3
    /// followed by 0x01 as a length, so a bare payload is not mistaken for a framed one.
    public static func unframed(_ bytes: [UInt8]) -> [UInt8] {
        if let frame = AvroFraming.detectConfluent(bytes) { return frame.payload }
        if bytes.count >= 10, bytes[0] == 0xC3, bytes[1] == 0x01 { return Array(bytes[10...]) }
        return bytes
    }
}
