import Tracing
import W3CTraceContext

/// The OTLP/HTTP protobuf body of a batch of spans (`ExportTraceServiceRequest` of
/// opentelemetry-proto `collector/trace/v1`), written by hand: the few messages a trace export
/// needs, with their field numbers from `trace/v1/trace.proto`, `common/v1/common.proto` and
/// `resource/v1/resource.proto`. (swift-otel's generated types are not public.)
enum OTLPProtobuf {
    /// `ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }` holding one
    /// resource and one instrumentation scope.
    static func exportRequest(
        _ spans: some Collection<FinishedSpan>,
        resource: [(String, SpanAttribute)],
        scopeName: String,
        scopeVersion: String
    ) -> [UInt8] {
        var w = ProtoWriter()
        w.message(1) { rs in  // ResourceSpans
            rs.message(1) { r in  // Resource
                for (key, value) in resource { r.keyValue(1, key, value) }
            }
            rs.message(2) { ss in  // ScopeSpans
                ss.message(1) { scope in  // InstrumentationScope
                    scope.string(1, scopeName)
                    scope.string(2, scopeVersion)
                }
                for span in spans { ss.message(2) { $0.span(span) } }
            }
        }
        return w.bytes
    }
}

/// A protobuf encoder of the wire format: varints, fixed-width numbers and length-delimited
/// fields, nested messages written in place with their length inserted before them.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(4096) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// A varint field; zero (the default) is left out.
    mutating func uint(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func data(_ field: Int, _ value: some Collection<UInt8>) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A string field; the empty string (the default) is left out.
    mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        data(field, value.utf8)
    }

    /// A nested message: `body` writes its fields, then its length goes in front of them.
    mutating func message(_ field: Int, _ body: (inout ProtoWriter) -> Void) {
        tag(field, 2)
        let start = bytes.count
        body(&self)
        var length = UInt64(bytes.count - start)
        var prefix: [UInt8] = []
        while length >= 0x80 {
            prefix.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        prefix.append(UInt8(length))
        bytes.insert(contentsOf: prefix, at: start)
    }

    /// `KeyValue { string key = 1; AnyValue value = 2 }`.
    mutating func keyValue(_ field: Int, _ key: String, _ value: SpanAttribute) {
        message(field) { kv in
            kv.string(1, key)
            kv.message(2) { $0.anyValue(value) }
        }
    }

    /// `AnyValue`: a oneof, so even a zero or empty value is written (its presence is its type).
    mutating func anyValue(_ value: SpanAttribute) {
        switch value {
        case .string(let text): data(1, text.utf8)
        case .bool(let flag):
            tag(2, 0)
            varint(flag ? 1 : 0)
        case .int64(let number):
            tag(3, 0)
            varint(UInt64(bitPattern: number))
        case .int32(let number):
            tag(3, 0)
            varint(UInt64(bitPattern: Int64(number)))
        case .double(let number): fixed64(4, number.bitPattern)
        case .stringArray(let items): array(items.map { .string($0) })
        case .int64Array(let items): array(items.map { .int64($0) })
        case .int32Array(let items): array(items.map { .int32($0) })
        case .doubleArray(let items): array(items.map { .double($0) })
        case .boolArray(let items): array(items.map { .bool($0) })
        case .stringConvertible(let item): data(1, item.description.utf8)
        case .stringConvertibleArray(let items): array(items.map { .string($0.description) })
        default: data(1, "\(value)".utf8)
        }
    }

    /// `ArrayValue { repeated AnyValue values = 1 }` as AnyValue's field 5.
    private mutating func array(_ items: [SpanAttribute]) {
        message(5) { list in
            for item in items { list.message(1) { $0.anyValue(item) } }
        }
    }

    mutating func attributes(_ field: Int, _ attributes: SpanAttributes) {
        // SpanAttributes is not a Sequence: its own forEach is the way through it.
        // swift-format-ignore: ReplaceForEachWithForLoop
        attributes.forEach { key, value in keyValue(field, key, value) }
    }

    /// `Span` (trace.proto).
    mutating func span(_ span: FinishedSpan) {
        data(1, span.traceID.bytesArray)
        data(2, span.spanID.bytesArray)
        string(3, span.traceState)
        if let parent = span.parentSpanID { data(4, parent.bytesArray) }
        string(5, span.name)
        uint(6, span.kind)
        fixed64(7, span.startNanos)
        fixed64(8, span.endNanos)
        attributes(9, span.attributes)
        for event in span.events {
            message(11) { e in
                e.fixed64(1, event.nanosecondsSinceEpoch)
                e.string(2, event.name)
                e.attributes(3, event.attributes)
            }
        }
        for link in span.links {
            message(13) { l in
                l.data(1, link.traceID.bytesArray)
                l.data(2, link.spanID.bytesArray)
                l.string(3, link.traceState)
                l.attributes(4, link.attributes)
            }
        }
        if span.statusCode != 0 {
            message(15) { s in
                s.string(2, span.statusMessage)
                s.uint(3, span.statusCode)
            }
        }
        // Trace flags, and bit 8 "whether the parent is remote is known" with bit 9 "it is".
        fixed32(16, UInt32(span.flags) | 0x100 | (span.parentIsRemote ? 0x200 : 0))
    }
}

/// An ended span, as exported (ids turned into bytes only when encoded, off the spans' path).
struct FinishedSpan: Sendable {
    var traceID: TraceID
    var spanID: SpanID
    var parentSpanID: SpanID?
    var parentIsRemote: Bool
    var traceState: String
    var flags: UInt8
    var name: String
    /// OTLP `SpanKind`: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    var kind: UInt64
    var startNanos: UInt64
    var endNanos: UInt64
    var attributes: SpanAttributes
    var events: [SpanEvent]
    var links: [FinishedLink]
    /// OTLP `StatusCode`: 0 unset, 1 ok, 2 error.
    var statusCode: UInt64
    var statusMessage: String
}

struct FinishedLink: Sendable {
    var traceID: TraceID
    var spanID: SpanID
    var traceState: String
    var attributes: SpanAttributes
}
