import Foundation
import Logging
import OrchestratorEngine
import Synchronization
import Tracing

/// How the process writes its log lines (standard error).
public enum LogFormat: String, Sendable {
    /// One JSON object per line (``JSONLogHandler``).
    case json
    /// swift-log's plain stream format.
    case text

    /// `json`, `text`, or `auto`: text when standard error is a terminal, JSON otherwise (a
    /// container, a file, a pipe to a collector).
    public static func resolve(_ setting: String) throws -> LogFormat {
        switch setting.lowercased() {
        case "auto", "": return isatty(STDERR_FILENO) == 1 ? .text : .json
        case let value:
            guard let format = LogFormat(rawValue: value) else {
                throw ConfigurationError("log format must be json, text or auto, not '\(setting)'")
            }
            return format
        }
    }
}

/// The process-wide logging set-up: every logger of the process, ours and the libraries'
/// (Hummingbird, PostgresNIO, ServiceLifecycle, librdkafka's log callback), writes through the
/// handler chosen here, so in `json` mode every line on standard error is JSON.
public enum LogSetup {
    private static let state = Mutex<(format: LogFormat, level: Logger.Level, bootstrapped: Bool)>(
        (.text, .info, false)
    )

    /// Chooses the format and the default level. The first call installs the handler factory
    /// with swift-log (which allows one bootstrap per process); later calls change the format and
    /// level the factory uses for loggers made after them.
    public static func configure(format: LogFormat, level: Logger.Level) {
        let first = state.withLock { current in
            let first = !current.bootstrapped
            current = (format, level, true)
            return first
        }
        guard first else { return }
        LoggingSystem.bootstrap(
            { label, provider in
                let (format, level, _) = state.withLock { $0 }
                switch format {
                case .json:
                    return JSONLogHandler(label: label, level: level, metadataProvider: provider)
                case .text:
                    var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                }
            },
            metadataProvider: activeSpan
        )
    }

    /// `trace_id` and `span_id` of the span active where a line is logged (an HTTP request's, a
    /// Kafka message's), read through the tracer's W3C propagation; nothing without a tracer.
    static let activeSpan = Logger.MetadataProvider {
        guard !(InstrumentationSystem.tracer is NoOpTracer), let context = ServiceContext.current else { return [:] }
        var carrier: [String: String] = [:]
        InstrumentationSystem.tracer.inject(context, into: &carrier, using: HeaderMap())
        let parts = carrier["traceparent"]?.split(separator: "-") ?? []
        guard parts.count == 4 else { return [:] }
        return ["trace_id": .string(String(parts[1])), "span_id": .string(String(parts[2]))]
    }

    /// The current format (``configure(format:level:)``), `text` before any.
    public static var format: LogFormat { state.withLock { $0.format } }

    /// Writes an error or notice line outside any logger (start-up errors, CLI warnings): a JSON
    /// object in `json` mode, the plain text otherwise.
    public static func writeLine(_ text: String, level: Logger.Level = .error, label: String = "orchestrator-dynamic") {
        let bytes: [UInt8]
        switch format {
        case .json:
            bytes = JSONLogHandler.line(
                at: Date(),
                level: level,
                label: label,
                message: text,
                source: "",
                metadata: [:]
            )
        case .text:
            bytes = Array((text + "\n").utf8)
        }
        FileHandle.standardError.write(Data(bytes))
    }
}
