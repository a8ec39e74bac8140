import Hummingbird
import Logging
import Metrics
import OrchestratorCore
import OrchestratorEngine
import OrchestratorHTTP
import OrchestratorStore
import Prometheus
import ServiceLifecycle
import Synchronization

/// The assembled orchestrator: store, engine, HTTP API and metrics listener, built from one
/// ``ServerConfiguration``.
public struct OrchestratorServer: Sendable {
    public let configuration: ServerConfiguration
    public let engine: Engine
    public let store: any WorkflowStore
    /// Where the store is (for logs; never holds a password).
    public let storeLocation: StoreLocation
    /// Every service to run in one `ServiceGroup`, in order: the store's own (the PostgreSQL pool,
    /// shut down last), the engine, then the HTTP listeners.
    public let services: [any Service]
    let openedStore: OpenedStore

    /// Opens the store selected by `storage.database_url` (taking the data-directory lock for
    /// SQLite), builds the engine and, when `serveHTTP`, the HTTP listeners.
    public init(configuration: ServerConfiguration, logger: Logger, serveHTTP: Bool = true) throws {
        self.configuration = configuration
        openedStore = try OpenedStore.open(configuration, logger: logger)
        let store = openedStore.store
        self.store = store
        storeLocation = openedStore.location
        var sinks: [any OutboxSink] = []
        if let directory = configuration.outboxDirectory {
            sinks.append(try JSONLinesSink(directory: directory, topics: configuration.outbox.topics))
        }
        engine = Engine(store: store, configuration: configuration.engine, sinks: sinks, logger: logger)
        var services: [any Service] = openedStore.services + [engine]
        if serveHTTP {
            let registry = MetricsBootstrap.registry()
            let options = HTTPOptions(
                maxBodyBytes: configuration.http.maxBodyBytes,
                maxWorkerBodyBytes: configuration.http.maxWorkerBodyBytes,
                version: ServerVersion.current
            )
            let router = buildRouter(engine: engine, options: options, metrics: registry)
            services.append(
                Application(
                    router: router,
                    configuration: .init(
                        address: .hostname(configuration.http.host, port: configuration.http.port),
                        serverName: "orchestrator-dynamic"
                    ),
                    logger: logger
                )
            )
            if configuration.http.metricsPort > 0 {
                let metricsRouter = Router()
                metricsRouter.get("/metrics") { _, _ -> Response in
                    Response(
                        status: .ok,
                        headers: [.contentType: "text/plain; version=0.0.4"],
                        body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
                    )
                }
                services.append(
                    Application(
                        router: metricsRouter,
                        configuration: .init(
                            address: .hostname(configuration.http.host, port: configuration.http.metricsPort),
                            serverName: "orchestrator-dynamic-metrics"
                        ),
                        logger: logger
                    )
                )
            }
        }
        self.services = services
    }
}

/// The version reported by `/health` and `--version`.
public enum ServerVersion {
    public static let current = "0.2.0"
}

/// Installs the Prometheus backend for swift-metrics once per process.
public enum MetricsBootstrap {
    private static let shared = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The process-wide registry, bootstrapping the metrics system on first use.
    public static func registry() -> PrometheusCollectorRegistry {
        shared.withLock { current in
            if let current { return current }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            current = registry
            return registry
        }
    }
}
