import CSQLite

/// Resolving columns and converting values for the typed accessors.
extension SQLiteRow {
    /// How a column is addressed by the caller.
    enum ColumnReference {
        case index(Int)
        case name(String)
    }

    /// Converts a non-NULL value to `T`, or returns `nil` when the storage class does not fit.
    struct Converter<T> {
        let expected: String
        let convert: (SQLiteValue) -> T?
    }

    static var int64Converter: Converter<Int64> {
        Converter(expected: "INTEGER") { value in
            if case .integer(let number) = value { return number }
            return nil
        }
    }

    static var intConverter: Converter<Int> {
        Converter(expected: "INTEGER") { value in
            if case .integer(let number) = value { return Int(exactly: number) }
            return nil
        }
    }

    static var doubleConverter: Converter<Double> {
        Converter(expected: "REAL") { value in
            switch value {
            case .real(let number): return number
            case .integer(let number): return Double(number)
            default: return nil
            }
        }
    }

    static var stringConverter: Converter<String> {
        Converter(expected: "TEXT") { value in
            if case .text(let text) = value { return text }
            return nil
        }
    }

    static var boolConverter: Converter<Bool> {
        Converter(expected: "INTEGER (boolean)") { value in
            if case .integer(let number) = value { return number != 0 }
            return nil
        }
    }

    static var blobConverter: Converter<[UInt8]> {
        Converter(expected: "BLOB") { value in
            if case .blob(let bytes) = value { return bytes }
            return nil
        }
    }

    func required<T>(_ reference: ColumnReference, _ converter: Converter<T>) throws -> T {
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

    func optional<T>(_ reference: ColumnReference, _ converter: Converter<T>) throws -> T? {
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
