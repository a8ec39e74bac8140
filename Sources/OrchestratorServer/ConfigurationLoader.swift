import Foundation
import OrchestratorCore
import OrchestratorKafka

/// Reads configuration: documented defaults, overridden by an optional JSON file (snake_case
/// keys, unknown keys rejected), then by environment variables, then by flags.
public enum ConfigurationLoader {
    /// Environment variables understood, and the key each sets.
    public static let environment: [(name: String, description: String)] = [
        ("ORCHESTRATOR_CONFIG", "JSON configuration file"),
        ("ORCHESTRATOR_HOST", "http.host"),
        ("ORCHESTRATOR_PORT", "http.port"),
        ("ORCHESTRATOR_METRICS_PORT", "http.metrics_port (0 disables)"),
        ("ORCHESTRATOR_DATA_DIR", "storage.data_dir"),
        ("ORCHESTRATOR_DATABASE_URL", "storage.database_url"),
        ("ORCHESTRATOR_DATABASE_URL_FILE", "storage.database_url_file (a file holding the URL)"),
        ("ORCHESTRATOR_POSTGRES_POOL_SIZE", "storage.postgres_pool_size"),
        ("ORCHESTRATOR_REPLICA_ID", "storage.replica_id"),
        ("ORCHESTRATOR_OWNERSHIP_TTL_MS", "storage.ownership_ttl_ms"),
        ("ORCHESTRATOR_OUTBOX_DIR", "outbox.directory"),
        ("ORCHESTRATOR_LOG_LEVEL", "log_level"),
        ("ORCHESTRATOR_LOG_FORMAT", "log_format (json, text, auto)"),
        ("ORCHESTRATOR_TLS_CERT", "http.tls_cert_file"),
        ("ORCHESTRATOR_TLS_KEY", "http.tls_key_file"),
        ("ORCHESTRATOR_AUTH", "auth.mode (required, none)"),
        ("ORCHESTRATOR_AUTH_FILE", "auth.tokens_file"),
        ("ORCHESTRATOR_AUTH_ANONYMOUS_ROLES", "auth.anonymous_roles (comma-separated)"),
        ("ORCHESTRATOR_METRICS_NEED_TOKEN", "auth.metrics_need_token (true, false)"),
        ("ORCHESTRATOR_JWT_HS256_SECRET_FILE", "auth.jwt_hs256_secret_file"),
        ("ORCHESTRATOR_JWKS_FILE", "auth.jwks_file"),
        ("ORCHESTRATOR_JWT_ISSUER", "auth.jwt_issuer"),
        ("ORCHESTRATOR_JWT_AUDIENCE", "auth.jwt_audience"),
        ("ORCHESTRATOR_JWT_ROLES_CLAIM", "auth.jwt_roles_claim"),
        ("ORCHESTRATOR_OUTBOX_SINK", "outbox.sink (files, kafka, both)"),
        ("KAFKA_TICKETS_TOPIC", "outbox.topics.tickets"),
        ("KAFKA_INCIDENTS_TOPIC", "outbox.topics.incidents"),
        ("KAFKA_TELEMETRY_TOPIC", "outbox.topics.telemetry_frames"),
        ("KAFKA_FLOW_C_TELEMETRY_TOPIC", "outbox.topics.telemetry_events"),
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka.bootstrap_servers"),
        ("KAFKA_CONSUMER_GROUP_ID", "kafka.consumer_group_id"),
        ("KAFKA_AUTO_OFFSET_RESET", "kafka.auto_offset_reset"),
        ("KAFKA_SECURITY_PROTOCOL", "kafka.security_protocol"),
        ("KAFKA_SASL_MECHANISM", "kafka.sasl_mechanism"),
        ("KAFKA_SASL_USERNAME", "kafka.sasl_username"),
        ("KAFKA_SASL_PASSWORD", "kafka.sasl_password"),
        ("KAFKA_SASL_PASSWORD_FILE", "kafka.sasl_password_file (a file holding the password)"),
        ("KAFKA_SSL_<NAME>", "kafka.properties[\"ssl.<name>\"], e.g. KAFKA_SSL_CA_LOCATION: ssl.ca.location"),
        ("KAFKA_CONSENSUS_TOPIC", "kafka.topics.consensus"),
        ("KAFKA_PLANS_TOPIC", "kafka.topics.plans"),
        ("KAFKA_RESULTS_TOPIC", "kafka.topics.results"),
        ("KAFKA_MESSAGE_FORMAT", "kafka.format (json, avro)"),
        ("KAFKA_CONSUMERS_ENABLED", "kafka.consume (true, false)"),
        ("KAFKA_RESULTS_REQUIRE_LEASE_SECRET", "kafka.results_require_lease_secret (true, false)"),
    ]

    /// Loads the file named by `path` (or `ORCHESTRATOR_CONFIG`) over the defaults, then applies
    /// the environment.
    public static func load(
        path: String?,
        environment env: [String: String] = ProcessInfo.processInfo.environment
    )
        throws -> ServerConfiguration
    {
        var configuration = ServerConfiguration()
        if let file = path ?? env["ORCHESTRATOR_CONFIG"], !file.isEmpty {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw ConfigurationError("cannot read configuration file \(file): \(error.localizedDescription)")
            }
            configuration = try merged(overrides: data, source: file, defaults: configuration)
        }
        if let value = env["ORCHESTRATOR_HOST"] { configuration.http.host = value }
        if let value = env["ORCHESTRATOR_PORT"] { configuration.http.port = try int(value, "ORCHESTRATOR_PORT") }
        if let value = env["ORCHESTRATOR_METRICS_PORT"] {
            configuration.http.metricsPort = try int(value, "ORCHESTRATOR_METRICS_PORT")
        }
        if let value = env["ORCHESTRATOR_DATA_DIR"] { configuration.storage.dataDir = value }
        if let value = env["ORCHESTRATOR_DATABASE_URL"] { configuration.storage.databaseURL = value }
        if let value = env["ORCHESTRATOR_DATABASE_URL_FILE"] { configuration.storage.databaseURLFile = value }
        if let value = env["ORCHESTRATOR_POSTGRES_POOL_SIZE"] {
            configuration.storage.postgresPoolSize = try int(value, "ORCHESTRATOR_POSTGRES_POOL_SIZE")
        }
        if let value = env["ORCHESTRATOR_REPLICA_ID"] { configuration.storage.replicaId = value }
        if let value = env["ORCHESTRATOR_OWNERSHIP_TTL_MS"] {
            configuration.storage.ownershipTtlMs = Int64(try int(value, "ORCHESTRATOR_OWNERSHIP_TTL_MS"))
        }
        if let value = env["ORCHESTRATOR_OUTBOX_DIR"] { configuration.outbox.directory = value }
        if let value = env["ORCHESTRATOR_LOG_LEVEL"] { configuration.logLevel = value }
        if let value = env["ORCHESTRATOR_LOG_FORMAT"] { configuration.logFormat = value }
        if let value = env["KAFKA_TICKETS_TOPIC"] { configuration.outbox.topics.tickets = value }
        if let value = env["ORCHESTRATOR_TLS_CERT"] { configuration.http.tlsCertFile = value }
        if let value = env["ORCHESTRATOR_TLS_KEY"] { configuration.http.tlsKeyFile = value }
        if let value = env["ORCHESTRATOR_AUTH"] { configuration.auth.mode = value }
        if let value = env["ORCHESTRATOR_AUTH_FILE"] { configuration.auth.tokensFile = value }
        if let value = env["ORCHESTRATOR_AUTH_ANONYMOUS_ROLES"] {
            configuration.auth.anonymousRoles = value.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
        }
        if let value = env["ORCHESTRATOR_JWT_HS256_SECRET_FILE"] { configuration.auth.jwtHS256SecretFile = value }
        if let value = env["ORCHESTRATOR_JWKS_FILE"] { configuration.auth.jwksFile = value }
        if let value = env["ORCHESTRATOR_JWT_ISSUER"] { configuration.auth.jwtIssuer = value }
        if let value = env["ORCHESTRATOR_JWT_AUDIENCE"] { configuration.auth.jwtAudience = value }
        if let value = env["ORCHESTRATOR_JWT_ROLES_CLAIM"] { configuration.auth.jwtRolesClaim = value }
        if let value = env["ORCHESTRATOR_METRICS_NEED_TOKEN"] {
            configuration.auth.metricsNeedToken = try bool(value, "ORCHESTRATOR_METRICS_NEED_TOKEN")
        }
        try applyKafka(env, to: &configuration)
        try readSecretFiles(&configuration)
        return configuration
    }

    /// Replaces each `*_file` secret setting by the file's content (trailing newline dropped), so
    /// that secrets can come from mounted Kubernetes Secrets rather than the environment.
    static func readSecretFiles(_ configuration: inout ServerConfiguration) throws {
        if let file = configuration.storage.databaseURLFile, !file.isEmpty {
            configuration.storage.databaseURL = try secret(in: file, setting: "storage.database_url_file")
        }
        if !configuration.kafka.saslPasswordFile.isEmpty {
            configuration.kafka.saslPassword = try secret(
                in: configuration.kafka.saslPasswordFile,
                setting: "kafka.sasl_password_file"
            )
        }
    }

    static func secret(in file: String, setting: String) throws -> String {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(setting): cannot read \(file) (\(error.localizedDescription))")
        }
        let value = text.trimmingCharacters(in: .newlines)
        guard !value.isEmpty else { throw ConfigurationError("\(setting): \(file) is empty") }
        return value
    }

    static func applyKafka(_ env: [String: String], to configuration: inout ServerConfiguration) throws {
        if let value = env["ORCHESTRATOR_OUTBOX_SINK"] {
            guard let sink = ServerConfiguration.Outbox.Sink(rawValue: value.lowercased()) else {
                throw ConfigurationError("ORCHESTRATOR_OUTBOX_SINK must be files, kafka or both, got \"\(value)\"")
            }
            configuration.outbox.sink = sink
        }
        if let value = env["KAFKA_INCIDENTS_TOPIC"] { configuration.outbox.topics.incidents = value }
        if let value = env["KAFKA_TELEMETRY_TOPIC"] { configuration.outbox.topics.telemetryFrames = value }
        if let value = env["KAFKA_FLOW_C_TELEMETRY_TOPIC"] { configuration.outbox.topics.telemetryEvents = value }
        var kafka = configuration.kafka
        if let value = env["KAFKA_BOOTSTRAP_SERVERS"] { kafka.bootstrapServers = value }
        if let value = env["KAFKA_CONSUMER_GROUP_ID"] { kafka.consumerGroupId = value }
        if let value = env["KAFKA_AUTO_OFFSET_RESET"] { kafka.autoOffsetReset = value }
        if let value = env["KAFKA_SECURITY_PROTOCOL"] { kafka.securityProtocol = value }
        if let value = env["KAFKA_SASL_MECHANISM"] { kafka.saslMechanism = value }
        if let value = env["KAFKA_SASL_USERNAME"] { kafka.saslUsername = value }
        if let value = env["KAFKA_SASL_PASSWORD"] { kafka.saslPassword = value }
        if let value = env["KAFKA_SASL_PASSWORD_FILE"] { kafka.saslPasswordFile = value }
        // librdkafka's TLS settings: KAFKA_SSL_CA_LOCATION is ssl.ca.location, and so on.
        for (name, value) in env where name.hasPrefix("KAFKA_SSL_") && name.count > "KAFKA_SSL_".count {
            let key = "ssl." + name.dropFirst("KAFKA_SSL_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            kafka.properties[key] = value
        }
        if let value = env["KAFKA_CONSENSUS_TOPIC"] { kafka.topics.consensus = value }
        if let value = env["KAFKA_PLANS_TOPIC"] { kafka.topics.plans = value }
        if let value = env["KAFKA_RESULTS_TOPIC"] { kafka.topics.results = value }
        if let value = env["KAFKA_MESSAGE_FORMAT"] {
            guard let format = KafkaSettings.MessageFormat(rawValue: value.lowercased()) else {
                throw ConfigurationError("KAFKA_MESSAGE_FORMAT must be json or avro, got \"\(value)\"")
            }
            kafka.format = format
        }
        if let value = env["KAFKA_RESULTS_REQUIRE_LEASE_SECRET"] {
            kafka.resultsRequireLeaseSecret = try bool(value, "KAFKA_RESULTS_REQUIRE_LEASE_SECRET")
        }
        if let value = env["KAFKA_CONSUMERS_ENABLED"] {
            switch value.lowercased() {
            case "true", "1", "yes": kafka.consume = true
            case "false", "0", "no": kafka.consume = false
            default: throw ConfigurationError("KAFKA_CONSUMERS_ENABLED must be true or false, got \"\(value)\"")
            }
        }
        configuration.kafka = kafka
        if configuration.outbox.sink != .files, !kafka.isEnabled {
            throw ConfigurationError(
                "outbox.sink \(configuration.outbox.sink.rawValue) needs kafka.bootstrap_servers (KAFKA_BOOTSTRAP_SERVERS)"
            )
        }
    }

    static func bool(_ text: String, _ name: String) throws -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError("\(name) must be true or false, got \"\(text)\"")
        }
    }

    static func int(_ text: String, _ name: String) throws -> Int {
        guard let value = Int(text) else { throw ConfigurationError("\(name) must be an integer, got \"\(text)\"") }
        return value
    }

    /// Decodes `overrides` (JSON, snake_case) over `defaults`: keys left out keep their defaults;
    /// unknown keys are an error naming them.
    public static func merged<T: Codable>(overrides data: Data, source: String, defaults: T) throws -> T {
        // Defaults are encoded with their own coding keys (camelCase or explicit snake_case); a key of
        // the file matches a default key when both agree ignoring case and underscores.
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        guard let base = try JSONSerialization.jsonObject(with: encoder.encode(defaults)) as? [String: Any] else {
            throw ConfigurationError("internal: defaults are not an object")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ConfigurationError("configuration file \(source) is not valid JSON")
        }
        guard let overrides = parsed as? [String: Any] else {
            throw ConfigurationError("configuration file \(source) must hold a JSON object")
        }
        var unknown: [String] = []
        let combined = merge(base, overrides, path: "", unknown: &unknown)
        if !unknown.isEmpty {
            throw ConfigurationError(
                "configuration file \(source): unknown key(s) \(unknown.sorted().joined(separator: ", "))"
            )
        }
        do {
            return try decoder.decode(T.self, from: JSONSerialization.data(withJSONObject: combined))
        } catch {
            throw ConfigurationError("configuration file \(source): \(describe(error))")
        }
    }

    private static func merge(
        _ base: [String: Any],
        _ overrides: [String: Any],
        path: String,
        unknown: inout [String]
    ) -> [String: Any] {
        var result = base
        var byNormalised: [String: String] = [:]
        for key in base.keys { byNormalised[normalise(key)] = key }
        for (given, value) in overrides {
            let keyPath = path.isEmpty ? given : path + "." + given
            // Optional keys absent from the encoded defaults (nil) are accepted as given.
            guard let key = byNormalised[normalise(given)], let existing = base[key] else {
                if let optional = optionalKeys[keyPath] {
                    result[optional] = value
                } else {
                    unknown.append(keyPath)
                }
                continue
            }
            if let nestedBase = existing as? [String: Any], !nestedBase.isEmpty, let nested = value as? [String: Any] {
                result[key] = merge(nestedBase, nested, path: keyPath, unknown: &unknown)
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// Keys whose default is nil (so they do not appear in the encoded defaults), with their coding key.
    static let optionalKeys: [String: String] = [
        "storage.database_url": "databaseURL", "outbox.directory": "directory", "storage.replica_id": "replicaId",
        "auth.tokens_file": "tokensFile", "storage.database_url_file": "databaseURLFile",
        "http.tls_cert_file": "tlsCertFile", "http.tls_key_file": "tlsKeyFile",
        "auth.jwt_hs256_secret_file": "jwtHS256SecretFile", "auth.jwks_file": "jwksFile",
        "auth.jwt_issuer": "jwtIssuer", "auth.jwt_audience": "jwtAudience",
    ]

    private static func normalise(_ key: String) -> String {
        key.lowercased().replacingOccurrences(of: "_", with: "")
    }
}

/// A configuration problem, reported before anything starts.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
