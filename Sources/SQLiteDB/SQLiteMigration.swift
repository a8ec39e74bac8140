/// One schema change, applied at most once per database by `SQLiteMigrator`.
public struct SQLiteMigration: Sendable, Equatable {
    /// Positive and unique; migrations are applied in increasing version order.
    public let version: Int
    /// A short description, recorded in `schema_migrations`.
    public let name: String
    /// One or more `;`-separated statements. They run inside a transaction, so they must not contain
    /// `BEGIN`/`COMMIT` or statements that cannot run in one (`VACUUM`, `PRAGMA journal_mode`).
    public let sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
