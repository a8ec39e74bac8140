import Foundation
import Kafka

/// Client settings that make a group settle quickly against the mock cluster.
func mockConfiguration(_ cluster: KafkaMockCluster, _ extra: [String: String] = [:]) -> KafkaConfiguration {
    var properties = [
        "bootstrap.servers": cluster.bootstrapServers,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "500",
        // The rebalance timeout: how long a join waits for members that left without a word.
        "max.poll.interval.ms": "7000",
        "topic.metadata.refresh.interval.ms": "1000",
    ]
    properties.merge(extra) { _, new in new }
    return KafkaConfiguration(properties)
}

/// A topic name unique to one test.
func uniqueTopic(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// Polls until `count` messages arrived or `timeout` passed; consumer errors on the way are
/// returned too (they are transient while a group forms).
func consume(
    _ consumer: KafkaConsumer,
    count: Int,
    timeout: Duration = .seconds(30)
) async -> (messages: [KafkaMessage], errors: [KafkaError]) {
    var messages: [KafkaMessage] = []
    var errors: [KafkaError] = []
    let deadline = ContinuousClock.now + timeout
    while messages.count < count, ContinuousClock.now < deadline {
        do {
            if let message = try await consumer.poll(timeout: .milliseconds(200)) { messages.append(message) }
        } catch {
            errors.append(error)
        }
    }
    return (messages, errors)
}

func text(_ value: String) -> [UInt8] { Array(value.utf8) }
