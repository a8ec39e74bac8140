import CRdKafka

/// An `rd_kafka_t *`. librdkafka's handle is thread-safe for the calls we make from several
/// threads (produce, poll); creation and destruction are sequenced by the owning client.
/// Internal: no pointer leaves this module.
struct NativeHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Creates a producer or consumer handle; takes ownership of `conf` (freed on failure too).
    static func make(_ type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> NativeHandle {
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
