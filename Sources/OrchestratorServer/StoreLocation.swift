import PostgresStore

/// The store selected by `storage.database_url`: unset or `sqlite:PATH` is the embedded SQLite
/// file, `postgres://` or `postgresql://` a PostgreSQL database.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(PostgresStoreConfiguration)

    /// For logs and messages (never holds a password).
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let configuration): return configuration.description
        }
    }
}

extension ServerConfiguration {
    /// The store the configuration selects; a URL of another scheme, or a malformed PostgreSQL URL,
    /// is a ``ConfigurationError`` naming it (without its password).
    public func storeLocation() throws -> StoreLocation {
        guard let url = storage.databaseURL, !url.isEmpty else { return .sqlite(path: sqlitePath) }
        if url.hasPrefix("sqlite:") { return .sqlite(path: sqlitePath) }
        if PostgresStoreConfiguration.isPostgresURL(url) {
            do {
                var postgres = try PostgresStoreConfiguration(url: url)
                postgres.poolSize = storage.postgresPoolSize
                if let replicaId = storage.replicaId {
                    guard !replicaId.isEmpty, replicaId.utf8.count <= 200 else {
                        throw ConfigurationError("storage.replica_id must be 1 to 200 bytes, got \"\(replicaId)\"")
                    }
                    postgres.replicaId = replicaId
                }
                guard storage.ownershipTtlMs >= 300 else {
                    throw ConfigurationError(
                        "storage.ownership_ttl_ms must be at least 300 ms, got \(storage.ownershipTtlMs)"
                    )
                }
                postgres.ownershipTtlMs = storage.ownershipTtlMs
                return .postgres(postgres)
            } catch let error as PostgresStoreError {
                throw ConfigurationError("database URL \(error.description)")
            }
        }
        let scheme = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? url
        throw ConfigurationError(
            "database URL \(PostgresStoreConfiguration.redacted(url)) has the unknown scheme '\(scheme)': "
                + "use sqlite:PATH or postgres://user:password@host:port/database"
        )
    }
}
