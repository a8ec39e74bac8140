import CSQLite

/// Running single prepared statements with bindings.
extension SQLiteConnection {
    /// Runs one statement with `bindings` for its `?` parameters, stepping it to completion and discarding
    /// any rows (e.g. of `INSERT ... RETURNING`). See `changes` and `lastInsertRowID` for the outcome.
    public func run(_ sql: String, _ bindings: [SQLiteValue] = []) throws {
        try withStatement(sql, bindings) { statement in
            while try step(statement) {
                continue
            }
        }
    }

    /// Runs one statement and returns all its rows.
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [SQLiteRow] {
        try withStatement(sql, bindings) { statement in
            var rows: [SQLiteRow] = []
            while try step(statement) {
                rows.append(statement.currentRow())
            }
            return rows
        }
    }

    /// Runs one statement and returns its first row, or `nil` when there is none; the rest are not computed.
    public func queryFirst(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> SQLiteRow? {
        try withStatement(sql, bindings) { statement in
            try step(statement) ? statement.currentRow() : nil
        }
    }

    /// Runs one statement and calls `body` for each row as it is produced, without collecting them.
    /// An error thrown by `body` stops the iteration and is rethrown. `body` may use this connection.
    public func forEach(_ sql: String, _ bindings: [SQLiteValue] = [], _ body: (SQLiteRow) throws -> Void) throws {
        try withStatement(sql, bindings) { statement in
            while try step(statement) {
                try body(statement.currentRow())
            }
        }
    }

    /// The first column of the first row as an integer; `nil` when there is no row or the value is `NULL`.
    /// Throws when the value is not an integer.
    public func scalarInt64(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int64? {
        try queryFirst(sql, bindings)?.optionalInt64(0)
    }

    /// The number of prepared statements currently cached.
    var cachedStatementCount: Int {
        statementCache.count
    }

    /// Prepares (or takes from the cache) the statement for `sql`, binds `bindings` and hands it to `body`;
    /// afterwards the statement is reset and its bindings cleared (cached) or finalized (one-off).
    func withStatement<T>(
        _ sql: String,
        _ bindings: [SQLiteValue],
        cache: Bool = true,
        _ body: (SQLiteStatement) throws -> T
    ) throws -> T {
        let statement = try acquireStatement(sql, cache: cache)
        defer { releaseStatement(statement) }
        try statement.bind(bindings)
        return try body(statement)
    }

    /// Advances `statement`; `true` when a row is available, `false` when done.
    func step(_ statement: SQLiteStatement) throws -> Bool {
        guard let db = handle, let pointer = statement.pointer else {
            throw SQLiteError.closed(sql: statement.sql)
        }
        let rc = sqlite3_step(pointer)
        switch rc {
        case SQLITE_ROW:
            statement.refreshColumnsIfReprepared()
            return true
        case SQLITE_DONE:
            return false
        default:
            throw SQLiteError.current(db, code: rc, sql: statement.sql)
        }
    }

    private func acquireStatement(_ sql: String, cache: Bool) throws -> SQLiteStatement {
        let db = try openHandle(sql: sql)
        useClock &+= 1
        if cache, let cached = statementCache[sql] {
            if !cached.isInUse {
                cached.isInUse = true
                cached.lastUsed = useClock
                return cached
            }
            // The same SQL is already being stepped further up the stack (e.g. inside `forEach`):
            // use a one-off statement rather than resetting the one in use.
            let statement = try SQLiteStatement(db: db, sql: sql, persistent: false)
            statement.isInUse = true
            return statement
        }
        let cacheIt = cache && makeRoomInCache()
        let statement = try SQLiteStatement(db: db, sql: sql, persistent: cacheIt)
        statement.isInUse = true
        statement.lastUsed = useClock
        if cacheIt {
            statement.isCached = true
            statementCache[sql] = statement
        }
        return statement
    }

    private func releaseStatement(_ statement: SQLiteStatement) {
        statement.isInUse = false
        if statement.isCached {
            statement.reset()
        } else {
            statement.finalize()
        }
    }

    /// Ensures the cache has room for one more statement, evicting the least recently used idle one;
    /// `false` when nothing may be cached.
    private func makeRoomInCache() -> Bool {
        let capacity = options.statementCacheCapacity
        guard capacity > 0 else { return false }
        guard statementCache.count >= capacity else { return true }
        var victim: SQLiteStatement?
        for candidate in statementCache.values where !candidate.isInUse {
            if victim.map({ candidate.lastUsed < $0.lastUsed }) ?? true {
                victim = candidate
            }
        }
        guard let victim else { return false }
        statementCache[victim.sql] = nil
        victim.isCached = false
        victim.finalize()
        return true
    }
}
