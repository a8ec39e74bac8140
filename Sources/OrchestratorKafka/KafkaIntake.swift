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

/// The intake consumers as one `Service`: one group member reading `plans.consensus` (decisions),
/// `plans.ready` (plan ledger) and `execution.results` (unfenced worker results).
///
/// A message's offset is committed only after the engine call returned, i.e. after its effect is
/// committed in the database. Redelivery is harmless: intake is idempotent by `decision_id` and
/// the plan ledger by `plan_id`. A message that cannot be parsed or validated, a result for an
/// unknown ticket, and a result the engine refuses (a finished ticket, a superseded attempt) are
/// saved as dead letters with the reason, and committed. While the engine is unavailable (stopping,
/// store failing) the same message is retried with backoff, never skipped.
public final class KafkaIntake: Service {
    let settings: KafkaSettings
    let engine: Engine
    let clock: any WallClock
    let logger: Logger
    private let stopping = Mutex(false)
    /// The key of the lease secrets, read from the store once (not per result).
    private let leaseKey = Mutex<[UInt8]?>(nil)

    public init(settings: KafkaSettings, engine: Engine, clock: any WallClock = SystemClock(), logger: Logger) {
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.logger = logger
    }

    var isStopping: Bool { stopping.withLock { $0 } || Task.isCancelled }

    public func run() async throws {
        let consumer = try KafkaConsumer(
            configuration: settings.consumerConfiguration(),
            groupId: settings.consumerGroupId,
            topics: settings.topics.all
        )
        logger.info(
            "kafka intake consuming",
            metadata: [
                "topics": "\(settings.topics.all.joined(separator: ","))", "group": "\(settings.consumerGroupId)",
            ]
        )
        await withGracefulShutdownHandler {
            await consume(consumer)
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
        }
        await consumer.close()
    }

    func consume(_ consumer: KafkaConsumer) async {
        var errors = 0
        var lagReported = ContinuousClock.now - .seconds(60)
        var lagKnown = false
        // The error counter exists from the start (at 0 for the most common error of each
        // operation), so that rate() over it works before the first error.
        for operation in ["consume", "commit"] {
            Counter(
                label: "orchestration_kafka_errors_total",
                dimensions: [("operation", operation), ("error_type", "_TRANSPORT")]
            ).increment(by: 0)
        }
        while !isStopping {
            // Every 5 s; every second until the first partitions are assigned, so that a new
            // replica shows its lag soon after the group gave it partitions.
            if ContinuousClock.now - lagReported >= (lagKnown ? .seconds(5) : .seconds(1)) {
                lagReported = ContinuousClock.now
                let lags = await consumer.lag()
                if !lags.isEmpty { lagKnown = true }
                for partition in lags {
                    Gauge(
                        label: "orchestration_kafka_consumer_lag",
                        dimensions: [("topic", partition.topic), ("partition", String(partition.partition))]
                    ).record(partition.lag)
                }
            }
            let message: KafkaMessage?
            do {
                message = try await consumer.poll(timeout: .milliseconds(100))
                errors = 0
            } catch {
                errors += 1
                Counter(
                    label: "orchestration_kafka_errors_total",
                    dimensions: [("operation", "consume"), ("error_type", error.name)]
                )
                .increment()
                if errors == 1 || errors % 50 == 0 {
                    logger.warning(
                        "kafka consumer error; retrying",
                        metadata: ["error": "\(error)", "count": "\(errors)"]
                    )
                }
                try? await Task.sleep(for: .milliseconds(min(2_000, 50 * errors)))
                continue
            }
            guard let message else { continue }
            Counter(label: "orchestration_kafka_messages_consumed_total").increment()
            guard await process(message) else { return }
            do {
                try await consumer.commit(message)
            } catch {
                // Not fatal: the message comes again after a rebalance or restart, and intake is idempotent.
                Counter(
                    label: "orchestration_kafka_errors_total",
                    dimensions: [("operation", "commit"), ("error_type", error.name)]
                )
                .increment()
                logger.warning(
                    "offset commit failed",
                    metadata: position(message).merging(["error": "\(error)"]) { $1 }
                )
            }
        }
    }

    /// Handles a message until its effect is durable; `false` when stopping first (no commit).
    func process(_ message: KafkaMessage) async -> Bool {
        guard !(InstrumentationSystem.tracer is NoOpTracer) else { return await processing(message) }
        // A consumer span continuing the message's `traceparent` header: a workflow the message
        // starts hangs under it (unless the decision carries W3C ids of its own).
        var parent = InstrumentationContext.topLevel
        let headers = Dictionary(
            message.headers.compactMap { header in
                header.value.map { (header.name.lowercased(), String(decoding: $0, as: UTF8.self)) }
            },
            uniquingKeysWith: { first, _ in first }
        )
        InstrumentationSystem.tracer.extract(headers, into: &parent, using: HeaderMap())
        return await withSpan("kafka consume \(message.topic)", context: parent, ofKind: .consumer) { span in
            span.attributes["messaging.system"] = "kafka"
            span.attributes["messaging.destination.name"] = message.topic
            span.attributes["messaging.kafka.destination.partition"] = Int(message.partition)
            span.attributes["messaging.kafka.message.offset"] = Int(message.offset)
            return await processing(message)
        }
    }

    func processing(_ message: KafkaMessage) async -> Bool {
        var attempt = 0
        while true {
            let outcome = await handle(message)
            switch outcome {
            case .done:
                return true
            case .deadLetter(let reason):
                if await saveDeadLetter(message, reason: reason) { return true }
            case .retry(let reason):
                if attempt == 0 || attempt % 20 == 0 {
                    logger.warning(
                        "engine unavailable; retrying message",
                        metadata: position(message).merging(["reason": "\(reason)"]) { $1 }
                    )
                }
            }
            attempt += 1
            if isStopping { return false }
            try? await Task.sleep(for: .milliseconds(min(2_000, 50 << min(attempt, 6))))
        }
    }

    enum Outcome {
        case done
        case deadLetter(String)
        case retry(String)
    }

    func handle(_ message: KafkaMessage) async -> Outcome {
        let intake: IntakeMessage
        do {
            intake = try IntakeMessage.decode(
                message,
                topics: settings.topics,
                format: settings.format,
                maxElements: engine.configuration.policies.validation.maxTasks
            )
        } catch {
            return .deadLetter("cannot be read as \(settings.format.rawValue): \(error)")
        }
        do {
            switch intake {
            case .decision(let decision):
                let outcome = try await engine.submit(decision: decision)
                logger.debug(
                    "decision consumed",
                    metadata: [
                        "decision_id": "\(decision.decisionId)", "workflow_id": "\(outcome.workflowId)",
                        "created": "\(outcome.created)",
                    ]
                )
            case .plan(let plan):
                _ = try await engine.submit(plan: plan, start: false)
            case .result(let result):
                return try await report(result, message)
            }
            return .done
        } catch let error as EngineError {
            switch error.code {
            case .invalid, .notFound: return .deadLetter(error.message)
            case .conflict:
                logger.info(
                    "message refused by the engine; committed",
                    metadata: position(message).merging(["reason": "\(error.message)"]) { $1 }
                )
                return .done
            case .unavailable: return .retry(error.message)
            }
        } catch {
            return .retry("\(error)")
        }
    }

    /// An unfenced result: COMPLETED and FAILED change the ticket; RUNNING is progress only.
    func report(_ result: ExecutionResult, _ message: KafkaMessage) async throws -> Outcome {
        if settings.resultsRequireLeaseSecret, let refusal = try await leaseSecretRefusal(result, message) {
            return .deadLetter(refusal)
        }
        guard let report = TicketReport(unfenced: result) else {
            logger.debug("RUNNING result ignored", metadata: ["ticket_id": "\(result.ticketId)"])
            return .done
        }
        // With several replicas, a result for another replica's workflow is forwarded to it by the
        // engine (durably) and answered as accepted. The trust rule of an unfenced result: it is
        // applied only to a ticket out for execution now; one for a finished ticket or a superseded
        // attempt is refused by the engine and kept as a dead letter with the reason (an unknown
        // ticket too, as `notFound`).
        do {
            _ = try await engine.report(report)
        } catch let error as EngineError where error.code == .conflict {
            return .deadLetter("result for ticket \(result.ticketId) refused: \(error.message)")
        }
        return .done
    }

    /// With `kafka.results_require_lease_secret`: why `result` may not be applied, `nil` when it
    /// carries the secret of its ticket's current attempt (the `lease-secret` header of the ticket
    /// message we published) in a `lease-secret` header or, in JSON, a `lease_secret` field.
    func leaseSecretRefusal(_ result: ExecutionResult, _ message: KafkaMessage) async throws -> String? {
        var presented = message.headers.first { $0.name.lowercased() == "lease-secret" }?.value.map {
            String(decoding: $0, as: UTF8.self)
        }
        if presented == nil, settings.format == .json,
            let object = try? JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any]
        {
            presented = object["lease_secret"] as? String
        }
        guard let presented, !presented.isEmpty else {
            return "result for ticket \(result.ticketId) carries no lease secret "
                + "(kafka.results_require_lease_secret: a lease-secret header or a lease_secret field)"
        }
        guard let stored = try await engine.store.ticket(result.ticketId) else {
            return "result for unknown ticket \(result.ticketId)"
        }
        let key: [UInt8]
        if let cached = leaseKey.withLock({ $0 }) {
            key = cached
        } else {
            key = try await LeaseSecretKey.load(from: engine.store)
            leaseKey.withLock { $0 = key }
        }
        let expected = LeaseSecretKey.kafkaTicketSecret(
            key: key,
            ticketId: result.ticketId,
            attempt: stored.record.ticket.retryCount
        )
        guard LeaseSecretKey.same(expected, presented) else {
            return "result for ticket \(result.ticketId) carries a lease secret that is not the one of its current "
                + "attempt (retry \(stored.record.ticket.retryCount)): forged, or for a superseded attempt"
        }
        return nil
    }

    /// Saves a dead letter; `false` when the store failed (the caller retries).
    func saveDeadLetter(_ message: KafkaMessage, reason: String) async -> Bool {
        let letter = DeadLetter(
            topic: message.topic,
            partition: message.partition,
            offset: message.offset,
            key: message.key.map { String(decoding: $0, as: UTF8.self) },
            payload: message.value,
            reason: reason,
            recordedAt: clock.nowMillis()
        )
        do {
            let id = try await engine.store.saveDeadLetter(letter)
            Counter(label: "orchestration_kafka_dead_letters_total", dimensions: [("topic", message.topic)]).increment()
            Counter(label: "orchestrator_dead_letters_total", dimensions: [("source", "kafka")]).increment()
            logger.warning(
                "message dead-lettered",
                metadata: position(message).merging(["reason": "\(reason)", "dead_letter_id": "\(id)"]) { $1 }
            )
            return true
        } catch {
            logger.error(
                "dead letter could not be saved",
                metadata: position(message).merging(["error": "\(error)"]) { $1 }
            )
            return false
        }
    }

    func position(_ message: KafkaMessage) -> Logger.Metadata {
        ["topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)"]
    }
}
