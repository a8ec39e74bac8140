import Foundation
import Logging
import OrchestratorCore

/// A swift-log handler writing one JSON object per line to standard error:
/// `{"timestamp":"2026-12-07T18:20:12.123Z","level":"info","logger":"…","message":"…",…metadata}`.
///
/// Ours, not a package's: the mirror has no JSON handler for swift-log, and this one is small.
/// Metadata keys come after the fixed fields, in key order; a metadata key that collides with a
/// fixed field is written with a `meta_` prefix, so every line stays one object with unique keys.
/// Each line is written with one `write(2)`, so lines from several threads never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: Int32

    public init(
        label: String,
        level: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil,
        fileDescriptor: Int32 = STDERR_FILENO
    ) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.output = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        let line = Self.line(
            at: Date(),
            level: event.level,
            label: label,
            message: event.message.description,
            source: event.source,
            metadata: merged
        )
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(output, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    static let fixedKeys: Set<String> = ["timestamp", "level", "logger", "message", "source"]

    /// The bytes of one line, newline included.
    static func line(
        at date: Date,
        level: Logger.Level,
        label: String,
        message: String,
        source: String,
        metadata: Logger.Metadata
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + message.utf8.count + metadata.count * 40)
        out.append(contentsOf: #"{"timestamp":""#.utf8)
        appendTimestamp(date, to: &out)
        out.append(contentsOf: #"","level":""#.utf8)
        out.append(contentsOf: level.rawValue.utf8)
        out.append(contentsOf: #"","logger":"#.utf8)
        JSONEscape.appendQuoted(label, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONEscape.appendQuoted(message, to: &out)
        if !source.isEmpty {
            out.append(contentsOf: #","source":"#.utf8)
            JSONEscape.appendQuoted(source, to: &out)
        }
        for key in metadata.keys.sorted() {
            out.append(UInt8(ascii: ","))
            JSONEscape.appendQuoted(fixedKeys.contains(key) ? "meta_" + key : key, to: &out)
            out.append(UInt8(ascii: ":"))
            append(metadata[key]!, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    private static func append(_ value: Logger.Metadata.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            JSONEscape.appendQuoted(text, to: &out)
        case .stringConvertible(let convertible):
            JSONEscape.appendQuoted(convertible.description, to: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (i, element) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let entries):
            out.append(UInt8(ascii: "{"))
            for (i, key) in entries.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONEscape.appendQuoted(key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(entries[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 3339 in UTC with milliseconds: `2026-12-07T18:20:12.123Z`.
    static func appendTimestamp(_ date: Date, to out: inout [UInt8]) {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        out.append(UInt8(ascii: "."))
        digits(Int(millis % 1000), 3)
        out.append(UInt8(ascii: "Z"))
    }
}
