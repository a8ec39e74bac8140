import CSQLite

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

extension SQLiteRow {
    /// How a column is addressed by the caller.
    private enum ColumnReference {
        case index(Int)
        case name(String)
    }

    /// Converts a non-NULL value to `T`, or returns `nil` when the storage class does not fit.
    private struct Converter<T> {
        let expected: String
        let convert: (SQLiteValue) -> T?
    }

    private static var int64Converter: Converter<Int64> {
        Converter(expected: "INTEGER") { value in
            if case .integer(let number) = value { return number }
            return nil
        }
    }

    private static var intConverter: Converter<Int> {
        Converter(expected: "INTEGER") { value in
            if case .integer(let number) = value { return Int(exactly: number) }
            return nil
        }
    }

    private static var doubleConverter: Converter<Double> {
        Converter(expected: "REAL") { value in
            switch value {
            case .real(let number): return number
            case .integer(let number): return Double(number)
            default: return nil
            }
        }
    }

    private static var stringConverter: Converter<String> {
        Converter(expected: "TEXT") { value in
            if case .text(let text) = value { return text }
            return nil
        }
    }

    private static var boolConverter: Converter<Bool> {
        Converter(expected: "INTEGER (boolean)") { value in
            if case .integer(let number) = value { return number != 0 }
            return nil
        }
    }

    private static var blobConverter: Converter<[UInt8]> {
        Converter(expected: "BLOB") { value in
            if case .blob(let bytes) = value { return bytes }
            return nil
        }
    }

    private func required<T>(_ reference: ColumnReference, _ converter: Converter<T>) throws -> T {
        let index = try resolve(reference)
        guard let result = try convert(index, converter) else {
            throw SQLiteError(
                code: SQLITE_MISMATCH,
                message: "column \(describe(index)) is NULL; expected \(converter.expected)",
                sql: columns.sql
            )
        }
        return result
    }

    private func optional<T>(_ reference: ColumnReference, _ converter: Converter<T>) throws -> T? {
        try convert(try resolve(reference), converter)
    }

    /// `nil` for NULL, the converted value, or a mismatch error.
    private func convert<T>(_ index: Int, _ converter: Converter<T>) throws -> T? {
        let value = values[index]
        if value.isNull {
            return nil
        }
        guard let result = converter.convert(value) else {
            throw SQLiteError(
                code: SQLITE_MISMATCH,
                message: "column \(describe(index)) holds \(value.storageClassName); expected \(converter.expected)",
                sql: columns.sql
            )
        }
        return result
    }

    private func resolve(_ reference: ColumnReference) throws -> Int {
        switch reference {
        case .index(let index):
            guard values.indices.contains(index) else {
                throw SQLiteError(
                    code: SQLITE_RANGE,
                    message: "column index \(index) is out of range; the row has \(values.count) columns",
                    sql: columns.sql
                )
            }
            return index
        case .name(let name):
            guard let index = columns.index(of: name) else {
                throw SQLiteError(
                    code: SQLITE_RANGE,
                    message: "no column named '\(name)'; columns are \(columns.names)",
                    sql: columns.sql
                )
            }
            return index
        }
    }

    private func describe(_ index: Int) -> String {
        "'\(columns.names[index])' (index \(index))"
    }
}
