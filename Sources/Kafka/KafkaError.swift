import CRdKafka

/// A librdkafka failure: the error code's name (e.g. `_MSG_TIMED_OUT`, `CONF_UNKNOWN`), its
/// numeric value and librdkafka's message.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// librdkafka's name of the code (`rd_kafka_err2name`), or `CONF_UNKNOWN` / `CONF_INVALID`
    /// for configuration errors, or `CLOSED` when the client was already closed.
    public var name: String
    /// The numeric `rd_kafka_resp_err_t` (or the negated `rd_kafka_conf_res_t` for configuration).
    public var code: Int32
    /// The human-readable message.
    public var message: String

    public init(name: String, code: Int32, message: String) {
        self.name = name
        self.code = code
        self.message = message
    }

    /// The error for a response code, with an optional context prefix.
    init(_ error: rd_kafka_resp_err_t, _ context: String? = nil) {
        let detail = String(cString: rd_kafka_err2str(error))
        self.init(
            name: String(cString: rd_kafka_err2name(error)),
            code: error.rawValue,
            message: context.map { "\($0): \(detail)" } ?? detail
        )
    }

    /// A call on a client after ``KafkaProducer/close(flushTimeout:)`` or ``KafkaConsumer/close()``.
    static func closed(_ what: String) -> KafkaError {
        KafkaError(name: "CLOSED", code: -1, message: "the \(what) is closed")
    }

    public var description: String { "\(name): \(message)" }

    /// Whether this is the "timed out" family (`_TIMED_OUT`, `_MSG_TIMED_OUT`, `REQUEST_TIMED_OUT`).
    public var isTimeout: Bool { name.hasSuffix("TIMED_OUT") }
}
