/// One SQLite value, in one of SQLite's five storage classes.
///
/// Used both for statement bindings and for the values of result rows.
public enum SQLiteValue: Sendable, Equatable, Hashable {
    /// SQL `NULL`.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// A 64-bit IEEE floating point number.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Raw bytes. An empty array is stored as a zero-length blob, not as `NULL`.
    case blob([UInt8])
}

extension SQLiteValue {
    /// `.text(value)`, or `.null` when `value` is `nil`.
    public init(_ value: String?) {
        self = value.map { .text($0) } ?? .null
    }

    /// `.integer(value)`, or `.null` when `value` is `nil`.
    public init(_ value: Int64?) {
        self = value.map { .integer($0) } ?? .null
    }

    /// `.integer(value)`, or `.null` when `value` is `nil`.
    public init(_ value: Int?) {
        self = value.map { .integer(Int64($0)) } ?? .null
    }

    /// `.real(value)`, or `.null` when `value` is `nil`.
    public init(_ value: Double?) {
        self = value.map { .real($0) } ?? .null
    }

    /// `.integer(1)` for `true`, `.integer(0)` for `false`.
    public init(_ value: Bool) {
        self = .integer(value ? 1 : 0)
    }

    /// `.integer(1)` / `.integer(0)`, or `.null` when `value` is `nil`.
    public init(_ value: Bool?) {
        self = value.map { SQLiteValue($0) } ?? .null
    }

    /// `.blob(value)`, or `.null` when `value` is `nil`.
    public init(_ value: [UInt8]?) {
        self = value.map { .blob($0) } ?? .null
    }

    /// `true` for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The SQL name of the storage class (`NULL`, `INTEGER`, `REAL`, `TEXT`, `BLOB`), for messages.
    var storageClassName: String {
        switch self {
        case .null: return "NULL"
        case .integer: return "INTEGER"
        case .real: return "REAL"
        case .text: return "TEXT"
        case .blob: return "BLOB"
        }
    }
}

extension SQLiteValue: ExpressibleByNilLiteral {
    /// `nil` is `.null`.
    public init(nilLiteral: ()) {
        self = .null
    }
}

extension SQLiteValue: ExpressibleByIntegerLiteral {
    /// An integer literal is `.integer`.
    public init(integerLiteral value: Int64) {
        self = .integer(value)
    }
}

extension SQLiteValue: ExpressibleByFloatLiteral {
    /// A floating point literal is `.real`.
    public init(floatLiteral value: Double) {
        self = .real(value)
    }
}

extension SQLiteValue: ExpressibleByStringLiteral {
    /// A string literal is `.text`.
    public init(stringLiteral value: String) {
        self = .text(value)
    }
}
