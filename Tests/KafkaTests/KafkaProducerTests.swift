import Kafka
import Testing

@Suite(.timeLimit(.minutes(2))) struct KafkaProducerTests {
    @Test func deliveryReportNamesTopicPartitionAndOffset() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("produce")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: mockConfiguration(cluster))
        let first = try await producer.send(KafkaOutgoingMessage(topic: topic, key: text("k"), value: text("one")))
        let second = try await producer.send(KafkaOutgoingMessage(topic: topic, key: text("k"), value: text("two")))
        #expect(first == DeliveryReport(topic: topic, partition: 0, offset: 0))
        #expect(second == DeliveryReport(topic: topic, partition: 0, offset: 1))
        await producer.close(flushTimeout: .seconds(5))
    }

    @Test func aBatchReportsEveryMessageInOrder() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("batch")
        try cluster.createTopic(topic, partitions: 2)
        let producer = try KafkaProducer(configuration: mockConfiguration(cluster))
        let messages = (0..<50).map { i in
            KafkaOutgoingMessage(topic: topic, key: text("key-\(i % 2)"), value: text("value-\(i)"))
        }
        let results = await producer.send(messages)
        let reports = try results.map { try $0.get() }
        #expect(reports.count == 50)
        // Messages of one key go to one partition, with increasing offsets.
        for key in 0..<2 {
            let ofKey = reports.enumerated().filter { $0.offset % 2 == key }.map(\.element)
            #expect(Set(ofKey.map(\.partition)).count == 1)
            #expect(ofKey.map(\.offset) == ofKey.map(\.offset).sorted())
        }
        await producer.close(flushTimeout: .seconds(5))
    }

    // The result must be a timeout failure; the time limit only catches a send that never returns.
    @Test(.timeLimit(.minutes(1)))
    func aBrokerThatIsDownFailsDeliveryWithinTheMessageTimeout() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("down")
        try cluster.createTopic(topic, partitions: 1)
        try cluster.setBroker(1, up: false)
        let producer = try KafkaProducer(
            configuration: mockConfiguration(cluster, ["message.timeout.ms": "1500"])
        )
        let result = await producer.send([KafkaOutgoingMessage(topic: topic, key: nil, value: text("lost"))])[0]
        guard case .failure(let error) = result else {
            Issue.record("delivery to a broker that is down succeeded")
            return
        }
        #expect(error.isTimeout, "got \(error)")
        await producer.close(flushTimeout: .seconds(1))
    }

    @Test func sendingAfterCloseFailsAsClosed() async throws {
        let cluster = try KafkaMockCluster()
        let producer = try KafkaProducer(configuration: mockConfiguration(cluster))
        await producer.close(flushTimeout: .seconds(1))
        let result = await producer.send([KafkaOutgoingMessage(topic: "t", key: nil, value: text("x"))])[0]
        #expect(throws: KafkaError.self) { try result.get() }
        #expect((try? result.get()) == nil)
        if case .failure(let error) = result { #expect(error.name == "CLOSED") }
    }

    @Test func anUnknownConfigurationKeyIsNamedInTheError() throws {
        let error = #expect(throws: KafkaError.self) {
            try KafkaProducer(configuration: KafkaConfiguration(["no.such.property": "1"]))
        }
        #expect(error?.name == "CONF_UNKNOWN")
        #expect(error?.message.contains("no.such.property") == true)
    }

    @Test func anInvalidValueIsReportedAsInvalid() throws {
        let error = #expect(throws: KafkaError.self) {
            try KafkaProducer(configuration: KafkaConfiguration(["message.timeout.ms": "soon"]))
        }
        #expect(error?.name == "CONF_INVALID")
    }

    @Test func metadataListsTheTopicsPartitionsAndTheBroker() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("meta")
        try cluster.createTopic(topic, partitions: 3)
        let producer = try KafkaProducer(configuration: mockConfiguration(cluster))
        let metadata = try await producer.metadata(topic: topic)
        #expect(metadata.brokers.count == 1)
        #expect(metadata.topic(topic)?.partitions == [0, 1, 2])
        #expect(metadata.topic(topic)?.error == nil)
        let all = try await producer.metadata()
        #expect(all.topic(topic) != nil)
        await producer.close(flushTimeout: .seconds(1))
    }
}
