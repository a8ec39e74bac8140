import Foundation
import Logging
import OrchestratorStore
import PostgresNIO
import PostgresStore
import Testing

/// The PostgreSQL server of the tests, from `ORCHESTRATOR_TEST_POSTGRES_URL` (scripts/postgres.sh
/// starts a throw-away one and prints its URL).
enum TestPostgres {
    static let urlVariable = "ORCHESTRATOR_TEST_POSTGRES_URL"
    static let requireVariable = "ORCHESTRATOR_REQUIRE_POSTGRES"
    static let logger = Logger(label: "store-contract-tests") { _ in SwiftLogNoOpLogHandler() }
    /// Stores opened by the tests, with the tasks running their connection pools.
    static let stores = RunningStores()

    /// The server's configuration. Without the URL: cancels the current test (shown as skipped,
    /// with the reason), or fails it when PostgreSQL is required.
    static func server() throws -> PostgresStoreConfiguration {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment[urlVariable], !url.isEmpty else {
            if environment[requireVariable] == "1" {
                throw MissingPostgres(
                    description: "\(requireVariable)=1 but \(urlVariable) is not set: the PostgreSQL tests cannot run"
                )
            }
            _ = announceSkip
            try Test.cancel("PostgreSQL skipped: \(urlVariable) is not set (see scripts/postgres.sh)")
        }
        var configuration = try PostgresStoreConfiguration(url: url)
        configuration.poolSize = 4
        configuration.connectTimeout = .seconds(5)
        return configuration
    }

    /// Written once per process: Swift Testing does not list cancelled cases of parameterized tests.
    private static let announceSkip: Void = {
        let text = """
            warning: the PostgreSQL cases of the store contract are SKIPPED: \(urlVariable) is not set \
            (bash scripts/postgres.sh start prints a URL; set \(requireVariable)=1 to make this an error)

            """
        FileHandle.standardError.write(Data(text.utf8))
    }()

    /// The server's configuration with a new schema name (created by the store's `migrate()`) and
    /// an application name of its own, so that a test can find its connections in `pg_stat_activity`.
    static func freshSchema() throws -> PostgresStoreConfiguration {
        var configuration = try server()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
        configuration.schema = name
        configuration.applicationName = "contract-\(name)"
        return configuration
    }

    /// Runs `body` on a connection of its own (not a store's), closed afterwards.
    static func withAdminConnection<T: Sendable>(
        _ configuration: PostgresStoreConfiguration,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var admin = configuration
        admin.schema = nil
        admin.applicationName = "contract-admin"
        let connection = try await PostgresWorkflowStore.connect(admin, logger: logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Drops the schema of `configuration` with everything in it.
    static func dropSchema(_ configuration: PostgresStoreConfiguration) async {
        guard let schema = configuration.schema else { return }
        _ = try? await withAdminConnection(configuration) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(schema) CASCADE"),
                logger: logger
            )
            .collect()
        }
    }

    /// Terminates the server processes of the connections named `applicationName`; returns how many.
    static func terminateConnections(_ configuration: PostgresStoreConfiguration) async throws -> Int {
        try await withAdminConnection(configuration) { connection in
            var bindings = PostgresBindings()
            bindings.append(configuration.applicationName)
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE application_name = $1 AND pid <> pg_backend_pid()
                        """,
                    binds: bindings
                ),
                logger: logger
            ).collect()
            return rows.count
        }
    }
}

struct MissingPostgres: Error, CustomStringConvertible {
    var description: String
}

/// PostgreSQL stores whose connection pools run in tasks of their own until closed.
actor RunningStores {
    private var running: [ObjectIdentifier: Task<Void, Never>] = [:]

    /// A new store on `configuration` with its pool running (not migrated).
    func open(_ configuration: PostgresStoreConfiguration) throws -> PostgresWorkflowStore {
        let store = try PostgresWorkflowStore(configuration: configuration, logger: TestPostgres.logger)
        running[ObjectIdentifier(store)] = Task { await store.run() }
        return store
    }

    /// Stops the pool of a store opened by ``open(_:)`` and waits for it.
    func close(_ store: any WorkflowStore) async {
        guard let store = store as? PostgresWorkflowStore,
            let task = running.removeValue(forKey: ObjectIdentifier(store))
        else { return }
        task.cancel()
        await task.value
    }
}
