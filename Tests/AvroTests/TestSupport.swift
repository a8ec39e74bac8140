import Avro
import Foundation

/// Bytes from hex text; whitespace is ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.unicodeScalars.filter { !$0.properties.isWhitespace })
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { index in
        UInt8(String(String.UnicodeScalarView(digits[index..<index + 2])), radix: 16) ?? 0
    }
}

/// Hex text of bytes, for readable failures.
func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// Runs `body` and returns the ``AvroError`` it threw, or `nil` if it threw nothing (or something else).
func avroError(_ body: () throws -> Void) -> AvroError? {
    do {
        try body()
        return nil
    } catch let error as AvroError {
        return error
    } catch {
        return nil
    }
}

/// The shared contracts directory: `../shared/contracts` beside the repository root.
enum Contracts {
    static let directory: URL = {
        // Tests/AvroTests/TestSupport.swift → repository root (symlinks resolved, for dev checkouts).
        let file = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        let root = file.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/contracts", isDirectory: true)
    }()

    static let schemaFiles = [
        "cognitive-plan.avsc",
        "consolidated-decision.avsc",
        "execution-result.avsc",
        "execution-ticket.avsc",
        "flow-c-telemetry.avsc",
        "orchestration-incident.avsc",
    ]

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func schema(_ name: String) throws -> AvroSchema {
        try AvroSchema.parse(text(name))
    }
}

/// Deterministic sample values for any schema.
enum Samples {
    /// A value using every field, the last branch of each union and two items per collection.
    static func full(_ schema: AvroSchema, depth: Int = 0) -> AvroValue {
        switch schema {
        case .null: return .null
        case .boolean: return .boolean(depth % 2 == 0)
        case .int: return .int(Int32(-42 - depth))
        case .long: return .long(1_761_682_622_000 + Int64(depth))
        case .float: return .float(1.5)
        case .double: return .double(-0.25)
        case .bytes: return .bytes([0, 1, 0x7F, 0x80, 0xFF])
        case .string: return .string("ação ✓ \(depth)")
        case .record(let record):
            var fields: [String: AvroValue] = [:]
            for field in record.fields {
                fields[field.name] = full(field.type, depth: depth + 1)
            }
            return .record(fields)
        case .enumeration(let enumeration): return .enumSymbol(enumeration.symbols.last ?? "")
        case .array(let items): return .array([full(items, depth: depth + 1), full(items, depth: depth + 2)])
        case .map(let values): return .map(["a": full(values, depth: depth + 1), "b": full(values, depth: depth + 2)])
        case .union(let branches): return branches.last.map { full($0, depth: depth) } ?? .null
        case .fixed(let fixed): return .fixed((0..<fixed.size).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        }
    }

    /// A value using the first branch of each union, empty collections and the first enum symbol.
    static func minimal(_ schema: AvroSchema) -> AvroValue {
        switch schema {
        case .record(let record):
            var fields: [String: AvroValue] = [:]
            for field in record.fields {
                fields[field.name] = minimal(field.type)
            }
            return .record(fields)
        case .enumeration(let enumeration): return .enumSymbol(enumeration.symbols.first ?? "")
        case .array: return .array([])
        case .map: return .map([:])
        case .union(let branches): return branches.first.map(minimal) ?? .null
        case .string: return .string("")
        case .bytes: return .bytes([])
        default: return full(schema)
        }
    }
}

/// Plain JSON, decoded with `JSONDecoder`, keeping integers and booleans apart from doubles.
enum JSONAny: Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONAny])
    case object([String: JSONAny])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONAny].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONAny].self))
        }
    }

    static func parse(_ text: String) throws -> JSONAny {
        try JSONDecoder().decode(JSONAny.self, from: Data(text.utf8))
    }
}

/// Converts plain JSON into a value of `schema`, ignoring keys the schema does not declare, the
/// way the hive-mind's Python producers write their messages.
enum JSONToAvro {
    struct Mismatch: Error {
        var message: String
    }

    static func value(_ json: JSONAny, _ schema: AvroSchema) throws -> AvroValue {
        switch (schema, json) {
        case (.null, .null): return .null
        case (.boolean, .bool(let value)): return .boolean(value)
        case (.int, .integer(let value)):
            guard let int = Int32(exactly: value) else { break }
            return .int(int)
        case (.long, .integer(let value)): return .long(value)
        case (.float, .integer(let value)): return .float(Float(value))
        case (.float, .number(let value)): return .float(Float(value))
        case (.double, .integer(let value)): return .double(Double(value))
        case (.double, .number(let value)): return .double(value)
        case (.string, .string(let value)): return .string(value)
        case (.bytes, .string(let value)): return .bytes(Array(value.utf8))
        case (.enumeration, .string(let value)): return .enumSymbol(value)
        case (.fixed, .string(let value)): return .fixed(Array(value.utf8))
        case (.array(let items), .array(let elements)):
            return .array(try elements.map { try value($0, items) })
        case (.map(let values), .object(let members)):
            return .map(try members.mapValues { try value($0, values) })
        case (.record(let record), .object(let members)):
            var fields: [String: AvroValue] = [:]
            for field in record.fields {
                if let member = members[field.name] {
                    fields[field.name] = try value(member, field.type)
                }
            }
            return .record(fields)
        case (.union(let branches), _):
            for branch in branches {
                if let converted = try? value(json, branch) {
                    return converted
                }
            }
        default: break
        }
        throw Mismatch(message: "\(json) is not a \(schema.typeName)")
    }
}
