/// A parsed Avro schema (Avro 1.11 specification).
///
/// Build one with ``parse(_:)`` from the JSON schema text, or directly from the cases.
/// Named types (records, enums, fixed) are stored inline wherever they are used, so a schema is a
/// plain value tree. Recursive named types (a record that refers to itself) are not supported.
public indirect enum AvroSchema: Sendable, Equatable {
    /// No value.
    case null
    /// A binary value.
    case boolean
    /// A 32-bit signed integer.
    case int
    /// A 64-bit signed integer.
    case long
    /// A single-precision IEEE 754 number.
    case float
    /// A double-precision IEEE 754 number.
    case double
    /// A sequence of 8-bit unsigned bytes.
    case bytes
    /// A sequence of Unicode characters, UTF-8 on the wire.
    case string
    /// A record: named fields, encoded in declaration order.
    case record(AvroRecordSchema)
    /// An enumeration of symbols, encoded as the symbol's index.
    case enumeration(AvroEnumSchema)
    /// An array of items of one schema.
    case array(AvroSchema)
    /// A map from strings to values of one schema.
    case map(AvroSchema)
    /// A union of branches, encoded as the branch index then the value.
    case union([AvroSchema])
    /// A fixed number of bytes.
    case fixed(AvroFixedSchema)
}

/// A record schema.
public struct AvroRecordSchema: Sendable, Equatable {
    /// The simple name, e.g. `ExecutionTicket`.
    public let name: String
    /// The namespace, e.g. `com.neuralhivemind.orchestration`, or `nil` for the null namespace.
    public let namespace: String?
    /// Alternative full names, used when resolving a writer's schema against this one.
    public let aliases: [String]
    /// The documentation string, if any.
    public let doc: String?
    /// The fields, in encoding order.
    public let fields: [AvroField]
    let fieldIndex: [String: Int]

    /// Creates a record schema.
    ///
    /// - Parameters:
    ///   - name: A simple name, or a full name containing dots (its prefix then becomes the namespace).
    ///   - namespace: The namespace, used only when `name` contains no dot.
    ///   - fields: The fields, in encoding order.
    ///   - aliases: Alternative full names.
    ///   - doc: Documentation.
    public init(name: String, namespace: String? = nil, fields: [AvroField], aliases: [String] = [], doc: String? = nil)
    {
        (self.name, self.namespace) = splitFullName(name, namespace: namespace)
        self.fields = fields
        self.aliases = aliases
        self.doc = doc
        var index: [String: Int] = [:]
        for (position, field) in fields.enumerated() where index[field.name] == nil {
            index[field.name] = position
        }
        self.fieldIndex = index
    }

    /// The full name: `namespace.name`, or `name` in the null namespace.
    public var fullName: String { joinFullName(name, namespace) }

    /// The field with this name, if any.
    public func field(named name: String) -> AvroField? {
        fieldIndex[name].map { fields[$0] }
    }
}

/// A field of a record schema.
public struct AvroField: Sendable, Equatable {
    /// The field's name.
    public let name: String
    /// The field's schema.
    public let type: AvroSchema
    /// The default used when a value or a writer's data lacks this field; `nil` when there is none.
    /// A default of JSON `null` is `.some(.null)`. For a union, the default belongs to the first branch.
    public let `default`: AvroValue?
    /// Alternative names, matched against writer field names during schema resolution.
    public let aliases: [String]
    /// The documentation string, if any.
    public let doc: String?
    /// The logical type annotation, e.g. `timestamp-millis`: taken from a `logicalType` attribute
    /// beside `type` on the field, or else from the field's type (or its first annotated union branch).
    public let logicalType: String?

    /// Creates a field.
    public init(
        name: String,
        type: AvroSchema,
        default: AvroValue? = nil,
        aliases: [String] = [],
        doc: String? = nil,
        logicalType: String? = nil
    ) {
        self.name = name
        self.type = type
        self.default = `default`
        self.aliases = aliases
        self.doc = doc
        self.logicalType = logicalType
    }
}

/// An enum schema.
public struct AvroEnumSchema: Sendable, Equatable {
    /// The simple name.
    public let name: String
    /// The namespace, or `nil` for the null namespace.
    public let namespace: String?
    /// Alternative full names.
    public let aliases: [String]
    /// The documentation string, if any.
    public let doc: String?
    /// The symbols, in index order.
    public let symbols: [String]
    /// The symbol a reader uses for a writer's symbol it does not know, if any.
    public let `default`: String?
    let symbolIndex: [String: Int]

    /// Creates an enum schema.
    ///
    /// - Parameters:
    ///   - name: A simple name, or a full name containing dots.
    ///   - namespace: The namespace, used only when `name` contains no dot.
    ///   - symbols: The symbols, in index order.
    ///   - default: The reader's fallback symbol.
    ///   - aliases: Alternative full names.
    ///   - doc: Documentation.
    public init(
        name: String,
        namespace: String? = nil,
        symbols: [String],
        default: String? = nil,
        aliases: [String] = [],
        doc: String? = nil
    ) {
        (self.name, self.namespace) = splitFullName(name, namespace: namespace)
        self.symbols = symbols
        self.default = `default`
        self.aliases = aliases
        self.doc = doc
        var index: [String: Int] = [:]
        for (position, symbol) in symbols.enumerated() where index[symbol] == nil {
            index[symbol] = position
        }
        self.symbolIndex = index
    }

    /// The full name: `namespace.name`, or `name` in the null namespace.
    public var fullName: String { joinFullName(name, namespace) }

    /// The index of a symbol, if it is one of ``symbols``.
    public func index(of symbol: String) -> Int? {
        symbolIndex[symbol]
    }
}

/// A fixed schema.
public struct AvroFixedSchema: Sendable, Equatable {
    /// The simple name.
    public let name: String
    /// The namespace, or `nil` for the null namespace.
    public let namespace: String?
    /// Alternative full names.
    public let aliases: [String]
    /// The number of bytes of every value.
    public let size: Int
    /// The logical type annotation (e.g. `decimal`, `duration`), if any.
    public let logicalType: String?

    /// Creates a fixed schema.
    public init(name: String, namespace: String? = nil, size: Int, aliases: [String] = [], logicalType: String? = nil) {
        (self.name, self.namespace) = splitFullName(name, namespace: namespace)
        self.size = size
        self.aliases = aliases
        self.logicalType = logicalType
    }

    /// The full name: `namespace.name`, or `name` in the null namespace.
    public var fullName: String { joinFullName(name, namespace) }
}

extension AvroSchema {
    /// The full name of a record, enum or fixed schema; `nil` for other schemas.
    public var fullName: String? {
        switch self {
        case .record(let record): return record.fullName
        case .enumeration(let enumeration): return enumeration.fullName
        case .fixed(let fixed): return fixed.fullName
        default: return nil
        }
    }

    /// The record schema, if this is a record.
    public var record: AvroRecordSchema? {
        if case .record(let record) = self { return record }
        return nil
    }

    /// Whether `null` is a valid value: the schema is `null` or a union with a `null` branch.
    public var isNullable: Bool {
        switch self {
        case .null: return true
        case .union(let branches): return branches.contains(.null)
        default: return false
        }
    }

    /// A short name for messages: the primitive name, the simple name of a named type,
    /// `array<items>`, `map<values>` or `union[a, b]`.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .boolean: return "boolean"
        case .int: return "int"
        case .long: return "long"
        case .float: return "float"
        case .double: return "double"
        case .bytes: return "bytes"
        case .string: return "string"
        case .record(let record): return record.name
        case .enumeration(let enumeration): return enumeration.name
        case .fixed(let fixed): return fixed.name
        case .array(let items): return "array<\(items.typeName)>"
        case .map(let values): return "map<\(values.typeName)>"
        case .union(let branches): return "union[\(branches.map(\.typeName).joined(separator: ", "))]"
        }
    }
}

/// Splits `a.b.C` into (`C`, `a.b`); a name without dots keeps the given namespace.
func splitFullName(_ name: String, namespace: String?) -> (name: String, namespace: String?) {
    if let dot = name.lastIndex(of: ".") {
        let prefix = String(name[..<dot])
        return (String(name[name.index(after: dot)...]), prefix.isEmpty ? nil : prefix)
    }
    if let namespace, !namespace.isEmpty {
        return (name, namespace)
    }
    return (name, nil)
}

func joinFullName(_ name: String, _ namespace: String?) -> String {
    guard let namespace, !namespace.isEmpty else { return name }
    return namespace + "." + name
}
