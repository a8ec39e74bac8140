import Kafka

/// Kafka settings of the orchestrator (the `kafka` section of the configuration; environment
/// variables as the hive-mind's original service named them, see docs/CONFIGURATION.md).
public struct KafkaSettings: Sendable, Equatable, Codable {
    /// `host:port,…`; empty disables Kafka (`KAFKA_BOOTSTRAP_SERVERS`).
    public var bootstrapServers = ""
    /// The consumer group of the intake consumers (`KAFKA_CONSUMER_GROUP_ID`).
    public var consumerGroupId = "orchestrator-dynamic"
    /// Where a new group starts reading: `earliest` or `latest` (`KAFKA_AUTO_OFFSET_RESET`).
    public var autoOffsetReset = "earliest"
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`; empty leaves librdkafka's default
    /// (`KAFKA_SECURITY_PROTOCOL`).
    public var securityProtocol = ""
    /// e.g. `PLAIN`, `SCRAM-SHA-512` (`KAFKA_SASL_MECHANISM`); empty leaves the default.
    public var saslMechanism = ""
    /// `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`.
    public var saslUsername = ""
    public var saslPassword = ""
    /// A file holding the SASL password (`KAFKA_SASL_PASSWORD_FILE`), e.g. a mounted Kubernetes
    /// Secret; read at start, it wins over `sasl_password`.
    public var saslPasswordFile = ""
    /// Whether a result on the results topic must carry the lease secret of the ticket's current
    /// attempt (the `lease-secret` header of the ticket message we published) in a `lease-secret`
    /// header or a `lease_secret` field (`KAFKA_RESULTS_REQUIRE_LEASE_SECRET`). Off by default:
    /// the hive-mind's own workers send none, and a result then applies when its ticket is out
    /// for execution.
    public var resultsRequireLeaseSecret = false
    /// Whether the intake consumers run (when bootstrap servers are set) (`KAFKA_CONSUMERS_ENABLED`).
    public var consume = true
    /// Payload format of every topic we read and write (`KAFKA_MESSAGE_FORMAT`): `json` (the
    /// hive-mind's default) or `avro` (bare Avro binary with our contract schemas; Confluent
    /// framing or the single-object encoding are accepted on input too).
    public var format: MessageFormat = .json
    /// Input topics.
    public var topics = InputTopics()
    /// How long the producer tries to deliver a message before reporting it failed
    /// (`message.timeout.ms`); bounds how long one relay attempt blocks while a broker is down.
    public var deliveryTimeoutMs = 30_000
    /// How long shutdown waits for undelivered messages.
    public var flushTimeoutMs = 10_000
    /// Any further librdkafka properties, passed through as given (e.g. `ssl.ca.location`).
    public var properties: [String: String] = [:]

    public init() {}

    /// Payload formats.
    public enum MessageFormat: String, Sendable, Equatable, Codable, CaseIterable {
        case json, avro
    }

    /// The topics the consumers read.
    public struct InputTopics: Sendable, Equatable, Codable {
        /// Decisions (`KAFKA_CONSENSUS_TOPIC`).
        public var consensus = "plans.consensus"
        /// Plans for the plan ledger (`KAFKA_PLANS_TOPIC`).
        public var plans = "plans.ready"
        /// Worker results (`KAFKA_RESULTS_TOPIC`).
        public var results = "execution.results"
        public init() {}

        public var all: [String] { [consensus, plans, results] }
    }

    /// Whether Kafka is configured at all.
    public var isEnabled: Bool { !bootstrapServers.isEmpty }

    /// The librdkafka configuration shared by the producer and the consumer.
    public func clientConfiguration() -> KafkaConfiguration {
        var configuration = KafkaConfiguration(bootstrapServers: bootstrapServers)
        configuration["client.id"] = "orchestrator-dynamic"
        if !securityProtocol.isEmpty { configuration["security.protocol"] = securityProtocol }
        if !saslMechanism.isEmpty { configuration["sasl.mechanism"] = saslMechanism }
        if !saslUsername.isEmpty { configuration["sasl.username"] = saslUsername }
        if !saslPassword.isEmpty { configuration["sasl.password"] = saslPassword }
        for (key, value) in properties { configuration[key] = value }
        return configuration
    }

    /// The producer's configuration (idempotence and `acks=all` are enforced by the producer).
    public func producerConfiguration() -> KafkaConfiguration {
        var configuration = clientConfiguration()
        if configuration["message.timeout.ms"] == nil { configuration["message.timeout.ms"] = "\(deliveryTimeoutMs)" }
        return configuration
    }

    /// The consumer's configuration.
    public func consumerConfiguration() -> KafkaConfiguration {
        var configuration = clientConfiguration()
        if configuration["auto.offset.reset"] == nil { configuration["auto.offset.reset"] = autoOffsetReset }
        return configuration
    }
}
