import Kafka
import OrchestratorKafka
import Testing

@Suite struct KafkaSettingsTests {
    @Test func securityAndPassthroughPropertiesReachLibrdkafka() async throws {
        var settings = KafkaSettings()
        settings.bootstrapServers = "127.0.0.1:1"
        settings.securityProtocol = "sasl_plaintext"
        settings.saslMechanism = "PLAIN"
        settings.saslUsername = "orchestrator"
        settings.saslPassword = "secret"
        settings.properties = ["socket.timeout.ms": "5000"]
        let configuration = settings.producerConfiguration()
        #expect(configuration["security.protocol"] == "sasl_plaintext")
        #expect(configuration["sasl.mechanism"] == "PLAIN")
        #expect(configuration["sasl.username"] == "orchestrator")
        #expect(configuration["sasl.password"] == "secret")
        #expect(configuration["socket.timeout.ms"] == "5000")
        #expect(configuration["message.timeout.ms"] == "30000")
        // librdkafka accepts every one of them (it would throw CONF_UNKNOWN / CONF_INVALID).
        let producer = try KafkaProducer(configuration: configuration)
        await producer.close(flushTimeout: .zero)
        let consumer = try KafkaConsumer(
            configuration: settings.consumerConfiguration(),
            groupId: settings.consumerGroupId,
            topics: settings.topics.all
        )
        #expect(settings.consumerConfiguration()["auto.offset.reset"] == "earliest")
        await consumer.close()
    }

    @Test func emptySecuritySettingsAreLeftToLibrdkafka() {
        var settings = KafkaSettings()
        settings.bootstrapServers = "broker:9092"
        let configuration = settings.clientConfiguration()
        #expect(configuration.properties.keys.sorted() == ["bootstrap.servers", "client.id"])
        #expect(!KafkaSettings().isEnabled)
        #expect(settings.isEnabled)
    }

    @Test func aPassthroughKeyLibrdkafkaDoesNotKnowIsRefused() {
        var settings = KafkaSettings()
        settings.bootstrapServers = "broker:9092"
        settings.properties = ["not.a.property": "1"]
        let error = #expect(throws: KafkaError.self) {
            try KafkaProducer(configuration: settings.producerConfiguration())
        }
        #expect(error?.name == "CONF_UNKNOWN")
    }
}
