import Logging
import OrchestratorStore
import PostgresNIO

/// Versioned migrations, safe when several replicas start at once.
extension PostgresWorkflowStore {
    /// The key of the transaction-scoped advisory lock that serialises migrations
    /// (`0x6F72_6368_6573_7472`, "orchestr" in ASCII).
    static let migrationLockKey: Int64 = 0x6F72_6368_6573_7472

    /// Checks that the server is reachable (one connection of its own, reported with its cause),
    /// then applies the pending migrations of ``PostgresSchema`` in one transaction and returns the
    /// versions applied.
    ///
    /// The transaction first takes `pg_advisory_xact_lock`: a replica migrating at the same time
    /// waits, then sees the versions already recorded in `schema_migrations` and applies nothing.
    /// The schema of the configuration, if any, is created when missing.
    public func migrate() async throws -> [Int] {
        let probe = try await Self.connect(configuration, logger: logger)
        try? await probe.close()
        return try await transaction(doing: "migrating the schema", deadline: .seconds(600)) { [self] connection in
            try await execute(connection, "SELECT pg_advisory_xact_lock($1)", binds(Self.migrationLockKey))
            if let schema = configuration.schema {
                // An identifier cannot be a bound parameter; the configuration only accepts plain ones.
                guard PostgresStoreConfiguration.isPlainIdentifier(schema) else {
                    throw PostgresStoreError(.invalidConfiguration, "schema '\(schema)' is not a plain identifier")
                }
                try await execute(connection, "CREATE SCHEMA IF NOT EXISTS \(schema)")
            }
            try await execute(
                connection,
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """
            )
            var known: Set<Int> = []
            for row in try await execute(connection, "SELECT version FROM schema_migrations") {
                known.insert(try row.decode(Int.self))
            }
            var applied: [Int] = []
            for migration in PostgresSchema.migrations where !known.contains(migration.version) {
                for statement in migration.statements {
                    try await execute(connection, statement)
                }
                try await execute(
                    connection,
                    """
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES ($1, $2, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT)
                    """,
                    binds(migration.version, migration.name)
                )
                applied.append(migration.version)
            }
            if !applied.isEmpty {
                logger.info(
                    "applied schema migrations",
                    metadata: ["versions": "\(applied)", "database": "\(configuration.description)"]
                )
            }
            return applied
        }
    }
}
