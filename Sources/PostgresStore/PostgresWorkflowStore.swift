import Foundation
import Logging
import OrchestratorCore
import OrchestratorStore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The scale-out ``WorkflowStore``: PostgreSQL through PostgresNIO's connection pool, with the same
/// semantics as the SQLite store (the store contract suite runs against both).
///
/// The store is a `Service`: its ``run()`` runs the connection pool, and must be running (in the
/// server's `ServiceGroup`, or in a task of the caller) for any other call to make progress.
/// Calls made before it starts wait for it. Call ``migrate()`` before any other call; it first
/// opens one connection of its own, so that an unreachable server is reported at once with the
/// cause instead of after the pool's retries.
///
/// Every value reaches the server as a bound parameter of a constant statement text. A commit is
/// one transaction of a fixed number of statements whatever the batch size: rows of one kind are
/// written by one statement over `UNNEST`ed arrays.
///
/// Errors: the outcomes the engine handles are ``StoreError``s (version conflict, duplicate
/// decision, corrupt row); a commit that contradicts itself is an ``InvalidCommitError``; every
/// other failure is a ``PostgresStoreError``, whose documentation says which are retryable. A
/// dropped connection fails the call that was using it; the pool opens a new one on the next call.
public final class PostgresWorkflowStore: WorkflowStore, Service {
    public var databaseSystem: String { "postgresql" }

    public let configuration: PostgresStoreConfiguration
    let client: PostgresClient
    let logger: Logger
    /// Reused for every row: creating coders per call costs more than the encoding of a small value.
    let encoder = StreamingJSONEncoder()
    let decoder = JSONDecoder()
    /// This process's registration in `replicas` (see ``SharedWorkflowStore``).
    let incarnation = UUID().uuidString
    let registered = Mutex(false)
    /// Calls in flight, and whether the store is stopping (see ``run()``).
    let calls = Mutex((inFlight: 0, stopping: false))

    /// Creates the store and its (not yet running) connection pool.
    public init(configuration: PostgresStoreConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        var clientConfiguration = PostgresClient.Configuration(
            host: configuration.host,
            port: configuration.port,
            username: configuration.username,
            password: configuration.password,
            database: configuration.database,
            tls: Self.clientTLS(configuration.tls, rootCertificateFile: configuration.rootCertificateFile)
        )
        clientConfiguration.options.maximumConnections = max(1, configuration.poolSize)
        clientConfiguration.options.connectTimeout = configuration.connectTimeout
        clientConfiguration.options.additionalStartupParameters = Self.startupParameters(configuration)
        client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
    }

    /// Runs the connection pool until cancelled or until graceful shutdown. The pool outlives the
    /// calls in flight when the service is asked to stop (for up to ``drainLimit``): a call that
    /// waits for a connection of a pool that stopped would never return. Calls made after that
    /// fail at once as ``PostgresStoreError/Code/unavailable``.
    public func run() async {
        // Not a child task: cancelling this service must not stop the pool under its callers.
        let pool = Task { [client] in await client.run() }
        try? await gracefulShutdown()
        calls.withLock { $0.stopping = true }
        let deadline = ContinuousClock.now + Self.drainLimit
        while calls.withLock({ $0.inFlight }) > 0 && ContinuousClock.now < deadline {
            // Sleeps even when this task is cancelled (a cancelled task's sleep returns at once).
            await Task.detached { try? await Task.sleep(for: .milliseconds(10)) }.value
        }
        pool.cancel()
        await pool.value
    }

    /// Longest wait for calls in flight when the store stops.
    static let drainLimit: Duration = .seconds(5)

    /// How long a call may take before it is abandoned and fails (see ``tracked(_:deadline:_:)``).
    public static let callDeadline: Duration = .seconds(15)

    /// Counts a call in flight for ``run()`` (fails once the store is stopping), and bounds it in
    /// time: a call that has not returned after `deadline` fails as
    /// ``PostgresStoreError/Code/unavailable`` and is left to finish (or not) on its own. Calls
    /// have been seen never to return after the server dropped their connection (a server restart
    /// under load); without the bound one such call would stop the engine loop for good.
    func tracked<T: Sendable>(
        _ doing: String,
        deadline: Duration = callDeadline,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let admitted = calls.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.inFlight += 1
            return true
        }
        guard admitted else {
            throw PostgresStoreError(.unavailable, "\(doing): the store is shutting down")
        }
        defer { calls.withLock { $0.inFlight -= 1 } }
        let milliseconds = deadline.components.seconds * 1000 + deadline.components.attoseconds / 1_000_000_000_000_000
        guard let value = try await withAbandonDeadline(milliseconds, propagatingCancellation: true, body) else {
            logger.error("a database call did not return in time", metadata: ["doing": "\(doing)"])
            throw PostgresStoreError(
                .unavailable,
                "\(doing): no answer from PostgreSQL at \(configuration.endpoint) within \(deadline); call abandoned"
            )
        }
        return value
    }

    /// A cheap round trip to the database.
    public func ping() async throws {
        _ = try await rows("SELECT 1", doing: "ping")
    }

    public func schemaVersions() async throws -> SchemaVersions {
        let found = try await rows(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
            doing: "reading the schema version"
        )
        let newest = try found.first?.decode(Int64.self) ?? 0
        return SchemaVersions(database: Int(newest), build: PostgresSchema.migrations.last?.version ?? 0)
    }

    /// Opens one connection of its own (not from the pool): the way to tell at start-up whether the
    /// server is reachable, with the reason when it is not. Close it when done.
    public static func connect(
        _ configuration: PostgresStoreConfiguration,
        logger: Logger
    ) async throws
        -> PostgresConnection
    {
        do {
            var options = PostgresConnection.Configuration.Options()
            let timeout = configuration.connectTimeout.components
            options.connectTimeout = .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000)
            options.additionalStartupParameters = startupParameters(configuration)
            var connectionConfiguration = PostgresConnection.Configuration(
                host: configuration.host,
                port: configuration.port,
                username: configuration.username,
                password: configuration.password,
                database: configuration.database,
                tls: try connectionTLS(configuration.tls, rootCertificateFile: configuration.rootCertificateFile)
            )
            connectionConfiguration.options = options
            return try await PostgresConnection.connect(configuration: connectionConfiguration, id: 0, logger: logger)
        } catch {
            var mapped = PostgresStoreError.mapping(
                error,
                doing: "connecting",
                endpoint: configuration.endpoint
            )
            mapped.message = "cannot connect to PostgreSQL at \(configuration.endpoint) as \(configuration.username)"
            throw mapped
        }
    }

    private static func startupParameters(_ configuration: PostgresStoreConfiguration) -> [(String, String)] {
        var parameters = [("application_name", configuration.applicationName)]
        if let schema = configuration.schema { parameters.append(("search_path", schema)) }
        return parameters
    }

    private static func tlsConfiguration(
        _ mode: PostgresStoreConfiguration.TLSMode,
        rootCertificateFile: String?
    ) -> TLSConfiguration? {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificateFile { tls.trustRoots = .file(rootCertificateFile) }
        switch mode {
        case .disable: return nil
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        return tls
    }

    private static func clientTLS(
        _ mode: PostgresStoreConfiguration.TLSMode,
        rootCertificateFile: String?
    ) -> PostgresClient.Configuration.TLS {
        guard let tls = tlsConfiguration(mode, rootCertificateFile: rootCertificateFile) else { return .disable }
        return mode == .prefer ? .prefer(tls) : .require(tls)
    }

    private static func connectionTLS(
        _ mode: PostgresStoreConfiguration.TLSMode,
        rootCertificateFile: String?
    ) throws -> PostgresConnection.Configuration.TLS {
        guard let tls = tlsConfiguration(mode, rootCertificateFile: rootCertificateFile) else { return .disable }
        let context = try NIOSSLContext(configuration: tls)
        return mode == .prefer ? .prefer(context) : .require(context)
    }
}

// MARK: - Statements

extension PostgresWorkflowStore {
    /// How often a call is tried when its connection turns out to be dead before the statement ran
    /// (a pooled connection the server dropped while it was idle).
    static let connectionAttempts = 3

    /// Runs one statement on a pooled connection and returns every row. An `idempotent` statement
    /// (a read, or a write whose repetition changes nothing) is tried again on another connection
    /// when its connection was lost, up to ``connectionAttempts`` times.
    func rows(
        _ sql: String,
        _ binds: PostgresBindings = PostgresBindings(),
        idempotent: Bool = true,
        doing: String
    ) async throws -> [PostgresRow] {
        try await tracked(doing) { try await self.untrackedRows(sql, binds, idempotent: idempotent, doing: doing) }
    }

    private func untrackedRows(
        _ sql: String,
        _ binds: PostgresBindings,
        idempotent: Bool,
        doing: String
    ) async throws -> [PostgresRow] {
        var attempt = 1
        while true {
            do {
                return try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
            } catch {
                let failure = mapped(error, doing: doing)
                guard idempotent, attempt < Self.connectionAttempts, Self.isConnectionLoss(failure) else {
                    throw failure
                }
                attempt += 1
                logger.debug("retrying on another connection", metadata: ["doing": "\(doing)", "error": "\(failure)"])
            }
        }
    }

    /// Runs `body` in one transaction on one pooled connection: `COMMIT` when it returns, `ROLLBACK`
    /// when it throws (the error is rethrown). When the connection is lost, nothing is sent on it
    /// any more: it is closed, and the server has rolled the transaction back. A connection whose
    /// rollback fails is closed too, so the pool never hands out a connection in an unknown
    /// transaction state. A connection found dead at `BEGIN` (nothing of the transaction ran) is
    /// replaced by another one, up to ``connectionAttempts`` times.
    func transaction<T: Sendable>(
        doing: String,
        deadline: Duration = callDeadline,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await tracked(doing, deadline: deadline) { try await self.untrackedTransaction(doing: doing, body) }
    }

    private func untrackedTransaction<T: Sendable>(
        doing: String,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await client.withConnection { connection in
                    do {
                        try await execute(connection, "BEGIN")
                    } catch {
                        throw BeginFailed(error: error)
                    }
                    let value: T
                    do {
                        value = try await body(connection)
                        try await execute(connection, "COMMIT")
                    } catch {
                        if Self.isConnectionLoss(mapped(error, doing: doing)) {
                            closeWithoutWaiting(connection)
                        } else {
                            do {
                                try await execute(connection, "ROLLBACK")
                            } catch {
                                closeWithoutWaiting(connection)
                            }
                        }
                        throw error
                    }
                    return value
                }
            } catch let failed as BeginFailed {
                let failure = mapped(failed.error, doing: doing)
                guard attempt < Self.connectionAttempts, Self.isConnectionLoss(failure) else { throw failure }
                attempt += 1
                logger.debug("retrying on another connection", metadata: ["doing": "\(doing)", "error": "\(failure)"])
            } catch {
                throw mapped(error, doing: doing)
            }
        }
    }

    /// Whether `error` says the connection (not the statement) failed.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        (error as? PostgresStoreError)?.code == .unavailable
    }

    /// Runs one statement on `connection` (inside ``transaction(doing:_:)``) and returns every row.
    @discardableResult
    func execute(
        _ connection: PostgresConnection,
        _ sql: String,
        _ binds: PostgresBindings = PostgresBindings()
    ) async throws -> [PostgresRow] {
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
    }

    func mapped(_ error: any Error, doing: String) -> any Error {
        if error is StoreError || error is InvalidCommitError { return error }
        if let decoding = error as? PostgresDecodingError {
            return StoreError.corrupt("\(doing): a column cannot be read: \(String(reflecting: decoding))")
        }
        return PostgresStoreError.mapping(error, doing: doing, endpoint: configuration.endpoint)
    }
}

// MARK: - JSON columns

extension PostgresWorkflowStore {
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

/// Starts closing `connection` (the pool then drops it) without waiting for the close to finish.
private func closeWithoutWaiting(_ connection: PostgresConnection) {
    let _: EventLoopFuture<Void> = connection.close()
}

/// `BEGIN` failed: nothing of the transaction was sent.
private struct BeginFailed: Error {
    var error: any Error
}

/// Builds bindings from a list of values in order (`$1`, `$2`, …).
func binds(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
    var bindings = PostgresBindings(capacity: values.count)
    for value in values { bindings.append(value) }
    return bindings
}
