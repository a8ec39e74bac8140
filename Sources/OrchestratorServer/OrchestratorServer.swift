import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Kafka
import Logging
import Metrics
import NIOCore
import OrchestratorCore
import OrchestratorEngine
import OrchestratorHTTP
import OrchestratorKafka
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
    /// shut down last), the Kafka sink, the engine, the HTTP listeners, the long-poll closer, the
    /// Kafka intake (shut down first).
    public let services: [any Service]
    let openedStore: OpenedStore

    /// Opens the store selected by `storage.database_url` (taking the data-directory lock for
    /// SQLite), builds the engine and, when `serveHTTP`, the HTTP listeners.
    public init(configuration: ServerConfiguration, logger: Logger, serveHTTP: Bool = true) throws {
        self.configuration = configuration
        // Before the engine, whose spans use the tracer bootstrapped here.
        let tracing = try TracingSetup.bootstrap(configuration.tracing, logger: logger)
        openedStore = try OpenedStore.open(configuration, logger: logger)
        let store = openedStore.store
        self.store = store
        storeLocation = openedStore.location
        var sinks: [any OutboxSink] = []
        var services: [any Service] = []
        var readiness: [ReadinessCheck] = []
        if let directory = configuration.outboxDirectory {
            sinks.append(
                try JSONLinesSink(
                    directory: directory,
                    topics: configuration.outbox.topics,
                    synchronize: configuration.storage.sqliteSynchronous.uppercased() == "FULL"
                )
            )
        }
        if configuration.outbox.sink != .files {
            let sink = try Self.kafkaSink(configuration, store: store, logger: logger)
            sinks.append(sink)
            // Before the engine: shut down after it, so that its last relay still reaches Kafka.
            services.append(sink)
            readiness.append(ReadinessCheck(name: "kafka") { await sink.readinessProblem() })
        }
        engine = Engine(store: store, configuration: configuration.engine, sinks: sinks, logger: logger)
        // The store's own services (the PostgreSQL pool) first: they shut down last.
        services = openedStore.services + services + [engine]
        // First of all: it stops last, after the engine's last spans.
        if let tracing { services.insert(tracing, at: 0) }
        if serveHTTP {
            let registry = MetricsBootstrap.registry()
            let replica: String
            let storeKind: String
            switch storeLocation {
            case .sqlite:
                (replica, storeKind) = ("embedded", "sqlite")
            case .postgres(let postgres):
                (replica, storeKind) = (postgres.replicaId, "postgresql")
            }
            MetricCatalog.registerAll(version: ServerVersion.current, replica: replica, store: storeKind)
            var options = HTTPOptions(
                maxBodyBytes: configuration.http.maxBodyBytes,
                maxWorkerBodyBytes: configuration.http.maxWorkerBodyBytes,
                version: ServerVersion.current,
                maxBufferedBodyBytes: configuration.http.maxBufferedBodyBytes,
                rateLimitPerSecond: configuration.http.rateLimitPerSecond,
                rateLimitBurst: configuration.http.rateLimitBurst,
                maxLongPollsPerWorker: configuration.http.maxLongPollsPerWorker
            )
            options.tracing = tracing != nil
            let server = try Self.httpServer(configuration.http)
            let access = try AuthSetup.accessControl(configuration, logger: logger)
            let router = buildRouter(
                engine: engine,
                options: options,
                metrics: registry,
                readiness: readiness,
                access: access
            )
            services.append(
                Application(
                    router: router,
                    server: server,
                    configuration: .init(
                        address: .hostname(configuration.http.host, port: configuration.http.port),
                        serverName: "orchestrator-dynamic"
                    ),
                    logger: logger
                )
            )
            if configuration.http.metricsPort > 0 {
                let metricsRouter = buildMetricsRouter(metrics: registry, access: access)
                services.append(
                    Application(
                        router: metricsRouter,
                        server: server,
                        configuration: .init(
                            address: .hostname(configuration.http.host, port: configuration.http.metricsPort),
                            serverName: "orchestrator-dynamic-metrics"
                        ),
                        logger: logger
                    )
                )
            }
        }
        if serveHTTP {
            services.append(LongPollCloser(engine: engine))
        }
        if configuration.kafka.isEnabled, configuration.kafka.consume {
            // Last: the first to stop on shutdown, so no message is taken that the engine cannot finish.
            services.append(KafkaIntake(settings: configuration.kafka, engine: engine, logger: logger))
        }
        self.services = services
    }

    /// HTTP/1.1 with the idle timeout, over TLS when a certificate and key are configured.
    static func httpServer(_ http: ServerConfiguration.HTTP) throws -> HTTPServerBuilder {
        let plain = HTTPServerBuilder.http1(
            configuration: .init(
                idleTimeout: http.idleTimeoutMs > 0 ? TimeAmount.milliseconds(http.idleTimeoutMs) : nil
            )
        )
        switch (http.tlsCertFile, http.tlsKeyFile) {
        case (nil, nil):
            return plain
        case (let cert?, let key?):
            let chain: [NIOSSLCertificate]
            let privateKey: NIOSSLPrivateKey
            do {
                chain = try NIOSSLCertificate.fromPEMFile(cert)
            } catch {
                throw ConfigurationError("http.tls_cert_file \(cert): not a readable PEM certificate chain (\(error))")
            }
            do {
                privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            } catch {
                throw ConfigurationError("http.tls_key_file \(key): not a readable PEM private key (\(error))")
            }
            guard !chain.isEmpty else { throw ConfigurationError("http.tls_cert_file \(cert): no certificate in it") }
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(privateKey)
            )
            return try .tls(plain, tlsConfiguration: tls)
        default:
            throw ConfigurationError("TLS needs both http.tls_cert_file (--tls-cert) and http.tls_key_file (--tls-key)")
        }
    }

    static func kafkaSink(
        _ configuration: ServerConfiguration,
        store: any WorkflowStore,
        logger: Logger
    ) throws -> KafkaOutboxSink {
        let kafka = configuration.kafka
        let producerConfiguration = kafka.producerConfiguration()
        do {
            return try KafkaOutboxSink(
                topics: configuration.outbox.topics,
                format: kafka.format,
                flushTimeout: .milliseconds(kafka.flushTimeoutMs),
                secretStore: store,
                logger: logger
            ) { () throws(KafkaError) in
                try KafkaProducer(configuration: producerConfiguration, logger: logger)
            }
        } catch {
            throw ConfigurationError("kafka producer: \(error)")
        }
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
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = MetricCatalog.secondsBuckets.map { .nanoseconds(Int64($0 * 1e9)) }
            factory.defaultValueHistogramBuckets = MetricCatalog.secondsBuckets
            factory.valueHistogramBuckets = MetricCatalog.valueBuckets
            MetricsSystem.bootstrap(factory)
            current = registry
            return registry
        }
    }
}
