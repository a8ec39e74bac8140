/// The values of one result row, with the statement's column names.
///
/// The column names are shared by every row of a statement, so rows are cheap to create and to copy.
public struct SQLiteRow: Sendable {
    let columns: SQLiteColumns

    /// The values, in column order.
    public let values: [SQLiteValue]

    init(columns: SQLiteColumns, values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    /// Creates a row by hand (useful for tests). `columnNames` and `values` must have the same length.
    public init(columnNames: [String], values: [SQLiteValue]) {
        precondition(
            columnNames.count == values.count,
            "SQLiteRow: \(columnNames.count) names for \(values.count) values"
        )
        self.init(columns: SQLiteColumns(names: columnNames, sql: nil), values: values)
    }

    /// The column names, in result order.
    public var columnNames: [String] {
        columns.names
    }

    /// The number of columns.
    public var count: Int {
        values.count
    }

    /// Whether the row has a column called `name` (case-insensitive, like SQL).
    public func hasColumn(_ name: String) -> Bool {
        columns.index(of: name) != nil
    }

    /// The value at column `index`. Traps when `index` is out of range, like `Array`;
    /// the typed accessors (`int64(_:)`, ...) throw instead.
    public subscript(index: Int) -> SQLiteValue {
        values[index]
    }

    /// The value of the column called `name` (exact match first, then case-insensitive; the first of duplicate
    /// names wins). Traps when there is no such column, which is a programming error; the typed accessors
    /// (`int64(_:)`, ...) throw instead.
    public subscript(name: String) -> SQLiteValue {
        guard let index = columns.index(of: name) else {
            preconditionFailure("SQLiteRow: no column named '\(name)' among \(columns.names)")
        }
        return values[index]
    }
}
