import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import Tracing

/// Buffers ended spans and posts them in batches to an OTLP/HTTP collector
/// (`application/x-protobuf`), the way the OpenTelemetry batch span processor does: a batch goes
/// when `maxExportBatchSize` spans wait or `scheduleDelay` passed since the last export; beyond
/// `maxQueueSize` waiting spans, new ones are dropped and counted. Recording a span is one
/// append under a lock, never an await: the export runs in this service's own task, which looks
/// at the buffer every 25 ms. At shutdown it exports what is left (within `exportTimeout`).
final class OTLPExporter: Service, Sendable {
    struct Settings: Sendable {
        /// The full URL, e.g. `http://collector:4318/v1/traces`.
        var url: String
        var headers: [(String, String)] = []
        var exportTimeout: Duration = .seconds(10)
        var scheduleDelay: Duration = .seconds(5)
        var maxQueueSize = 2048
        var maxExportBatchSize = 512
        /// PEM file of the CAs to trust for an https collector (`OTEL_EXPORTER_OTLP_CERTIFICATE`).
        var certificateFile: String?
        var resource: [(String, SpanAttribute)] = []
        var scopeVersion = ""
    }

    private struct Queue {
        var spans: [FinishedSpan] = []
        var dropped = 0
        var exportNow = false
    }

    let settings: Settings
    private let queue = Mutex(Queue())
    private let logger: Logger
    private let droppedCounter = Counter(
        label: "orchestrator_trace_spans_dropped_total",
        dimensions: [("reason", "queue_full")]
    )
    private let failedCounter = Counter(
        label: "orchestrator_trace_spans_dropped_total",
        dimensions: [("reason", "export_failed")]
    )
    private let exportedCounter = Counter(label: "orchestrator_trace_spans_exported_total")

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        droppedCounter.increment(by: 0)
        failedCounter.increment(by: 0)
        exportedCounter.increment(by: 0)
    }

    /// Takes an ended, sampled span.
    func record(_ span: FinishedSpan) {
        let full = queue.withLock { queue in
            guard queue.spans.count < settings.maxQueueSize else {
                queue.dropped += 1
                return true
            }
            queue.spans.append(span)
            return false
        }
        if full { droppedCounter.increment() }
    }

    /// Asks for an export at the next look (`Tracer.forceFlush`).
    func exportSoon() { queue.withLock { $0.exportNow = true } }

    func run() async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = settings.certificateFile {
            tls.trustRoots = .file(file)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5))
        // The export's own requests are not traced (each export would make a span to export).
        configuration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let stopping = Atomic(false)
        var lastExport = ContinuousClock.now
        await withGracefulShutdownHandler {
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(25))
                let (waiting, asked) = queue.withLock { ($0.spans.count, $0.exportNow) }
                guard
                    waiting >= settings.maxExportBatchSize || asked
                        || (waiting > 0 && ContinuousClock.now - lastExport >= settings.scheduleDelay)
                else { continue }
                lastExport = ContinuousClock.now
                await exportWaiting(client, all: asked, until: ContinuousClock.now + settings.exportTimeout)
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
        }
        // The spans waiting now (those of the shutdown itself included), within the export
        // timeout; spans ended later wait for the next run (a process that runs its services
        // again, like `bench`) or are lost with the process.
        // Each batch is posted in a task of its own, so a cancelled run still sends them.
        await exportWaiting(client, all: true, until: ContinuousClock.now + settings.exportTimeout)
        try? await client.shutdown()
    }

    /// Exports one batch, or with `all` the spans waiting when called, in batches, until
    /// `deadline`.
    private func exportWaiting(_ client: HTTPClient, all: Bool, until deadline: ContinuousClock.Instant) async {
        var left = all ? queue.withLock { $0.spans.count } : settings.maxExportBatchSize
        while left > 0, ContinuousClock.now < deadline {
            let (batch, dropped) = queue.withLock { queue in
                let count = min(queue.spans.count, settings.maxExportBatchSize, left)
                let batch = Array(queue.spans.prefix(count))
                queue.spans.removeFirst(count)
                if queue.spans.isEmpty { queue.exportNow = false }
                defer { queue.dropped = 0 }
                return (batch, queue.dropped)
            }
            if dropped > 0 {
                logger.warning(
                    "trace spans dropped: the export queue was full",
                    metadata: ["dropped": "\(dropped)", "max_queue_size": "\(settings.maxQueueSize)"]
                )
            }
            guard !batch.isEmpty else { return }
            left -= batch.count
            // Not cancelled with the service's task: a batch taken from the queue is sent.
            await Task { await post(batch, client) }.value
        }
    }

    /// Posts one batch; retries a retryable failure (no answer, 429, 502, 503, 504) twice, then
    /// drops the batch with a warning.
    private func post(_ batch: [FinishedSpan], _ client: HTTPClient) async {
        let body = OTLPProtobuf.exportRequest(
            batch,
            resource: settings.resource,
            scopeName: "orchestrator-dynamic",
            scopeVersion: settings.scopeVersion
        )
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        request.headers.add(name: "User-Agent", value: "orchestrator-dynamic/\(settings.scopeVersion)")
        for (name, value) in settings.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        var problem = ""
        for attempt in 0..<3 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(500 * attempt)) }
            do {
                let response = try await client.execute(request, timeout: .init(settings.exportTimeout))
                _ = try? await response.body.collect(upTo: 1 << 20)
                let status = Int(response.status.code)
                if (200...299).contains(status) {
                    exportedCounter.increment(by: batch.count)
                    return
                }
                problem = "HTTP \(status)"
                guard [429, 502, 503, 504].contains(status) else { break }
            } catch {
                problem = "\(error)"
            }
        }
        failedCounter.increment(by: batch.count)
        logger.warning(
            "trace export failed; the batch is dropped",
            metadata: ["url": "\(settings.url)", "spans": "\(batch.count)", "error": "\(problem)"]
        )
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
