/// An error raised while parsing a schema, encoding, decoding or resolving Avro data.
///
/// Every error carries a stable ``code``, the ``path`` of the offending field or type (for example
/// `ExecutionTicket.sla.deadline` or `CognitivePlan.tasks[2].parameters["k"]`) and a human-readable
/// ``reason``. ``message`` joins the two: `ExecutionTicket.sla.deadline: expected long, got string`.
public struct AvroError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable error category.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `typeMismatch`.
        public let rawValue: String

        /// Creates a code from its name.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }

        /// The schema text is not well-formed JSON.
        public static let invalidJSON = Code(rawValue: "invalidJSON")
        /// The schema JSON does not describe a valid Avro schema.
        public static let invalidSchema = Code(rawValue: "invalidSchema")
        /// A type name is neither a primitive nor a previously defined named type.
        public static let unknownType = Code(rawValue: "unknownType")
        /// A named type, field or enum symbol is defined twice.
        public static let duplicateName = Code(rawValue: "duplicateName")
        /// A field default does not match the field's type.
        public static let invalidDefault = Code(rawValue: "invalidDefault")
        /// The schema uses a feature this codec does not support (recursive named types).
        public static let unsupported = Code(rawValue: "unsupported")
        /// A value does not match the schema at this position.
        public static let typeMismatch = Code(rawValue: "typeMismatch")
        /// A record value lacks a field that has no default.
        public static let missingField = Code(rawValue: "missingField")
        /// A record value has a field the schema does not declare.
        public static let unknownField = Code(rawValue: "unknownField")
        /// An enum symbol is not one of the schema's symbols.
        public static let unknownSymbol = Code(rawValue: "unknownSymbol")
        /// A number does not fit the schema's type (e.g. an `int` outside 32 bits).
        public static let valueOutOfRange = Code(rawValue: "valueOutOfRange")
        /// The input ended before the value was complete.
        public static let truncated = Code(rawValue: "truncated")
        /// A length or block count is negative or larger than the remaining input allows.
        public static let invalidLength = Code(rawValue: "invalidLength")
        /// A variable-length integer is longer than 10 bytes or overflows.
        public static let invalidVarint = Code(rawValue: "invalidVarint")
        /// A union branch index is outside the union.
        public static let invalidUnionIndex = Code(rawValue: "invalidUnionIndex")
        /// An enum index is outside the enum's symbols.
        public static let invalidEnumIndex = Code(rawValue: "invalidEnumIndex")
        /// A string is not valid UTF-8.
        public static let invalidUTF8 = Code(rawValue: "invalidUTF8")
        /// Bytes remain after the value was decoded.
        public static let trailingBytes = Code(rawValue: "trailingBytes")
        /// A configured decoding limit was exceeded.
        public static let limitExceeded = Code(rawValue: "limitExceeded")
        /// The writer's schema cannot be resolved against the reader's schema.
        public static let incompatibleSchemas = Code(rawValue: "incompatibleSchemas")
        /// A framed message (e.g. Confluent wire format) is malformed.
        public static let invalidFraming = Code(rawValue: "invalidFraming")
    }

    /// The error category.
    public let code: Code
    /// Where the error happened: a record name followed by field names, `[index]` and `["key"]`
    /// components. Empty when the error is not tied to a position.
    public private(set) var path: String
    /// What went wrong, without the path.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String, path: String = "") {
        self.code = code
        self.reason = reason
        self.path = path
    }

    /// The path and the reason, e.g. `ExecutionTicket.sla.deadline: expected long, got string`.
    public var message: String {
        path.isEmpty ? reason : "\(path): \(reason)"
    }

    public var description: String {
        "AvroError(\(code)): \(message)"
    }
}

extension AvroError {
    /// Prefixes the path with a field name (`name.rest`).
    func prefixed(field name: String) -> AvroError {
        var copy = self
        if path.isEmpty {
            copy.path = name
        } else if path.hasPrefix("[") {
            copy.path = name + path
        } else {
            copy.path = name + "." + path
        }
        return copy
    }

    /// Prefixes the path with an array index (`[index]rest`).
    func prefixed(index: Int) -> AvroError {
        prefixed(component: "[\(index)]")
    }

    /// Prefixes the path with a map key (`["key"]rest`).
    func prefixed(key: String) -> AvroError {
        prefixed(component: "[\"\(key)\"]")
    }

    private func prefixed(component: String) -> AvroError {
        var copy = self
        if path.isEmpty || path.hasPrefix("[") {
            copy.path = component + path
        } else {
            copy.path = component + "." + path
        }
        return copy
    }
}
