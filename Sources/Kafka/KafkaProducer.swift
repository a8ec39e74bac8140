import CRdKafka
import Logging
import ServiceLifecycle
import Synchronization

/// An idempotent producer (`enable.idempotence=true`, `acks=all`, always: the configuration
/// cannot turn them off). ``send(_:)`` returns each message's delivery report; a dedicated thread
/// polls the handle so that reports arrive without anyone calling in.
///
/// As a `Service` it runs until graceful shutdown, then flushes (bounded by `flushTimeout`) and
/// closes; messages still undelivered then fail with `_PURGE_QUEUE` / `_PURGE_INFLIGHT`.
public final class KafkaProducer: Service, Sendable {
    let handle: NativeHandle
    let thread: BlockingThread
    /// `true` once closing began; guards every call that uses the handle from outside the thread.
    let closed = Mutex(false)
    private let flushTimeout: Duration
    private let logger: Logger

    /// Properties the producer always sets over the given configuration.
    public static let enforced: [String: String] = ["enable.idempotence": "true", "acks": "all"]

    public init(
        configuration: KafkaConfiguration,
        flushTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "kafka.producer")
    ) throws(KafkaError) {
        let conf = try configuration.makeNative(overrides: Self.enforced)
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let ticket = Unmanaged<DeliveryTicket>.fromOpaque(opaque).takeRetainedValue()
            let native = message.pointee
            if native.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                let topic = native.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                let report = DeliveryReport(topic: topic, partition: native.partition, offset: native.offset)
                ticket.collector.record(ticket.index, .success(report))
            } else {
                ticket.collector.record(ticket.index, .failure(KafkaError(native.err, "delivery failed")))
            }
        }
        let handle = try NativeHandle.make(RD_KAFKA_PRODUCER, conf: conf)
        self.handle = handle
        self.flushTimeout = flushTimeout
        self.logger = logger
        thread = BlockingThread(name: "kafka-producer") { _ = rd_kafka_poll(handle.pointer, 50) }
    }

    /// Produces `messages` in order and waits for every delivery report. Never throws for a
    /// single message's failure: each position holds its own result. Messages of one key keep
    /// their order (one partition, idempotent producer).
    public func send(_ messages: [KafkaOutgoingMessage]) async -> [Result<DeliveryReport, KafkaError>] {
        guard !messages.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let collector = DeliveryCollector(count: messages.count, continuation: continuation)
            closed.withLock { isClosed in
                for (index, message) in messages.enumerated() {
                    if isClosed {
                        collector.record(index, .failure(.closed("producer")))
                    } else if let error = produce(message, DeliveryTicket(collector: collector, index: index)) {
                        collector.record(index, .failure(error))
                    }
                }
            }
        }
    }

    /// Produces one message and waits for its delivery report.
    public func send(_ message: KafkaOutgoingMessage) async throws(KafkaError) -> DeliveryReport {
        try await send([message])[0].get()
    }

    /// Enqueues one message; returns the error when librdkafka refused it (the ticket is released).
    private func produce(_ message: KafkaOutgoingMessage, _ ticket: DeliveryTicket) -> KafkaError? {
        let headers = rd_kafka_headers_new(message.headers.count)
        for header in message.headers {
            if let value = header.value {
                _ = value.withUnsafeBytes { bytes in
                    rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
                }
            } else {
                _ = rd_kafka_header_add(headers, header.name, -1, nil, 0)
            }
        }
        let opaque = Unmanaged.passRetained(ticket).toOpaque()
        let error = message.value.withUnsafeBytes { value in
            withOptionalBytes(message.key) { key in
                crdkafka_produce(
                    handle.pointer,
                    message.topic,
                    key?.baseAddress,
                    key?.count ?? 0,
                    value.baseAddress,
                    value.count,
                    headers,
                    opaque
                )
            }
        }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_headers_destroy(headers)
            Unmanaged<DeliveryTicket>.fromOpaque(opaque).release()
            return KafkaError(error, "produce to \(message.topic) refused")
        }
        return nil
    }

    /// Metadata of one topic, or of all topics when `topic` is `nil`.
    public func metadata(
        topic: String? = nil,
        timeout: Duration = .seconds(5)
    ) async throws(KafkaError) -> KafkaMetadata {
        let handle = handle
        let ms = milliseconds(timeout)
        return try await thread.run("producer") { () throws(KafkaError) in
            try handle.metadata(topic: topic, timeoutMs: ms)
        }
    }

    /// Messages waiting for their delivery report.
    public var outstanding: Int {
        closed.withLock { $0 ? 0 : Int(rd_kafka_outq_len(handle.pointer)) }
    }

    /// Waits until graceful shutdown or cancellation, then closes.
    public func run() async throws {
        try? await gracefulShutdown()
        await close(flushTimeout: flushTimeout)
    }

    deinit { releaseIfOpen() }

    /// Flushes for up to `flushTimeout`, fails what is left, and releases the handle. Idempotent.
    public func close(flushTimeout: Duration) async {
        let wasClosed = closed.withLock { isClosed in
            defer { isClosed = true }
            return isClosed
        }
        guard !wasClosed else { return }
        let handle = handle
        let ms = milliseconds(flushTimeout)
        let logger = logger
        _ = try? await thread.run("producer", last: true) {
            let flushed = rd_kafka_flush(handle.pointer, ms)
            if flushed != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning(
                    "producer closed with undelivered messages",
                    metadata: ["outstanding": "\(rd_kafka_outq_len(handle.pointer))"]
                )
                _ = rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
                // Serve the purged messages' reports so that every waiter is answered.
                var rounds = 0
                while rd_kafka_outq_len(handle.pointer) > 0, rounds < 50 {
                    _ = rd_kafka_poll(handle.pointer, 100)
                    rounds += 1
                }
            }
            rd_kafka_destroy(handle.pointer)
        }
        thread.join()
    }
}

extension KafkaProducer {
    /// A producer released without ``close(flushTimeout:)`` fails what it still holds and frees
    /// its handle on its thread.
    func releaseIfOpen() {
        guard
            closed.withLock({ isClosed in
                defer { isClosed = true }
                return !isClosed
            })
        else { return }
        let handle = handle
        thread.finish {
            _ = rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            _ = rd_kafka_poll(handle.pointer, 0)
            rd_kafka_destroy(handle.pointer)
        }
    }
}

/// Calls `body` with the bytes of `value`, or with `nil`.
func withOptionalBytes<R>(_ value: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let value else { return body(nil) }
    return value.withUnsafeBytes { body($0) }
}

/// A duration in whole milliseconds, clamped to `Int32`.
func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    return Int32(clamping: max(0, ms))
}
