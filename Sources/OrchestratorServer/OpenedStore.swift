import Logging
import OrchestratorStore
import PostgresStore
import SQLiteStore
import ServiceLifecycle

/// The store selected by a configuration, opened, with what has to run beside it.
///
/// SQLite: the file in WAL mode, guarded by the data-directory lock (one process per file).
/// PostgreSQL: no lock (several replicas may share the database); the store's connection pool is
/// a service that must run while the store is used.
public struct OpenedStore: Sendable {
    public let store: any WorkflowStore
    /// To run (before anything uses the store) for as long as the store is used: the PostgreSQL
    /// connection pool. Empty for SQLite.
    public let services: [any Service]
    public let location: StoreLocation
    let lock: DataDirectoryLock?

    /// Opens the store of `configuration` (nothing is migrated yet).
    public static func open(_ configuration: ServerConfiguration, logger: Logger) throws -> OpenedStore {
        let location = try configuration.storeLocation()
        switch location {
        case .sqlite(let path):
            let lock = try DataDirectoryLock(directory: configuration.storage.dataDir)
            let store = try SQLiteWorkflowStore(path: path, synchronous: configuration.storage.sqliteSynchronous)
            return OpenedStore(store: store, services: [], location: location, lock: lock)
        case .postgres(let postgres):
            let store = try PostgresWorkflowStore(configuration: postgres, logger: logger)
            return OpenedStore(store: store, services: [store], location: location, lock: nil)
        }
    }

    /// Runs `body` while the store's services run, then stops them: for one-shot commands
    /// (`migrate`, `replay`) that use the store without a service group.
    public func withServices<T: Sendable>(_ body: (any WorkflowStore) async throws -> T) async throws -> T {
        let store = store
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask { try await service.run() }
            }
            defer { group.cancelAll() }
            return try await body(store)
        }
    }
}
