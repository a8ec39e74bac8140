import Foundation
import OrchestratorStore
import SQLiteStore
import Testing

/// One ``WorkflowStore`` implementation under test. Every contract test is parameterized over
/// ``all``, so every implementation runs the very same tests.
struct StoreContract: Sendable, CustomTestStringConvertible {
    /// Shown in test names, e.g. `SQLite`.
    let name: String
    /// Creates a new, empty database.
    let makeDatabase: @Sendable () async throws -> TestDatabase

    var testDescription: String { name }

    /// Every implementation the contract runs against.
    static let all: [StoreContract] = [.sqlite, .postgres]

    /// PostgreSQL at `ORCHESTRATOR_TEST_POSTGRES_URL`: each database is a schema of its own,
    /// `t_<random>`, dropped afterwards. Without the URL the PostgreSQL cases are cancelled (shown
    /// as skipped) unless `ORCHESTRATOR_REQUIRE_POSTGRES=1`, which makes them fail.
    static let postgres = StoreContract(name: "PostgreSQL") {
        let configuration = try TestPostgres.freshSchema()
        return TestDatabase(
            open: { try await TestPostgres.stores.open(configuration) },
            close: { store in await TestPostgres.stores.close(store) },
            destroy: { await TestPostgres.dropSchema(configuration) }
        )
    }

    /// The embedded store on a real temporary file, removed (with its WAL files) afterwards.
    static let sqlite = StoreContract(name: "SQLite") {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("store-contract-\(UUID().uuidString).sqlite").path
        return TestDatabase(
            open: { try SQLiteWorkflowStore(path: path) },
            close: { store in await (store as? SQLiteWorkflowStore)?.close() },
            destroy: {
                for suffix in ["", "-wal", "-shm"] {
                    try? FileManager.default.removeItem(atPath: path + suffix)
                }
            }
        )
    }

    /// Runs `body` with a fresh database, removed afterwards whether `body` succeeds or throws.
    func withDatabase(_ body: (TestDatabase) async throws -> Void) async throws {
        let database = try await makeDatabase()
        do {
            try await body(database)
        } catch {
            await database.destroy()
            throw error
        }
        await database.destroy()
    }

    /// Runs `body` with a migrated store on a fresh database, which is closed and removed afterwards.
    func withStore(_ body: (any WorkflowStore, TestDatabase) async throws -> Void) async throws {
        try await withDatabase { database in
            let store = try await database.open()
            _ = try await store.migrate()
            do {
                try await body(store, database)
            } catch {
                await database.close(store)
                throw error
            }
            await database.close(store)
        }
    }
}

/// A database created for one test.
struct TestDatabase: Sendable {
    /// Opens a new store instance on the database (not migrated).
    let open: @Sendable () async throws -> any WorkflowStore
    /// Closes a store instance opened by ``open``.
    let close: @Sendable (any WorkflowStore) async -> Void
    /// Removes the database.
    let destroy: @Sendable () async -> Void
}
