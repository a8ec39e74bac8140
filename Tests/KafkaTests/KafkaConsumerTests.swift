import Kafka
import Testing

@Suite(.timeLimit(.minutes(2))) struct KafkaConsumerTests {
    @Test func aGroupResumesFromTheCommittedOffset() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("commit")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: mockConfiguration(cluster))
        let results = await producer.send(
            (0..<4).map { KafkaOutgoingMessage(topic: topic, key: text("k"), value: text("m\($0)")) }
        )
        #expect(try results.map { try $0.get().offset } == [0, 1, 2, 3])
        await producer.close(flushTimeout: .seconds(5))

        let group = uniqueTopic("group")
        let first = try KafkaConsumer(configuration: mockConfiguration(cluster), groupId: group, topics: [topic])
        let (read, firstErrors) = await consume(first, count: 4)
        #expect(read.map(\.value) == (0..<4).map { text("m\($0)") }, "errors: \(firstErrors)")
        try #require(read.count == 4)
        // Processed the first two only: commit after the second.
        try await first.commit(read[1])
        #expect(try await first.committed(topic: topic, partition: 0) == 2)
        await first.close()

        let second = try KafkaConsumer(configuration: mockConfiguration(cluster), groupId: group, topics: [topic])
        let (again, errors) = await consume(second, count: 2, timeout: .seconds(60))
        #expect(again.map(\.offset) == [2, 3], "errors: \(errors)")
        #expect(again.map(\.value) == [text("m2"), text("m3")])
        await second.close()
    }

    @Test func lagIsTheHighWatermarkMinusThePosition() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("lag")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: mockConfiguration(cluster))
        _ = await producer.send((0..<10).map { KafkaOutgoingMessage(topic: topic, key: nil, value: text("m\($0)")) })
        await producer.close(flushTimeout: .seconds(5))
        let consumer = try KafkaConsumer(
            configuration: mockConfiguration(cluster),
            groupId: uniqueTopic("group"),
            topics: [topic]
        )
        #expect(await consumer.lag().isEmpty, "no assignment yet")
        let (read, errors) = await consume(consumer, count: 3)
        try #require(read.count == 3, "errors: \(errors)")
        #expect(await consumer.lag() == [PartitionLag(topic: topic, partition: 0, lag: 7)])
        await consumer.close()
    }

    /// A partition assigned but never read from (here: an empty one) shows its lag too, counted
    /// from where reading would start, so every replica with partitions exports the gauge.
    @Test func anAssignedPartitionNotReadYetShowsItsLag() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("lag-unread")
        try cluster.createTopic(topic, partitions: 2)
        let producer = try KafkaProducer(configuration: mockConfiguration(cluster))
        // One key: every message goes to the same partition, the other stays empty.
        _ = await producer.send(
            (0..<10).map { KafkaOutgoingMessage(topic: topic, key: text("k"), value: text("m\($0)")) }
        )
        await producer.close(flushTimeout: .seconds(5))
        let consumer = try KafkaConsumer(
            configuration: mockConfiguration(cluster),
            groupId: uniqueTopic("group"),
            topics: [topic]
        )
        let (read, errors) = await consume(consumer, count: 3)
        try #require(read.count == 3, "errors: \(errors)")
        let full = read[0].partition
        var lags: [PartitionLag] = []
        for _ in 0..<50 {
            lags = await consumer.lag().sorted { $0.partition < $1.partition }
            if lags.count == 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(
            lags == [
                PartitionLag(topic: topic, partition: 0, lag: full == 0 ? 7 : 0),
                PartitionLag(topic: topic, partition: 1, lag: full == 1 ? 7 : 0),
            ]
        )
        await consumer.close()
    }

    @Test func keysAndHeadersRoundTrip() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("headers")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: mockConfiguration(cluster))
        let headers = [
            KafkaHeader(name: "traceparent", text: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            KafkaHeader(name: "binary", value: [0, 1, 2, 255]),
            KafkaHeader(name: "empty", value: nil),
        ]
        _ = try await producer.send(
            KafkaOutgoingMessage(topic: topic, key: text("plan-1"), value: [0, 9, 8], headers: headers)
        )
        _ = try await producer.send(KafkaOutgoingMessage(topic: topic, key: nil, value: text("no key")))
        await producer.close(flushTimeout: .seconds(5))

        let consumer = try KafkaConsumer(
            configuration: mockConfiguration(cluster),
            groupId: uniqueTopic("g"),
            topics: [topic]
        )
        let (messages, errors) = await consume(consumer, count: 2)
        try #require(messages.count == 2, "errors: \(errors)")
        #expect(messages[0].keyText == "plan-1")
        #expect(messages[0].value == [0, 9, 8])
        #expect(messages[0].headers == headers)
        #expect(messages[0].header("traceparent")?.text?.hasPrefix("00-0af7") == true)
        #expect(messages[0].timestampMs != nil)
        #expect(messages[1].key == nil)
        #expect(messages[1].headers.isEmpty)
        await consumer.close()
    }

    @Test func pollingAfterCloseFailsAsClosed() async throws {
        let cluster = try KafkaMockCluster()
        let consumer = try KafkaConsumer(configuration: mockConfiguration(cluster), groupId: "g", topics: ["t"])
        await consumer.close()
        await #expect(throws: KafkaError.self) { try await consumer.poll(timeout: .milliseconds(10)) }
    }

    @Test func consumerMetadataSeesTheCluster() async throws {
        let cluster = try KafkaMockCluster()
        let topic = uniqueTopic("cmeta")
        try cluster.createTopic(topic, partitions: 2)
        let consumer = try KafkaConsumer(configuration: mockConfiguration(cluster), groupId: "g", topics: [topic])
        let metadata = try await consumer.metadata(topic: topic)
        #expect(metadata.topic(topic)?.partitions == [0, 1])
        await consumer.close()
    }
}
