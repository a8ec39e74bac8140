import CRdKafka
import Logging

/// An `rd_kafka_t *`. librdkafka's handle is thread-safe for the calls we make from several
/// threads (produce, poll); creation and destruction are sequenced by the owning client.
/// Internal: no pointer leaves this module.
struct NativeHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Creates a producer or consumer handle; takes ownership of `conf` (freed on failure too).
    static func make(_ type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> NativeHandle {
        rd_kafka_conf_set_log_cb(conf, routeLibrdkafkaLog)
        var buffer = [CChar](repeating: 0, count: 512)
        let handle = buffer.withUnsafeMutableBufferPointer { errstr in
            rd_kafka_new(type, conf, errstr.baseAddress, errstr.count)
        }
        guard let handle else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(name: "CONF_INVALID", code: -1, message: cString(buffer))
        }
        return NativeHandle(pointer: handle)
    }
}

/// The text of a NUL-terminated C buffer.
func cString(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { pointer in
        String(cString: pointer.baseAddress!)
    }
}

/// librdkafka's log lines go through swift-log (label `librdkafka`) instead of its own printing to
/// standard error, so they take the process's log format (one JSON object per line in `json`
/// mode) and level. Made at the first line, after the process has set up its logging.
private let librdkafkaLogger = Logger(label: "librdkafka")

/// librdkafka's log callback (called on its own threads): syslog levels to swift-log levels, the
/// facility and the client's name as metadata.
private let routeLibrdkafkaLog:
    @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) ->
        Void = { client, level, facility, text in
            let swiftLevel: Logger.Level
            switch level {
            case ...2: swiftLevel = .critical
            case 3: swiftLevel = .error
            case 4: swiftLevel = .warning
            case 5: swiftLevel = .notice
            case 6: swiftLevel = .info
            default: swiftLevel = .debug
            }
            let message = text.map { String(cString: $0) } ?? ""
            var metadata: Logger.Metadata = ["facility": .string(facility.map { String(cString: $0) } ?? "")]
            if let client, let name = rd_kafka_name(client) { metadata["client"] = .string(String(cString: name)) }
            librdkafkaLogger.log(level: swiftLevel, "\(message)", metadata: metadata)
        }
