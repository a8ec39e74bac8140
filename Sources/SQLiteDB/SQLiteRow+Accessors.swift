/// Typed accessors. The non-optional ones throw an `SQLiteError` naming the column when the value is `NULL`;
/// all of them throw when the value has another storage class or the column does not exist.
extension SQLiteRow {
    /// An `INTEGER` column.
    public func int64(_ index: Int) throws -> Int64 {
        try required(.index(index), Self.int64Converter)
    }

    /// An `INTEGER` column.
    public func int64(_ name: String) throws -> Int64 {
        try required(.name(name), Self.int64Converter)
    }

    /// An `INTEGER` column, or `nil` for `NULL`.
    public func optionalInt64(_ index: Int) throws -> Int64? {
        try optional(.index(index), Self.int64Converter)
    }

    /// An `INTEGER` column, or `nil` for `NULL`.
    public func optionalInt64(_ name: String) throws -> Int64? {
        try optional(.name(name), Self.int64Converter)
    }

    /// An `INTEGER` column as `Int`.
    public func int(_ index: Int) throws -> Int {
        try required(.index(index), Self.intConverter)
    }

    /// An `INTEGER` column as `Int`.
    public func int(_ name: String) throws -> Int {
        try required(.name(name), Self.intConverter)
    }

    /// An `INTEGER` column as `Int`, or `nil` for `NULL`.
    public func optionalInt(_ index: Int) throws -> Int? {
        try optional(.index(index), Self.intConverter)
    }

    /// An `INTEGER` column as `Int`, or `nil` for `NULL`.
    public func optionalInt(_ name: String) throws -> Int? {
        try optional(.name(name), Self.intConverter)
    }

    /// A `REAL` column; an `INTEGER` value is converted to `Double`.
    public func double(_ index: Int) throws -> Double {
        try required(.index(index), Self.doubleConverter)
    }

    /// A `REAL` column; an `INTEGER` value is converted to `Double`.
    public func double(_ name: String) throws -> Double {
        try required(.name(name), Self.doubleConverter)
    }

    /// A `REAL` column (or `INTEGER`, converted), or `nil` for `NULL`.
    public func optionalDouble(_ index: Int) throws -> Double? {
        try optional(.index(index), Self.doubleConverter)
    }

    /// A `REAL` column (or `INTEGER`, converted), or `nil` for `NULL`.
    public func optionalDouble(_ name: String) throws -> Double? {
        try optional(.name(name), Self.doubleConverter)
    }

    /// A `TEXT` column.
    public func string(_ index: Int) throws -> String {
        try required(.index(index), Self.stringConverter)
    }

    /// A `TEXT` column.
    public func string(_ name: String) throws -> String {
        try required(.name(name), Self.stringConverter)
    }

    /// A `TEXT` column, or `nil` for `NULL`.
    public func optionalString(_ index: Int) throws -> String? {
        try optional(.index(index), Self.stringConverter)
    }

    /// A `TEXT` column, or `nil` for `NULL`.
    public func optionalString(_ name: String) throws -> String? {
        try optional(.name(name), Self.stringConverter)
    }

    /// An `INTEGER` column as a boolean: 0 is `false`, anything else `true`.
    public func bool(_ index: Int) throws -> Bool {
        try required(.index(index), Self.boolConverter)
    }

    /// An `INTEGER` column as a boolean: 0 is `false`, anything else `true`.
    public func bool(_ name: String) throws -> Bool {
        try required(.name(name), Self.boolConverter)
    }

    /// An `INTEGER` column as a boolean, or `nil` for `NULL`.
    public func optionalBool(_ index: Int) throws -> Bool? {
        try optional(.index(index), Self.boolConverter)
    }

    /// An `INTEGER` column as a boolean, or `nil` for `NULL`.
    public func optionalBool(_ name: String) throws -> Bool? {
        try optional(.name(name), Self.boolConverter)
    }

    /// A `BLOB` column.
    public func blob(_ index: Int) throws -> [UInt8] {
        try required(.index(index), Self.blobConverter)
    }

    /// A `BLOB` column.
    public func blob(_ name: String) throws -> [UInt8] {
        try required(.name(name), Self.blobConverter)
    }

    /// A `BLOB` column, or `nil` for `NULL`.
    public func optionalBlob(_ index: Int) throws -> [UInt8]? {
        try optional(.index(index), Self.blobConverter)
    }

    /// A `BLOB` column, or `nil` for `NULL`.
    public func optionalBlob(_ name: String) throws -> [UInt8]? {
        try optional(.name(name), Self.blobConverter)
    }
}
