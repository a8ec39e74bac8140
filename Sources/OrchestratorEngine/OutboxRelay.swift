import Logging
import Metrics
import OrchestratorCore
import OrchestratorStore
import Tracing

/// Moves committed outbox messages to the sinks, in order, and removes them from the outbox once
/// every sink has them. A failing sink leaves the messages in the outbox and is retried with
/// backoff: nothing is lost while a destination is down.
final class OutboxRelay: Sendable {
    let store: any WorkflowStore
    let sinks: [any OutboxSink]
    let batchSize: Int
    let logger: Logger
    /// Committed messages not yet relayed: 0 once the relay caught up, counted after a failure.
    private let backlog = Gauge(label: "orchestrator_outbox_backlog")

    init(store: any WorkflowStore, sinks: [any OutboxSink], batchSize: Int, logger: Logger) {
        self.store = store
        self.sinks = sinks
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Relays until cancelled or until `signal` finishes; wakes on `signal`.
    func run(signal: AsyncStream<Void>) async {
        var wakeups = signal.makeAsyncIterator()
        var failures = 0
        while !Task.isCancelled {
            do {
                let moved = try await relayAll()
                failures = 0
                backlog.record(0)
                // Every commit that writes outbox rows signals; with nothing moved, wait for one.
                if moved == 0, await wakeups.next() == nil { return }
            } catch {
                failures += 1
                Counter(label: "orchestration_telemetry_buffered_total").increment()
                Counter(label: "orchestrator_outbox_relay_failures_total").increment()
                if let pending = try? await store.outboxCount() { backlog.record(pending) }
                logger.warning(
                    "outbox relay failed; will retry",
                    metadata: ["error": "\(error)", "attempt": "\(failures)"]
                )
                try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 6))))
            }
        }
    }

    /// Relays everything pending; returns how many messages moved.
    @discardableResult
    func relayAll() async throws -> Int {
        var moved = 0
        let sinks = self.sinks
        let store = self.store
        let traced = !(InstrumentationSystem.tracer is NoOpTracer)
        while true {
            let count = try await store.relayOutbox(limit: batchSize) { batch in
                let span = traced ? startSpan("outbox relay", context: .topLevel, ofKind: .producer) : nil
                span?.attributes["db.system"] = store.databaseSystem
                span?.attributes["messaging.batch.message_count"] = batch.count
                defer { span?.end() }
                do {
                    // The sinks' own spans (Kafka's send) are children of this one.
                    try await InstrumentationContext.withValue(span?.context ?? InstrumentationContext.current) {
                        for sink in sinks { try await sink.deliver(batch) }
                    }
                } catch {
                    span?.recordError(error)
                    span?.setStatus(SpanStatus(code: .error))
                    throw error
                }
                let telemetry = batch.filter {
                    $0.message.topic == .telemetryEvents || $0.message.topic == .telemetryFrames
                }
                if !telemetry.isEmpty {
                    Counter(label: "orchestration_telemetry_published_total").increment(by: telemetry.count)
                }
                Counter(label: "orchestration_outbox_relayed_total").increment(by: batch.count)
            }
            guard let count else {
                // Another replica is relaying (shared store): try again shortly, so that rows
                // committed here are not left waiting for the next signal.
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            if count == 0 { return moved }
            moved += count
        }
    }
}
