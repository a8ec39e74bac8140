import Foundation
import OrchestratorCore
import OrchestratorStore
import SQLiteDB

/// The embedded default ``WorkflowStore``: one SQLite file in WAL mode.
///
/// The store owns exactly one `SQLiteConnection`. The connection is not thread-safe (it is opened
/// without SQLite's own mutex); the actor serialises every access to it, so one store instance
/// may be shared freely between tasks. Several instances, also in other processes, may open the
/// same file: WAL lets readers proceed while one writer writes, and every write transaction is
/// `BEGIN IMMEDIATE`, so writers queue on the busy timeout instead of failing half-way.
///
/// Call ``migrate()`` once after opening, before any other call.
public actor SQLiteWorkflowStore: WorkflowStore {
    public nonisolated var databaseSystem: String { "sqlite" }

    /// The database file.
    public nonisolated let path: String

    let connection: SQLiteConnection
    /// Reused for every row: creating coders per call costs more than the encoding of a small value.
    let encoder: StreamingJSONEncoder
    let decoder = JSONDecoder()

    /// Opens (creating if needed) the database file at `path` in WAL mode.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - synchronous: `PRAGMA synchronous`. With WAL, `NORMAL` (the default) keeps every committed
    ///     transaction across a process crash; `FULL` also across a power loss, at the cost of an
    ///     `fsync` per commit.
    /// - Throws: `SQLiteError` when the file cannot be opened or configured.
    public init(path: String, synchronous: String = "NORMAL") throws {
        self.path = path
        connection = try SQLiteConnection(
            path: path,
            // Checkpoints every 8 192 pages (32 MiB of log) instead of 1 000: the engine rewrites the
            // same hot pages (workflow rows, outbox head, timers) on every batch, and a longer log
            // copies each of them back once per checkpoint instead of many times.
            options: SQLiteConnection.Options(
                journalMode: "WAL",
                synchronous: synchronous,
                walAutocheckpointPages: 8192
            )
        )
        encoder = StreamingJSONEncoder()
    }

    /// Applies the pending migrations of ``SQLiteSchema``; returns the versions applied.
    public func migrate() throws -> [Int] {
        try SQLiteMigrator.migrate(connection, SQLiteSchema.migrations)
    }

    /// A cheap round trip to the database.
    public func ping() throws {
        _ = try connection.scalarInt64("SELECT 1")
    }

    public func schemaVersions() throws -> SchemaVersions {
        let newest = try connection.scalarInt64("SELECT MAX(version) FROM schema_migrations") ?? 0
        return SchemaVersions(database: Int(newest), build: SQLiteSchema.migrations.last?.version ?? 0)
    }

    /// Rewrites the one row of `write_probe` in a transaction of its own.
    public func probeWrite() throws {
        try connection.transaction(.immediate) {
            try connection.run(
                "INSERT OR REPLACE INTO write_probe (id, at) VALUES (1, ?)",
                [.integer(Int64(Date().timeIntervalSince1970 * 1000))]
            )
        }
    }

    /// The secret under `name`, storing `proposed` (hex) when there is none yet.
    public func sharedSecret(_ name: String, proposed: [UInt8]) throws -> [UInt8] {
        try connection.transaction(.immediate) {
            try connection.run(
                "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                [.text(name), .text(SecretHex.encode(proposed))]
            )
        }
        guard let row = try connection.queryFirst("SELECT value FROM secrets WHERE name = ?", [.text(name)]),
            let value = SecretHex.decode(try row.string(0))
        else {
            throw StoreError.corrupt("secrets: the value of \(name) is not hex")
        }
        return value
    }

    /// Closes the connection; later calls throw. Also done when the store is released.
    public func close() {
        connection.close()
    }
}

// MARK: - JSON columns

extension SQLiteWorkflowStore {
    /// The JSON text of `value`.
    func json<T: Encodable>(_ value: T) throws -> String {
        try encoder.string(value)
    }

    /// Decodes a JSON column; a value that cannot be read is reported as ``StoreError/corrupt(_:)``
    /// naming the table and the row's key.
    func decode<T: Decodable>(_ type: T.Type, _ text: String, table: String, key: String) throws -> T {
        try StoredColumn.decode(type, text, table: table, key: key, using: decoder)
    }

    /// Parses an enumerated column; an unknown value is reported as ``StoreError/corrupt(_:)``.
    func parse<T: RawRepresentable>(
        _ type: T.Type,
        _ text: String,
        table: String,
        key: String
    ) throws -> T where T.RawValue == String {
        try StoredColumn.parse(type, text, table: table, key: key)
    }
}
