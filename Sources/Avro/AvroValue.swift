/// A generic Avro datum.
///
/// The decoder returns unions as the plain value of the branch that was written (so an optional
/// `["null", "string"]` field decodes as `.null` or `.string`), records as `.record`, maps as
/// `.map`, enums as `.enumSymbol` and fixed values as `.fixed`.
///
/// The encoder is lenient where no information is lost: a union position accepts a plain value and
/// picks the first branch of the same kind, else the first branch it can be promoted to (`int` to
/// `long`, `float`, `double`; `long` to `float`, `double`; `float` to `double`); ``union(branch:value:)``
/// picks a branch explicitly. Records and maps accept both `.record` and `.map`; enums accept
/// `.enumSymbol` and `.string`; `int` accepts a `.long` that fits in 32 bits; `float` accepts `.double`;
/// `bytes` accepts `.string` (UTF-8) and `.fixed`; `fixed` accepts `.bytes` of the right size.
public enum AvroValue: Sendable, Equatable {
    /// The `null` value.
    case null
    /// A `boolean`.
    case boolean(Bool)
    /// An `int`.
    case int(Int32)
    /// A `long`.
    case long(Int64)
    /// A `float`.
    case float(Float)
    /// A `double`.
    case double(Double)
    /// A `bytes` value.
    case bytes([UInt8])
    /// A `string`.
    case string(String)
    /// A record: field name to value.
    case record([String: AvroValue])
    /// An enum symbol.
    case enumSymbol(String)
    /// An array.
    case array([AvroValue])
    /// A map: key to value.
    case map([String: AvroValue])
    /// A `fixed` value.
    case fixed([UInt8])
    /// A value for an explicit union branch (zero-based). Only used when encoding; the decoder
    /// returns the plain value.
    indirect case union(branch: Int, value: AvroValue)
}

extension AvroValue {
    /// The kind of value, for messages: `null`, `boolean`, `int`, `long`, `float`, `double`, `bytes`,
    /// `string`, `record`, `enum symbol`, `array`, `map`, `fixed` or `union branch`.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .boolean: return "boolean"
        case .int: return "int"
        case .long: return "long"
        case .float: return "float"
        case .double: return "double"
        case .bytes: return "bytes"
        case .string: return "string"
        case .record: return "record"
        case .enumSymbol: return "enum symbol"
        case .array: return "array"
        case .map: return "map"
        case .fixed: return "fixed"
        case .union: return "union branch"
        }
    }

    /// The value without an explicit ``union(branch:value:)`` wrapper.
    public var unwrapped: AvroValue {
        if case .union(_, let value) = self { return value.unwrapped }
        return self
    }

    /// Whether the value is `.null`.
    public var isNull: Bool { unwrapped == .null }

    /// The `boolean` payload.
    public var boolean: Bool? {
        if case .boolean(let value) = unwrapped { return value }
        return nil
    }

    /// The `int` payload.
    public var int: Int32? {
        if case .int(let value) = unwrapped { return value }
        return nil
    }

    /// The integer payload of an `int` or a `long`, widened.
    public var long: Int64? {
        switch unwrapped {
        case .int(let value): return Int64(value)
        case .long(let value): return value
        default: return nil
        }
    }

    /// The `float` payload.
    public var float: Float? {
        if case .float(let value) = unwrapped { return value }
        return nil
    }

    /// The numeric payload of an `int`, `long`, `float` or `double`, as a `Double`.
    public var double: Double? {
        switch unwrapped {
        case .int(let value): return Double(value)
        case .long(let value): return Double(value)
        case .float(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The `string` payload, or the symbol of an enum.
    public var string: String? {
        switch unwrapped {
        case .string(let value): return value
        case .enumSymbol(let value): return value
        default: return nil
        }
    }

    /// The payload of `bytes` or `fixed`.
    public var bytes: [UInt8]? {
        switch unwrapped {
        case .bytes(let value): return value
        case .fixed(let value): return value
        default: return nil
        }
    }

    /// The fields of a record (or the entries of a map).
    public var record: [String: AvroValue]? {
        switch unwrapped {
        case .record(let value): return value
        case .map(let value): return value
        default: return nil
        }
    }

    /// The entries of a map (or the fields of a record).
    public var map: [String: AvroValue]? { record }

    /// The items of an array.
    public var array: [AvroValue]? {
        if case .array(let value) = unwrapped { return value }
        return nil
    }

    /// The symbol of an enum.
    public var enumSymbol: String? {
        if case .enumSymbol(let value) = unwrapped { return value }
        return nil
    }

    /// A field of a record or an entry of a map; `nil` if absent or not a record or map.
    public subscript(key: String) -> AvroValue? {
        record?[key]
    }

    /// An item of an array; `nil` if out of range or not an array.
    public subscript(index: Int) -> AvroValue? {
        guard let items = array, items.indices.contains(index) else { return nil }
        return items[index]
    }
}

extension AvroValue: ExpressibleByStringLiteral {
    /// Creates a `.string`.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension AvroValue: ExpressibleByBooleanLiteral {
    /// Creates a `.boolean`.
    public init(booleanLiteral value: Bool) {
        self = .boolean(value)
    }
}

extension AvroValue: ExpressibleByIntegerLiteral {
    /// Creates a `.long` (accepted by `int` positions when it fits in 32 bits).
    public init(integerLiteral value: Int64) {
        self = .long(value)
    }
}

extension AvroValue: ExpressibleByFloatLiteral {
    /// Creates a `.double` (accepted by `float` positions).
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension AvroValue: ExpressibleByArrayLiteral {
    /// Creates an `.array`.
    public init(arrayLiteral elements: AvroValue...) {
        self = .array(elements)
    }
}

extension AvroValue: ExpressibleByDictionaryLiteral {
    /// Creates a `.record` (accepted by `map` positions too). Later duplicate keys win.
    public init(dictionaryLiteral elements: (String, AvroValue)...) {
        var fields: [String: AvroValue] = [:]
        for (key, value) in elements {
            fields[key] = value
        }
        self = .record(fields)
    }
}
