import Foundation
import Kafka
import Logging
import Metrics
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore
import ServiceLifecycle
import Synchronization
import Tracing

/// Publishes outbox messages on Kafka with the idempotent producer (`acks=all`): tickets keyed by
/// `plan_id`, incidents by `incident_id`, telemetry by `workflow_id`. ``deliver(_:)`` returns only
/// when every message's delivery report succeeded, so the relay acknowledges the outbox only
/// after the broker has the messages; a failure (broker down: after `message.timeout.ms`) throws,
/// the relay retries with backoff and the outbox keeps the messages meanwhile.
///
/// Headers: the message's own (W3C `traceparent`, `tracestate` when present), `content-type`,
/// and `outbox-sequence` (the relay may publish a message again after a failure, so consumers
/// can drop repeats by it).
///
/// After a failed batch the sink replaces its producer with a new one: an idempotent producer
/// whose broker lost its state (a restarted in-memory broker answers `UNKNOWN_PRODUCER_ID`
/// forever) or that hit a fatal idempotence error never recovers by itself, while a new one gets a
/// new producer id. As a `Service` the sink runs until graceful shutdown, then flushes its
/// producer (bounded by the flush timeout) and closes it.
public final class KafkaOutboxSink: OutboxSink, Service {
    let topics: TopicNames
    let format: KafkaSettings.MessageFormat
    let logger: Logger
    let flushTimeout: Duration
    private let makeProducer: @Sendable () throws(KafkaError) -> KafkaProducer
    private let current: Mutex<KafkaProducer>
    private let lastFailure = Mutex<String?>(nil)
    /// Where the key of the lease secrets is kept: each ticket message gets the `lease-secret`
    /// header of its attempt. `nil` publishes tickets without it.
    let secretStore: (any WorkflowStore)?
    private let leaseKey = Mutex<[UInt8]?>(nil)

    /// - Parameter makeProducer: creates the producer now, and again after a failed batch.
    public init(
        topics: TopicNames,
        format: KafkaSettings.MessageFormat,
        flushTimeout: Duration = .seconds(10),
        secretStore: (any WorkflowStore)? = nil,
        logger: Logger,
        makeProducer: @escaping @Sendable () throws(KafkaError) -> KafkaProducer
    ) throws(KafkaError) {
        self.secretStore = secretStore
        self.topics = topics
        self.format = format
        self.flushTimeout = flushTimeout
        self.logger = logger
        self.makeProducer = makeProducer
        current = Mutex(try makeProducer())
        // At 0 from the start for the usual delivery error, so that rate() works before the first.
        Counter(
            label: "orchestration_kafka_errors_total",
            dimensions: [("operation", "produce"), ("error_type", "_MSG_TIMED_OUT")]
        ).increment(by: 0)
    }

    /// The producer in use.
    public var producer: KafkaProducer { current.withLock { $0 } }

    /// Waits until graceful shutdown or cancellation, then flushes and closes the producer.
    public func run() async throws {
        try? await gracefulShutdown()
        await producer.close(flushTimeout: flushTimeout)
    }

    public func deliver(_ messages: [StoredOutboxMessage]) async throws {
        var key = leaseKey.withLock { $0 }
        if key == nil, let secretStore, messages.contains(where: { $0.message.topic == .tickets }) {
            let loaded = try await LeaseSecretKey.load(from: secretStore)
            leaseKey.withLock { $0 = loaded }
            key = loaded
        }
        let outgoing = try messages.map { try encode($0, leaseKey: key) }
        let producer = producer
        let span = Self.sendSpan(outgoing)
        defer { span?.end() }
        let results = await producer.send(outgoing)
        var failures: [KafkaError] = []
        for result in results {
            if case .failure(let error) = result { failures.append(error) }
        }
        guard let first = failures.first else {
            let previous = lastFailure.withLock { failure in
                defer { failure = nil }
                return failure
            }
            if let previous {
                logger.notice("kafka deliveries succeed again", metadata: ["previous_failure": "\(previous)"])
            }
            Counter(label: "orchestration_kafka_messages_produced_total").increment(by: results.count)
            return
        }
        let reason = "\(failures.count) of \(messages.count) message(s) not delivered: \(first)"
        span?.setStatus(SpanStatus(code: .error, message: reason))
        let wasFailing = lastFailure.withLock { failure in
            defer { failure = reason }
            return failure != nil
        }
        if !wasFailing {
            logger.warning("kafka deliveries fail; the outbox keeps the messages", metadata: ["reason": "\(reason)"])
        }
        Counter(
            label: "orchestration_kafka_errors_total",
            dimensions: [("operation", "produce"), ("error_type", first.name)]
        ).increment(by: failures.count)
        await replace(producer)
        throw KafkaSinkError(message: reason, underlying: first)
    }

    /// The span of one batch sent to the broker (a child of the relay's span), linked to the
    /// workflows whose messages it carries (their `traceparent` headers, at most 32); `nil` when
    /// tracing is off.
    static func sendSpan(_ outgoing: [KafkaOutgoingMessage]) -> (any Span)? {
        guard !(InstrumentationSystem.tracer is NoOpTracer) else { return nil }
        let topics = Set(outgoing.map(\.topic)).sorted()
        let span = startSpan(
            topics.count == 1 ? "send \(topics[0])" : "send",
            context: InstrumentationContext.current ?? .topLevel,
            ofKind: .producer
        )
        guard span.isRecording else { return span }
        var attributes: SpanAttributes = [:]
        attributes["messaging.system"] = "kafka"
        attributes["messaging.operation.type"] = "send"
        attributes["messaging.batch.message_count"] = outgoing.count
        attributes["messaging.destination.name"] = topics.joined(separator: ",")
        span.attributes = attributes
        var linked: Set<String> = []
        for message in outgoing where linked.count < 32 {
            guard let parent = message.headers.first(where: { $0.name == "traceparent" })?.text,
                linked.insert(parent).inserted
            else { continue }
            var context = InstrumentationContext.topLevel
            InstrumentationSystem.tracer.extract(["traceparent": parent], into: &context, using: HeaderMap())
            span.addLink(SpanLink(context: context, attributes: [:]))
        }
        return span
    }

    /// Swaps in a new producer (unless another delivery already did) and closes `failed`.
    func replace(_ failed: KafkaProducer) async {
        let swapped: Bool
        do {
            let fresh = try makeProducer()
            swapped = current.withLock { producer in
                guard producer === failed else { return false }
                producer = fresh
                return true
            }
            if !swapped { await fresh.close(flushTimeout: .zero) }
        } catch {
            logger.error("kafka producer could not be recreated", metadata: ["error": "\(error)"])
            return
        }
        if swapped {
            logger.info("kafka producer replaced after a failed delivery")
            await failed.close(flushTimeout: .zero)
        }
    }

    /// The Kafka message of an outbox message.
    func encode(_ stored: StoredOutboxMessage, leaseKey: [UInt8]? = nil) throws -> KafkaOutgoingMessage {
        let message = stored.message
        var value = Array(message.payload.utf8)
        var contentType = "application/json"
        if format == .avro, let record = Self.record(of: message.topic) {
            value = try ModelCodec.encode(json: Data(value), as: record)
            contentType = "avro/binary; schema=\(record.rawValue)"
        }
        var headers = message.headers.sorted { $0.key < $1.key }.map { KafkaHeader(name: $0.key, text: $0.value) }
        headers.append(KafkaHeader(name: "content-type", text: contentType))
        headers.append(KafkaHeader(name: "outbox-sequence", text: "\(stored.sequence)"))
        if let leaseKey, message.topic == .tickets, let attempt = Self.attempt(of: message.payload) {
            let secret = LeaseSecretKey.kafkaTicketSecret(
                key: leaseKey,
                ticketId: attempt.ticketId,
                attempt: attempt.retryCount
            )
            headers.append(KafkaHeader(name: "lease-secret", text: secret))
        }
        return KafkaOutgoingMessage(
            topic: topics.name(message.topic),
            key: Array(message.key.utf8),
            value: value,
            headers: headers
        )
    }

    /// The ticket id and retry count of a ticket message's JSON payload.
    static func attempt(of payload: String) -> (ticketId: String, retryCount: Int)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
            let ticketId = object["ticket_id"] as? String
        else { return nil }
        return (ticketId, (object["retry_count"] as? NSNumber)?.intValue ?? 0)
    }

    /// The contract record of a topic; the final telemetry frame has no Avro schema and stays JSON.
    static func record(of topic: OutboxTopic) -> ContractSchemas.Record? {
        switch topic {
        case .tickets: return .executionTicket
        case .incidents: return .orchestrationIncident
        case .telemetryEvents: return .flowCTelemetry
        case .telemetryFrames: return nil
        }
    }

    /// Why the sink is not ready: the last delivery failed, or no broker answers a metadata
    /// request within `timeout`. `nil` when healthy.
    public func readinessProblem(timeout: Duration = .seconds(2)) async -> String? {
        if let failure = lastFailure.withLock({ $0 }) { return failure }
        do {
            _ = try await producer.metadata(topic: nil, timeout: timeout)
            return nil
        } catch {
            return "no broker answers: \(error)"
        }
    }
}

/// A batch that Kafka did not take.
public struct KafkaSinkError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var underlying: KafkaError
    public var description: String { message }
}
