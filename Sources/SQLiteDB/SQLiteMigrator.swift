import CSQLite

/// Brings a database schema up to date with a list of `SQLiteMigration`s.
///
/// Applied versions are recorded in `schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL,
/// applied_at INTEGER NOT NULL)`, `applied_at` being Unix time in seconds.
public enum SQLiteMigrator {
    /// Applies the migrations not yet recorded in `schema_migrations`, in version order, each in its own
    /// `BEGIN IMMEDIATE` transaction together with its `schema_migrations` row, and returns the versions it
    /// applied (empty when the schema was already current). A failing migration is rolled back and its error
    /// rethrown with the migration named; the ones before it stay applied.
    ///
    /// Refuses (throws, changing nothing) when `migrations` are not in strictly increasing order of positive
    /// versions, or when the database records a version higher than any in `migrations`, meaning a newer build
    /// wrote it. Safe against other processes migrating the same file at the same time.
    @discardableResult
    public static func migrate(_ db: SQLiteConnection, _ migrations: [SQLiteMigration]) throws -> [Int] {
        try validate(migrations)
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            )
            """
        )
        let known = migrations.last?.version ?? 0
        if let newest = try db.scalarInt64("SELECT MAX(version) FROM schema_migrations"), newest > known {
            throw SQLiteError(
                code: SQLITE_ERROR,
                message: "the database has schema version \(newest) but this build only knows versions up to "
                    + "\(known); it was written by a newer build, refusing to use it"
            )
        }
        var applied: [Int] = []
        for migration in migrations where try apply(migration, to: db) {
            applied.append(migration.version)
        }
        return applied
    }

    /// Applies `migration` unless already recorded; `true` when it was applied now.
    private static func apply(_ migration: SQLiteMigration, to db: SQLiteConnection) throws -> Bool {
        let version = SQLiteValue.integer(Int64(migration.version))
        return try db.transaction(.immediate) {
            // Checked inside the write transaction, so a concurrent migrator cannot apply it twice.
            if try db.scalarInt64("SELECT 1 FROM schema_migrations WHERE version = ?", [version]) != nil {
                return false
            }
            do {
                try db.execute(migration.sql)
            } catch let error as SQLiteError {
                throw SQLiteError(
                    code: error.code,
                    message: "migration \(migration.version) '\(migration.name)' failed: \(error.message)",
                    sql: error.sql
                )
            }
            try db.run(
                """
                INSERT INTO schema_migrations (version, name, applied_at)
                VALUES (?, ?, CAST(strftime('%s', 'now') AS INTEGER))
                """,
                [version, .text(migration.name)]
            )
            return true
        }
    }

    private static func validate(_ migrations: [SQLiteMigration]) throws {
        var previous = 0
        for migration in migrations {
            guard migration.version > previous else {
                throw SQLiteError(
                    code: SQLITE_MISUSE,
                    message: "migration versions must be positive and strictly increasing, but \(migration.version) "
                        + "'\(migration.name)' follows \(previous)"
                )
            }
            previous = migration.version
        }
    }
}
