import CRdKafka

/// librdkafka configuration properties, passed through as given (any key librdkafka knows, e.g.
/// `bootstrap.servers`, `security.protocol`, `sasl.mechanism`, `sasl.username`,
/// `message.timeout.ms`). Unknown keys or invalid values fail when a client is created, with a
/// ``KafkaError`` named `CONF_UNKNOWN` or `CONF_INVALID`.
public struct KafkaConfiguration: Sendable, Equatable {
    /// The properties, by librdkafka key.
    public var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    /// A configuration pointing at `bootstrapServers`.
    public init(bootstrapServers: String) {
        self.properties = ["bootstrap.servers": bootstrapServers]
    }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// Builds a `rd_kafka_conf_t` (keys in sorted order, so errors are deterministic). The caller
    /// owns the result until it hands it to `rd_kafka_new`.
    func makeNative(overrides: [String: String] = [:]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(name: "CONF_INVALID", code: -1, message: "rd_kafka_conf_new failed")
        }
        let merged = properties.merging(overrides) { _, override in override }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            var buffer = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, key, value, &buffer, buffer.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let message = cString(buffer)
                let name = result == RD_KAFKA_CONF_UNKNOWN ? "CONF_UNKNOWN" : "CONF_INVALID"
                throw KafkaError(name: name, code: result.rawValue, message: "\(key): \(message)")
            }
        }
        return conf
    }
}
