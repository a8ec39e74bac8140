import CSQLite

/// Transactions and savepoints.
extension SQLiteConnection {
    /// How a top-level transaction takes its locks.
    public enum TransactionKind: Sendable {
        /// `BEGIN DEFERRED`: no lock until the first read or write. A deferred transaction that reads and then
        /// writes can fail with `SQLITE_BUSY` without waiting for the busy timeout.
        case deferred
        /// `BEGIN IMMEDIATE`: takes the write lock at once (waiting up to the busy timeout). The right choice
        /// for read-modify-write transactions.
        case immediate
        /// `BEGIN EXCLUSIVE`: like immediate; in rollback-journal modes it also keeps readers out.
        case exclusive

        var beginSQL: String {
            switch self {
            case .deferred: return "BEGIN DEFERRED"
            case .immediate: return "BEGIN IMMEDIATE"
            case .exclusive: return "BEGIN EXCLUSIVE"
            }
        }
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back and rethrows when it throws.
    ///
    /// Called while a transaction is already open (from inside another `transaction` body, or after a manual
    /// `BEGIN`), it uses a `SAVEPOINT` instead, and `kind` is ignored: a thrown error rolls back only the work
    /// of that inner body, which the outer transaction may catch and survive. If `COMMIT` itself fails (e.g. a
    /// deferred foreign key violation) the transaction is rolled back and the error thrown, so on return the
    /// work is either committed or not at all.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        let db = try openHandle(sql: kind.beginSQL)
        if sqlite3_get_autocommit(db) == 0 {
            return try savepoint(body)
        }
        try run(kind.beginSQL)
        let result: T
        do {
            result = try body()
        } catch {
            rollbackIfOpen()
            throw error
        }
        do {
            try run("COMMIT")
        } catch {
            rollbackIfOpen()
            throw error
        }
        return result
    }

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "sqlitedb_savepoint_\(savepointDepth)"
        try run("SAVEPOINT \(name)")
        let result: T
        do {
            result = try body()
        } catch {
            // SQLite may already have rolled back the whole transaction (e.g. after SQLITE_FULL).
            if isInTransaction {
                try? run("ROLLBACK TO \(name)")
                try? run("RELEASE \(name)")
            }
            throw error
        }
        try run("RELEASE \(name)")
        return result
    }

    private func rollbackIfOpen() {
        if isInTransaction {
            try? run("ROLLBACK")
        }
    }
}
