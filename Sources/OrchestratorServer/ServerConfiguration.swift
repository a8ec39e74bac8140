import OrchestratorCore
import OrchestratorEngine
import OrchestratorKafka

/// Everything `serve` and `run` need, in one value. Read by ``ConfigurationLoader`` from
/// defaults, an optional JSON file, environment variables and flags (in that order of
/// precedence, later wins). Documented in docs/CONFIGURATION.md.
public struct ServerConfiguration: Sendable, Equatable, Codable {
    public var http = HTTP()
    public var storage = Storage()
    public var outbox = Outbox()
    public var engine = EngineConfiguration()
    /// Kafka: bootstrap servers, security, the intake consumers' topics and group, the format.
    public var kafka = KafkaSettings()
    /// Who may call the API (docs/SECURITY.md).
    public var auth = Auth()
    public var logLevel: String = "info"
    /// `json` (one object per line), `text`, or `auto`: text on a terminal, JSON otherwise.
    public var logFormat: String = "auto"
    /// OpenTelemetry traces (docs/OBSERVABILITY.md); the standard `OTEL_*` variables override.
    public var tracing = Tracing()

    public struct Tracing: Sendable, Equatable, Codable {
        /// `otlp`, `none`, or `auto`: OTLP when an endpoint is set (here or in
        /// `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), none otherwise.
        public var exporter: String = "auto"
        /// The OTLP/HTTP base URL (`/v1/traces` is appended), e.g. `http://collector:4318`.
        public var endpoint: String = ""
        public var serviceName: String = "orchestrator-dynamic"
        /// `parentbased_always_on` (default), `always_on`, `always_off`, `traceidratio`,
        /// `parentbased_always_off`, `parentbased_traceidratio`.
        public var sampler: String = "parentbased_always_on"
        /// The ratio of the `traceidratio` samplers.
        public var samplerArg: Double = 1
        /// Extra resource attributes, e.g. `{"deployment.environment": "prod"}`.
        public var resourceAttributes: [String: String] = [:]

        public init() {}
    }

    public init() {}

    public struct HTTP: Sendable, Equatable, Codable {
        public var host: String = "0.0.0.0"
        /// The API port (the hive-mind's services call 8000).
        public var port: Int = 8000
        /// A second listener serving only `/metrics`; 0 disables it.
        public var metricsPort: Int = 9090
        /// Largest accepted request body for decisions and plans.
        public var maxBodyBytes: Int = 16 * 1024 * 1024
        /// Largest accepted request body on worker endpoints.
        public var maxWorkerBodyBytes: Int = 1024 * 1024
        /// Most bytes of request bodies buffered at once over all requests (503 with Retry-After
        /// beyond).
        public var maxBufferedBodyBytes: Int = 256 * 1024 * 1024
        /// Requests a second each principal may make on average; 0 turns the limit off. Over it:
        /// 429 with `Retry-After`.
        public var rateLimitPerSecond: Double = 5_000
        /// Requests a principal may make at once above the rate.
        public var rateLimitBurst: Int = 10_000
        /// Long polls one worker id may hold open at once (the reference worker holds one per
        /// slot); over it: 429.
        public var maxLongPollsPerWorker: Int = 128
        /// A connection that sends nothing for this long (while no request runs) is closed; a
        /// request whose head or body stalls for this long too.
        public var idleTimeoutMs: Int64 = 60_000
        /// PEM certificate chain and private key: with both, the API (and the metrics listener)
        /// serve HTTPS only.
        public var tlsCertFile: String?
        public var tlsKeyFile: String?
        public init() {}
    }

    public struct Storage: Sendable, Equatable, Codable {
        /// Directory holding the SQLite file, the lock file and (by default) the outbox files.
        public var dataDir: String = "./data"
        /// `sqlite:PATH` (default: `<data_dir>/orchestrator.sqlite`) or
        /// `postgres://user:password@host:port/database?sslmode=disable` (also `postgresql://`).
        public var databaseURL: String?
        /// A file holding the database URL (`ORCHESTRATOR_DATABASE_URL_FILE`), e.g. a mounted
        /// Kubernetes Secret; read at start, it wins over `database_url`.
        public var databaseURLFile: String?
        /// SQLite `synchronous` pragma: NORMAL survives process crashes, FULL also power loss.
        public var sqliteSynchronous: String = "NORMAL"
        /// Most connections the PostgreSQL store opens.
        public var postgresPoolSize: Int = 10
        /// PostgreSQL: this replica's identity among the replicas sharing the database; unique among
        /// running replicas. Default: the host name and 8 random hex digits.
        public var replicaId: String?
        /// PostgreSQL: how long a replica's ownership of its workflows survives without a
        /// heartbeat (the others take them over after it); heartbeats run every third of it.
        public var ownershipTtlMs: Int64 = 10_000
        public init() {}
    }

    public struct Outbox: Sendable, Equatable, Codable {
        /// Directory of the JSON-lines topic files (default: `<data_dir>/outbox`); empty disables them.
        public var directory: String?
        public var topics = TopicNames()
        /// Where relayed messages go (`ORCHESTRATOR_OUTBOX_SINK`): `files` (JSON-lines files, the
        /// default), `kafka` (the topics, needs `kafka.bootstrap_servers`) or `both`.
        public var sink: Sink = .files
        public init() {}

        public enum Sink: String, Sendable, Equatable, Codable, CaseIterable {
            case files, kafka, both
        }
    }

    public struct Auth: Sendable, Equatable, Codable {
        /// `required` (the default: every API route needs a bearer token) or `none` (no checks;
        /// a warning at every start).
        public var mode: String = "required"
        /// A JSON file of named tokens (`{"tokens": [{"name", "sha256", "roles"}]}`). When neither
        /// it nor a JWT key is set, `serve` creates `<data_dir>/admin.token` and accepts that token
        /// as `admin`.
        public var tokensFile: String?
        /// Roles granted to requests that carry no token, for deployments whose service mesh
        /// authenticates callers (the hive-mind's services send none). Empty by default.
        public var anonymousRoles: [String] = []
        /// Whether `/metrics` (on both listeners) needs a token with `read`; off by default.
        public var metricsNeedToken: Bool = false
        /// JWTs signed with HS256 under the secret in this file (at least 32 bytes).
        public var jwtHS256SecretFile: String?
        /// JWTs signed by a key of this JWKS file (RS256, ES256, …).
        public var jwksFile: String?
        /// When set, a JWT's `iss` must equal it.
        public var jwtIssuer: String?
        /// When set, a JWT's `aud` must include it.
        public var jwtAudience: String?
        /// The claim holding the roles; a dotted path reaches into objects (`realm_access.roles`).
        public var jwtRolesClaim: String = "roles"
        public init() {}
    }

    /// The SQLite path selected by the configuration.
    public var sqlitePath: String {
        if let url = storage.databaseURL, url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            return path
        }
        return storage.dataDir + "/orchestrator.sqlite"
    }

    /// The outbox directory selected by the configuration, `nil` when disabled (or when the sink
    /// is `kafka` only).
    public var outboxDirectory: String? {
        guard outbox.sink != .kafka else { return nil }
        guard let directory = outbox.directory else { return storage.dataDir + "/outbox" }
        return directory.isEmpty ? nil : directory
    }
}
