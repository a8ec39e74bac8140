import CSQLite

/// The `SQLITE_TRANSIENT` destructor: SQLite copies bound text and blobs before the call returns.
private var transientDestructor: sqlite3_destructor_type {
    unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// One prepared statement. Internal: the pointer never leaves the module.
///
/// Owned by a `SQLiteConnection`, either in its statement cache or for a single use.
final class SQLiteStatement {
    /// The SQL text, which is also the cache key.
    let sql: String
    /// `nil` once finalized.
    private(set) var pointer: OpaquePointer?
    /// Column names, computed once and recomputed only if SQLite re-prepares the statement after a schema change.
    private(set) var columns: SQLiteColumns
    private var reprepareCount: Int32
    /// Whether a caller is currently stepping this statement.
    var isInUse = false
    /// Whether the connection's cache owns this statement (otherwise it is finalized after its single use).
    var isCached = false
    /// Logical time of the last use, for least-recently-used eviction.
    var lastUsed: UInt64 = 0

    /// Compiles exactly one SQL statement; throws when `sql` holds none or more than one.
    init(db: OpaquePointer, sql: String, persistent: Bool) throws {
        var statement: OpaquePointer?
        var hasTrailingStatement = false
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, text, -1, flags, &statement, &tail)
            if rc == SQLITE_OK, statement != nil, let tail {
                // Whitespace and comments compile to no statement; anything else is a second statement.
                var extra: OpaquePointer?
                let extraRC = sqlite3_prepare_v2(db, tail, -1, &extra, nil)
                hasTrailingStatement = extraRC != SQLITE_OK || extra != nil
                sqlite3_finalize(extra)
            }
            return rc
        }
        guard rc == SQLITE_OK else {
            let error = SQLiteError.current(db, code: rc, sql: sql)
            sqlite3_finalize(statement)
            throw error
        }
        guard let statement else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "no SQL statement to run", sql: sql)
        }
        guard !hasTrailingStatement else {
            sqlite3_finalize(statement)
            throw SQLiteError(
                code: SQLITE_MISUSE,
                message: "only one SQL statement may be prepared at a time; use execute(_:) for several",
                sql: sql
            )
        }
        self.sql = sql
        self.pointer = statement
        self.columns = Self.readColumns(statement, sql: sql)
        self.reprepareCount = sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 0)
    }

    deinit {
        sqlite3_finalize(pointer)
    }

    /// Binds `values` to the parameters `?1 ... ?n`; their number must match the statement's parameters.
    func bind(_ values: [SQLiteValue]) throws {
        guard let pointer else {
            throw SQLiteError.closed(sql: sql)
        }
        let expected = Int(sqlite3_bind_parameter_count(pointer))
        guard values.count == expected else {
            throw SQLiteError(
                code: SQLITE_RANGE,
                message: "the statement has \(expected) parameters but \(values.count) values were bound",
                sql: sql
            )
        }
        for (offset, value) in values.enumerated() {
            let rc = Self.bind(value, to: Int32(offset + 1), of: pointer)
            guard rc == SQLITE_OK else {
                throw SQLiteError.current(sqlite3_db_handle(pointer), code: rc, sql: sql)
            }
        }
    }

    /// Recomputes the column names if SQLite re-prepared the statement since they were read.
    func refreshColumnsIfReprepared() {
        guard let pointer else { return }
        let count = sqlite3_stmt_status(pointer, SQLITE_STMTSTATUS_REPREPARE, 0)
        if count != reprepareCount {
            reprepareCount = count
            columns = Self.readColumns(pointer, sql: sql)
        }
    }

    /// The row the statement is positioned on (after `sqlite3_step` returned `SQLITE_ROW`).
    func currentRow() -> SQLiteRow {
        guard let pointer else {
            return SQLiteRow(columns: columns, values: [])
        }
        let count = columns.names.count
        var values: [SQLiteValue] = []
        values.reserveCapacity(count)
        for index in 0..<Int32(count) {
            values.append(Self.columnValue(pointer, index))
        }
        return SQLiteRow(columns: columns, values: values)
    }

    /// Makes the statement ready for its next use: ends any read it holds open and drops the bindings.
    func reset() {
        guard let pointer else { return }
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
    }

    /// Releases the statement; later uses throw.
    func finalize() {
        sqlite3_finalize(pointer)
        pointer = nil
    }

    private static func readColumns(_ statement: OpaquePointer, sql: String) -> SQLiteColumns {
        let count = sqlite3_column_count(statement)
        var names: [String] = []
        names.reserveCapacity(Int(count))
        for index in 0..<count {
            names.append(sqlite3_column_name(statement, index).map { String(cString: $0) } ?? "")
        }
        return SQLiteColumns(names: names, sql: sql)
    }

    private static func bind(_ value: SQLiteValue, to index: Int32, of statement: OpaquePointer) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(statement, index)
        case .integer(let number):
            return sqlite3_bind_int64(statement, index, number)
        case .real(let number):
            return sqlite3_bind_double(statement, index, number)
        case .text(var text):
            return text.withUTF8 { bytes in
                // A NULL pointer would bind SQL NULL, so an empty string needs a real (empty) buffer.
                guard let base = bytes.baseAddress else {
                    return sqlite3_bind_text(statement, index, "", 0, transientDestructor)
                }
                return UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                    sqlite3_bind_text64(
                        statement,
                        index,
                        chars,
                        UInt64(bytes.count),
                        transientDestructor,
                        UInt8(SQLITE_UTF8)
                    )
                }
            }
        case .blob(let bytes):
            // A NULL pointer would bind SQL NULL, so an empty blob is bound as a zero-length blob.
            guard !bytes.isEmpty else {
                return sqlite3_bind_zeroblob(statement, index, 0)
            }
            return bytes.withUnsafeBytes { buffer in
                sqlite3_bind_blob64(statement, index, buffer.baseAddress, UInt64(buffer.count), transientDestructor)
            }
        }
    }

    private static func columnValue(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            // Pointer first, then the byte count (the documented order); the count covers embedded NULs.
            guard let text = sqlite3_column_text(statement, index) else {
                return .text("")
            }
            let count = Int(sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            guard let blob = sqlite3_column_blob(statement, index) else {
                return .blob([])
            }
            let count = Int(sqlite3_column_bytes(statement, index))
            return .blob([UInt8](UnsafeRawBufferPointer(start: blob, count: count)))
        default:
            return .null
        }
    }
}
