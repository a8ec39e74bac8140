import CRdKafka
import Synchronization

/// librdkafka's in-process mock cluster, for tests without a broker: point clients at
/// ``bootstrapServers``. Supports producing (idempotent too), consumer groups, commits and
/// metadata; brokers can be taken down and up to simulate an outage.
public final class KafkaMockCluster: Sendable {
    private let owner: NativeHandle
    private let cluster: MockPointer
    private let destroyed = Mutex(false)
    /// `host:port,…` of the mock brokers.
    public let bootstrapServers: String

    private struct MockPointer: @unchecked Sendable { let pointer: OpaquePointer }

    /// Starts a cluster of `brokers` brokers.
    public init(brokers: Int32 = 1) throws(KafkaError) {
        let conf = try KafkaConfiguration().makeNative()
        owner = try NativeHandle.make(RD_KAFKA_PRODUCER, conf: conf)
        guard let cluster = rd_kafka_mock_cluster_new(owner.pointer, brokers) else {
            rd_kafka_destroy(owner.pointer)
            throw KafkaError(name: "MOCK", code: -1, message: "rd_kafka_mock_cluster_new failed")
        }
        self.cluster = MockPointer(pointer: cluster)
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Creates a topic with `partitions` partitions.
    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_topic_create(cluster.pointer, name, partitions, 1)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "create topic \(name)") }
    }

    /// Takes broker `id` (1-based) down or brings it back up.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let error =
            up ? rd_kafka_mock_broker_set_up(cluster.pointer, id) : rd_kafka_mock_broker_set_down(cluster.pointer, id)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "broker \(id)") }
    }

    /// Stops the cluster (also done on release).
    public func shutdown() {
        let wasDestroyed = destroyed.withLock { done in
            defer { done = true }
            return done
        }
        guard !wasDestroyed else { return }
        rd_kafka_mock_cluster_destroy(cluster.pointer)
        rd_kafka_destroy(owner.pointer)
    }

    deinit { shutdown() }
}
