import CRdKafka

/// The cluster as a broker described it.
public struct KafkaMetadata: Sendable, Equatable {
    public struct Broker: Sendable, Equatable {
        public var id: Int32
        public var host: String
        public var port: Int32
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        /// Partition ids, ascending.
        public var partitions: [Int32]
        /// The broker's error for the topic (e.g. `UNKNOWN_TOPIC_OR_PART`), if any.
        public var error: KafkaError?
    }

    public var brokers: [Broker]
    public var topics: [Topic]

    /// The topic named `name`, if the broker described it.
    public func topic(_ name: String) -> Topic? {
        topics.first { $0.name == name }
    }
}

extension NativeHandle {
    /// Asks a broker for metadata of one topic (creating it where the broker auto-creates
    /// topics) or of all topics. Blocking: call on the client's thread.
    func metadata(topic: String?, timeoutMs: Int32) throws(KafkaError) -> KafkaMetadata {
        var topicHandle: OpaquePointer?
        if let topic {
            topicHandle = rd_kafka_topic_new(pointer, topic, nil)
        }
        defer { if let topicHandle { rd_kafka_topic_destroy(topicHandle) } }
        var result: UnsafePointer<rd_kafka_metadata_t>?
        let error = rd_kafka_metadata(pointer, topic == nil ? 1 : 0, topicHandle, &result, timeoutMs)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let result else {
            throw KafkaError(error, "metadata request failed")
        }
        defer { rd_kafka_metadata_destroy(result) }
        let native = result.pointee
        let brokers = (0..<Int(native.broker_cnt)).map { i in
            let broker = native.brokers[i]
            return KafkaMetadata.Broker(id: broker.id, host: String(cString: broker.host), port: broker.port)
        }
        let topics = (0..<Int(native.topic_cnt)).map { i in
            let entry = native.topics[i]
            let partitions = (0..<Int(entry.partition_cnt)).map { entry.partitions[$0].id }.sorted()
            return KafkaMetadata.Topic(
                name: String(cString: entry.topic),
                partitions: partitions,
                error: entry.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(entry.err)
            )
        }
        return KafkaMetadata(brokers: brokers, topics: topics)
    }
}
