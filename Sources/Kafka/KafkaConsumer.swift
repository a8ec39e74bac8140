import CRdKafka
import Synchronization

/// A consumer in a consumer group with manual commits: `enable.auto.commit=false` and
/// `enable.auto.offset.store=false` are always set, so an offset is committed only by
/// ``commit(_:)`` — after the message's effect is durable. Blocking calls run on a dedicated
/// thread.
public final class KafkaConsumer: Sendable {
    private let handle: NativeHandle
    private let thread = BlockingThread(name: "kafka-consumer")
    private let closed = Mutex(false)

    /// Properties the consumer always sets over the given configuration.
    public static let enforced: [String: String] = [
        "enable.auto.commit": "false", "enable.auto.offset.store": "false",
    ]

    /// Creates the consumer and subscribes it to `topics` as a member of `groupId`.
    public init(configuration: KafkaConfiguration, groupId: String, topics: [String]) throws(KafkaError) {
        var overrides = Self.enforced
        overrides["group.id"] = groupId
        let conf = try configuration.makeNative(overrides: overrides)
        let handle = try NativeHandle.make(RD_KAFKA_CONSUMER, conf: conf)
        _ = rd_kafka_poll_set_consumer(handle.pointer)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            _ = rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let error = rd_kafka_subscribe(handle.pointer, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(handle.pointer)
            throw KafkaError(error, "subscribe to \(topics.joined(separator: ", ")) failed")
        }
        self.handle = handle
    }

    /// The next message, waiting up to `timeout`; `nil` when none arrived. A consumer-level error
    /// (broker down, unknown topic) is thrown; librdkafka keeps reconnecting, so the caller may
    /// poll again.
    public func poll(timeout: Duration) async throws(KafkaError) -> KafkaMessage? {
        let handle = handle
        let ms = milliseconds(timeout)
        return try await thread.run("consumer") { () throws(KafkaError) -> KafkaMessage? in
            guard let message = rd_kafka_consumer_poll(handle.pointer, ms) else { return nil }
            defer { rd_kafka_message_destroy(message) }
            return try KafkaMessage(native: message)
        }
    }

    /// How far behind the consumer is, per assigned partition: the high watermark minus the
    /// consumer's position (the next offset it reads). A partition it has not read from yet (an
    /// idle one, or one just assigned) counts from its committed offset, else from the low
    /// watermark (where `auto.offset.reset=earliest` starts). Watermarks come from librdkafka's
    /// cache; only the committed offsets of unread partitions take a broker round trip (at most
    /// 500 ms). Partitions whose watermarks are not known yet are left out.
    public func lag() async -> [PartitionLag] {
        let handle = handle
        return
            (try? await thread.run("consumer") { () throws(KafkaError) -> [PartitionLag] in
                var assigned: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
                guard rd_kafka_assignment(handle.pointer, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR, let assigned else {
                    return []
                }
                defer { rd_kafka_topic_partition_list_destroy(assigned) }
                guard assigned.pointee.cnt > 0,
                    rd_kafka_position(handle.pointer, assigned) == RD_KAFKA_RESP_ERR_NO_ERROR
                else { return [] }
                // Unread partitions: where the group's committed offset says reading resumes.
                var committed: [String: Int64] = [:]
                let unread = rd_kafka_topic_partition_list_new(0)
                defer { rd_kafka_topic_partition_list_destroy(unread) }
                for i in 0..<Int(assigned.pointee.cnt) where assigned.pointee.elems[i].offset < 0 {
                    let entry = assigned.pointee.elems[i]
                    if let topic = entry.topic { rd_kafka_topic_partition_list_add(unread, topic, entry.partition) }
                }
                if let unread, unread.pointee.cnt > 0,
                    rd_kafka_committed(handle.pointer, unread, 500) == RD_KAFKA_RESP_ERR_NO_ERROR
                {
                    for i in 0..<Int(unread.pointee.cnt) {
                        let entry = unread.pointee.elems[i]
                        if let topic = entry.topic, entry.offset >= 0 {
                            committed["\(String(cString: topic))/\(entry.partition)"] = entry.offset
                        }
                    }
                }
                var lags: [PartitionLag] = []
                for i in 0..<Int(assigned.pointee.cnt) {
                    let entry = assigned.pointee.elems[i]
                    guard let topic = entry.topic else { continue }
                    var low: Int64 = -1
                    var high: Int64 = -1
                    guard
                        rd_kafka_get_watermark_offsets(handle.pointer, topic, entry.partition, &low, &high)
                            == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0
                    else { continue }
                    let name = String(cString: topic)
                    let next =
                        entry.offset >= 0 ? entry.offset : committed["\(name)/\(entry.partition)"] ?? max(0, low)
                    lags.append(PartitionLag(topic: name, partition: entry.partition, lag: max(0, high - next)))
                }
                return lags
            }) ?? []
    }

    /// Commits `message`'s offset + 1 for its partition (synchronously: returns once the group
    /// coordinator stored it).
    public func commit(_ message: KafkaMessage) async throws(KafkaError) {
        try await commit(topic: message.topic, partition: message.partition, nextOffset: message.offset + 1)
    }

    /// Commits `nextOffset` (the offset of the next message to read) for a partition.
    public func commit(topic: String, partition: Int32, nextOffset: Int64) async throws(KafkaError) {
        let handle = handle
        try await thread.run("consumer") { () throws(KafkaError) in
            let list = rd_kafka_topic_partition_list_new(1)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let entry = rd_kafka_topic_partition_list_add(list, topic, partition)
            entry?.pointee.offset = nextOffset
            let error = rd_kafka_commit(handle.pointer, list, 0)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(error, "commit of \(topic)[\(partition)]@\(nextOffset) failed")
            }
            if let entry, entry.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(entry.pointee.err, "commit of \(topic)[\(partition)]@\(nextOffset) failed")
            }
        }
    }

    /// The group's committed offset (next offset to read) of a partition, `nil` when none.
    public func committed(
        topic: String,
        partition: Int32,
        timeout: Duration = .seconds(5)
    ) async throws(KafkaError)
        -> Int64?
    {
        let handle = handle
        let ms = milliseconds(timeout)
        return try await thread.run("consumer") { () throws(KafkaError) -> Int64? in
            let list = rd_kafka_topic_partition_list_new(1)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let entry = rd_kafka_topic_partition_list_add(list, topic, partition)
            let error = rd_kafka_committed(handle.pointer, list, ms)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let entry else {
                throw KafkaError(error, "committed offset of \(topic)[\(partition)]")
            }
            return entry.pointee.offset >= 0 ? entry.pointee.offset : nil
        }
    }

    /// Metadata of one topic, or of all topics when `topic` is `nil`.
    public func metadata(
        topic: String? = nil,
        timeout: Duration = .seconds(5)
    ) async throws(KafkaError) -> KafkaMetadata {
        let handle = handle
        let ms = milliseconds(timeout)
        return try await thread.run("consumer") { () throws(KafkaError) in
            try handle.metadata(topic: topic, timeoutMs: ms)
        }
    }

    /// A consumer released without ``close()`` leaves its group and frees its handle on its thread.
    deinit {
        guard
            closed.withLock({ isClosed in
                defer { isClosed = true }
                return !isClosed
            })
        else { return }
        let handle = handle
        thread.finish {
            _ = rd_kafka_consumer_close(handle.pointer)
            rd_kafka_destroy(handle.pointer)
        }
    }

    /// Leaves the group (committing nothing more) and releases the handle. Idempotent.
    public func close() async {
        let wasClosed = closed.withLock { isClosed in
            defer { isClosed = true }
            return isClosed
        }
        guard !wasClosed else { return }
        let handle = handle
        _ = try? await thread.run("consumer", last: true) {
            _ = rd_kafka_consumer_close(handle.pointer)
            rd_kafka_destroy(handle.pointer)
        }
        thread.join()
    }
}

extension KafkaMessage {
    /// Copies a consumed message; throws the message's error, if it carries one.
    init(native message: UnsafeMutablePointer<rd_kafka_message_t>) throws(KafkaError) {
        let native = message.pointee
        let topic = native.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        guard native.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(native.err, topic.isEmpty ? "consume failed" : "consume from \(topic) failed")
        }
        let value = native.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: native.len)) } ?? []
        let key = native.key.map { Array(UnsafeRawBufferPointer(start: $0, count: native.key_len)) }
        var headers: [KafkaHeader] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let headerValue = bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: headerValue))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        self.init(
            topic: topic,
            partition: native.partition,
            offset: native.offset,
            key: key,
            value: value,
            headers: headers,
            timestampMs: timestamp >= 0 ? timestamp : nil
        )
    }
}

/// Messages of one partition the consumer has not read yet.
public struct PartitionLag: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var lag: Int64

    public init(topic: String, partition: Int32, lag: Int64) {
        self.topic = topic
        self.partition = partition
        self.lag = lag
    }
}
