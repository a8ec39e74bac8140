import Foundation
import Kafka
import Logging
import OrchestratorCore
import OrchestratorEngine
import OrchestratorKafka
import OrchestratorStore
import SQLiteStore

/// A real engine on a temporary SQLite file, publishing through ``KafkaOutboxSink`` and fed by
/// ``KafkaIntake``, both against librdkafka's in-process mock cluster; plus a peer producer and
/// consumer playing the hive-mind's side.
struct KafkaFlowHarness {
    let cluster: KafkaMockCluster
    let settings: KafkaSettings
    let engine: Engine
    let sink: KafkaOutboxSink
    let peer: KafkaProducer
    let topics = TopicNames()
    private let tasks: [Task<Void, any Error>]
    private let directory: URL

    init(format: KafkaSettings.MessageFormat = .json) throws {
        cluster = try KafkaMockCluster()
        for topic in ["plans.consensus", "plans.ready", "execution.results"] {
            try cluster.createTopic(topic, partitions: 1)
        }
        for topic in ["execution.tickets", "orchestration.incidents", "telemetry.orchestration", "telemetry-flow-c"] {
            try cluster.createTopic(topic, partitions: 2)
        }
        var settings = KafkaSettings()
        settings.bootstrapServers = cluster.bootstrapServers
        settings.consumerGroupId = "orchestrator-\(UUID().uuidString.prefix(6))"
        settings.format = format
        settings.deliveryTimeoutMs = 5_000
        settings.properties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        self.settings = settings
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-flow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteWorkflowStore(path: directory.appendingPathComponent("orchestrator.sqlite").path)
        let logger = Logger(label: "kafka-flow-test")
        let producerConfiguration = settings.producerConfiguration()
        sink = try KafkaOutboxSink(topics: topics, format: format, logger: logger) { () throws(KafkaError) in
            try KafkaProducer(configuration: producerConfiguration, logger: logger)
        }
        let engine = Engine(store: store, sinks: [sink], logger: logger)
        self.engine = engine
        let intake = KafkaIntake(settings: settings, engine: engine, logger: logger)
        tasks = [Task { try await engine.run() }, Task { try await intake.run() }]
        peer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
    }

    /// A consumer of our output topics, in a group of its own, from the beginning.
    func outputConsumer(_ topics: [String]) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: KafkaConfiguration([
                "bootstrap.servers": cluster.bootstrapServers, "auto.offset.reset": "earliest",
                "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
            ]),
            groupId: "peer-\(UUID().uuidString.prefix(6))",
            topics: topics
        )
    }

    func publish(_ topic: String, key: String, _ value: [UInt8]) async throws {
        _ = try await peer.send(KafkaOutgoingMessage(topic: topic, key: Array(key.utf8), value: value))
    }

    func stop() async {
        for task in tasks.reversed() {
            task.cancel()
            _ = await task.result
        }
        await peer.close(flushTimeout: .seconds(1))
        await sink.producer.close(flushTimeout: .seconds(1))
        try? FileManager.default.removeItem(at: directory)
    }
}

enum Examples {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    static func decision() throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent("decision.json")))
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// Reads messages until `done` says enough or `timeout` passes.
func collect(
    _ consumer: KafkaConsumer,
    timeout: Duration = .seconds(30),
    until done: ([KafkaMessage]) -> Bool
) async -> [KafkaMessage] {
    var messages: [KafkaMessage] = []
    let deadline = ContinuousClock.now + timeout
    while !done(messages), ContinuousClock.now < deadline {
        if let message = try? await consumer.poll(timeout: .milliseconds(100)) { messages.append(message) }
    }
    return messages
}
