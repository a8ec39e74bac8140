import CSQLite

/// A connection to one SQLite database file.
///
/// **Not thread-safe, by design.** The connection is opened with `SQLITE_OPEN_NOMUTEX`, so SQLite does no locking
/// of its own for it. Exactly one owner, typically an actor, may use it at a time; it is `Sendable` only so that
/// it can be handed to (and stored in) that owner. Use one connection per actor; several connections, also in
/// other processes, may share a database file (WAL mode lets readers run alongside one writer).
///
/// Statements run through `run`, `query`, `queryFirst`, `forEach` and `scalarInt64` are prepared once and kept
/// in a per-connection cache keyed by their SQL text, so pass values as bindings (`?`) rather than building
/// SQL strings. Each of those calls compiles exactly one statement; use `execute(_:)` for scripts.
public final class SQLiteConnection: @unchecked Sendable {
    /// The path the connection was opened with.
    public let path: String

    /// The options the connection was opened with.
    public let options: Options

    /// The SQLite handle; `nil` once closed.
    private(set) var handle: OpaquePointer?

    /// Prepared statements keyed by SQL text.
    var statementCache: [String: SQLiteStatement] = [:]

    /// Logical clock for least-recently-used eviction from the statement cache.
    var useClock: UInt64 = 0

    /// How many savepoints `transaction` currently has open.
    var savepointDepth = 0

    /// Opens (creating if needed) the database at `path` and applies `options`.
    ///
    /// The file is opened with `SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX`
    /// (`SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX` when `options.readOnly`). Throws when the file cannot be
    /// opened, an option is invalid, or the requested journal mode could not be enabled.
    public init(path: String, options: Options = .init()) throws {
        try options.validate()
        self.path = path
        self.options = options
        var db: OpaquePointer?
        let access = options.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, access | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            let code = db.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(db)
            throw SQLiteError(code: code, message: "cannot open database '\(path)': \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        do {
            try configure(db)
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// The version of the SQLite library in use, e.g. `3.40.1`.
    public static var libraryVersion: String {
        String(cString: sqlite3_libversion())
    }

    /// Whether the connection has been closed.
    public var isClosed: Bool {
        handle == nil
    }

    /// Whether a transaction is open (SQLite is not in autocommit mode).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        return sqlite3_get_autocommit(handle) == 0
    }

    /// Rows changed by the most recent `INSERT`, `UPDATE` or `DELETE` (`sqlite3_changes64`); 0 when closed.
    public var changes: Int {
        guard let handle else { return 0 }
        return Int(sqlite3_changes64(handle))
    }

    /// The rowid of the most recent successful `INSERT` (`sqlite3_last_insert_rowid`); 0 when closed.
    public var lastInsertRowID: Int64 {
        guard let handle else { return 0 }
        return sqlite3_last_insert_rowid(handle)
    }

    /// Runs one or more `;`-separated SQL statements without bindings or results (`sqlite3_exec`),
    /// e.g. a schema script. Statements run in order and stop at the first error.
    public func execute(_ sql: String) throws {
        let db = try openHandle(sql: sql)
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard rc == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            throw SQLiteError(code: rc, message: message, sql: sql)
        }
    }

    /// Finalizes every cached statement and closes the connection (`sqlite3_close_v2`), rolling back any open
    /// transaction. Later calls throw; closing again does nothing. Also done on `deinit`.
    public func close() {
        guard let db = handle else { return }
        for statement in statementCache.values {
            statement.isCached = false
            statement.finalize()
        }
        statementCache.removeAll()
        handle = nil
        savepointDepth = 0
        sqlite3_close_v2(db)
    }

    /// The open handle, or an error naming `sql` when closed.
    func openHandle(sql: String?) throws -> OpaquePointer {
        guard let handle else {
            throw SQLiteError.closed(sql: sql)
        }
        return handle
    }

    /// Applies the pragmas of `options`.
    private func configure(_ db: OpaquePointer) throws {
        sqlite3_busy_timeout(db, Int32(clamping: options.busyTimeoutMs))
        if !options.readOnly {
            // The journal mode is a property of the file; a read-only connection uses whatever it finds.
            let requested = options.journalMode.lowercased()
            let pragma = "PRAGMA journal_mode = \(requested)"
            let mode = try withStatement(pragma, [], cache: false) { statement in
                try step(statement) ? try statement.currentRow().optionalString(0)?.lowercased() : nil
            }
            // In-memory databases always report "memory"; anything else must be what was asked for.
            guard mode == requested || mode == "memory" else {
                throw SQLiteError(
                    code: SQLITE_ERROR,
                    message: "journal_mode \(options.journalMode) could not be enabled (got \(mode ?? "nothing"))",
                    sql: pragma
                )
            }
        }
        try execute(
            """
            PRAGMA synchronous = \(options.synchronous.lowercased());
            PRAGMA foreign_keys = \(options.foreignKeys ? "ON" : "OFF");
            PRAGMA cache_size = -\(options.cacheSizeKiB);
            PRAGMA wal_autocheckpoint = \(max(0, options.walAutocheckpointPages));
            """
        )
    }
}
