import Instrumentation
import Synchronization
import Tracing
import W3CTraceContext

// Our own OpenTelemetry tracer behind swift-distributed-tracing's API, not swift-otel's SDK.
// Measured (docs/BENCHMARKS.md, issue 12): swift-otel 1.6 hands every span through three
// AsyncStream hops (tracer start, tracer end, batch processor), which cost measurement A about
// 16 % of its throughput at 100 % sampling, and its batch queue dropped spans at our rate (about
// 3 000 spans/s on two cores). Here a span is a locked record until it ends, then one append to
// the exporter's buffer; the exporter (OTLPExporter) wakes on its own schedule. Propagation is
// W3C trace context through swift-w3c-trace-context.

/// The span identity carried in an `InstrumentationContext`.
struct OTLPSpanIdentity: Sendable {
    var trace: TraceContext
    /// Extracted from a carrier (another process's span), not started here.
    var isRemote: Bool
}

enum OTLPSpanIdentityKey: InstrumentationContextKey {
    typealias Value = OTLPSpanIdentity
    static var nameOverride: String? { "otlp-span" }
}

/// Which new spans are recorded and exported, per the OpenTelemetry samplers
/// (`OTEL_TRACES_SAMPLER`).
struct OTLPSampler: Sendable {
    enum Root: Sendable, Equatable {
        case always, never
        /// Keeps a trace when the low 56 bits of its id, read as an integer, fall under the ratio.
        case ratio(Double)
    }

    var root: Root
    /// `parentbased_*`: a span with a parent follows the parent's decision.
    var followsParent: Bool

    func sample(traceID: TraceID, parent: OTLPSpanIdentity?) -> Bool {
        if followsParent, let parent { return parent.trace.flags.contains(.sampled) }
        switch root {
        case .always: return true
        case .never: return false
        case .ratio(let ratio):
            guard ratio < 1 else { return true }
            guard ratio > 0 else { return false }
            // The last 7 bytes of the id are the trace's randomness.
            let value = withUnsafeBytes(of: traceID.bytes) { bytes in
                bytes[9..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
            return Double(value) < ratio * Double(UInt64(1) << 56)
        }
    }
}

/// The tracer bootstrapped by ``TracingSetup``.
final class OTLPTracer: Tracer, Sendable {
    typealias Span = OTLPSpan

    let sampler: OTLPSampler
    let exporter: OTLPExporter
    /// Ids come from a generator seeded once from the system's entropy: a `getrandom` call per
    /// span id showed in the profile. (xoshiro256** is not for secrets; ids are not secrets.)
    private let random: Mutex<Xoshiro256>

    init(sampler: OTLPSampler, exporter: OTLPExporter) {
        self.sampler = sampler
        self.exporter = exporter
        var system = SystemRandomNumberGenerator()
        random = Mutex(Xoshiro256(seed: (system.next(), system.next(), system.next(), system.next())))
    }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> OTLPSpan {
        var context = context()
        let parent = context[OTLPSpanIdentityKey.self]
        let (traceID, spanID) = random.withLock { generator in
            let trace =
                parent?.trace.traceID ?? TraceID(bytes: Self.bytes16(generator.nonZero(), generator.nonZero()))
            return (trace, SpanID(bytes: Self.bytes8(generator.nonZero())))
        }
        let sampled = sampler.sample(traceID: traceID, parent: parent)
        let identity = OTLPSpanIdentity(
            trace: TraceContext(
                traceID: traceID,
                spanID: spanID,
                flags: sampled ? .sampled : [],
                state: parent?.trace.state ?? TraceState()
            ),
            isRemote: false
        )
        context[OTLPSpanIdentityKey.self] = identity
        return OTLPSpan(
            context: context,
            identity: identity,
            parent: parent,
            name: operationName,
            kind: kind,
            start: instant().nanosecondsSinceEpoch,
            exporter: sampled ? exporter : nil
        )
    }

    func forceFlush() { exporter.exportSoon() }

    func extract<Carrier, Extract>(
        _ carrier: Carrier,
        into context: inout InstrumentationContext,
        using extractor: Extract
    ) where Extract: Extractor, Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: "traceparent", from: carrier),
            let trace = try? TraceContext(
                traceParentHeaderValue: parent,
                traceStateHeaderValue: extractor.extract(key: "tracestate", from: carrier)
            )
        else { return }
        context[OTLPSpanIdentityKey.self] = OTLPSpanIdentity(trace: trace, isRemote: true)
    }

    func inject<Carrier, Inject>(
        _ context: InstrumentationContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Inject: Injector, Inject.Carrier == Carrier {
        guard let identity = context[OTLPSpanIdentityKey.self] else { return }
        injector.inject(identity.trace.traceParentHeaderValue, forKey: "traceparent", into: &carrier)
        if let state = identity.trace.traceStateHeaderValue, !state.isEmpty {
            injector.inject(state, forKey: "tracestate", into: &carrier)
        }
    }

    private static func bytes8(_ v: UInt64) -> SpanID.Bytes {
        func byte(_ index: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: v >> (56 - 8 * index)) }
        return (byte(0), byte(1), byte(2), byte(3), byte(4), byte(5), byte(6), byte(7))
    }

    private static func bytes16(_ high: UInt64, _ low: UInt64) -> TraceID.Bytes {
        let (h, l) = (bytes8(high), bytes8(low))
        return (h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7, l.0, l.1, l.2, l.3, l.4, l.5, l.6, l.7)
    }
}

/// A span of ``OTLPTracer``: its mutable parts under a lock until it ends, then handed to the
/// exporter once. A span the sampler dropped records nothing but still carries its context.
final class OTLPSpan: Tracing.Span, Sendable {
    let context: InstrumentationContext
    private let identity: OTLPSpanIdentity
    private let parent: OTLPSpanIdentity?
    private let kind: SpanKind
    private let start: UInt64
    private let exporter: OTLPExporter?
    private let state: Mutex<State>

    struct State {
        var name: String
        var attributes: SpanAttributes = [:]
        var events: [SpanEvent] = []
        var links: [FinishedLink] = []
        var status: SpanStatus?
        var ended = false
    }

    init(
        context: InstrumentationContext,
        identity: OTLPSpanIdentity,
        parent: OTLPSpanIdentity?,
        name: String,
        kind: SpanKind,
        start: UInt64,
        exporter: OTLPExporter?
    ) {
        self.context = context
        self.identity = identity
        self.parent = parent
        self.kind = kind
        self.start = start
        self.exporter = exporter
        state = Mutex(State(name: name))
    }

    var operationName: String {
        get { state.withLock { $0.name } }
        set { update { $0.name = newValue } }
    }

    var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { update { $0.attributes = newValue } }
    }

    var isRecording: Bool { exporter != nil && !state.withLock { $0.ended } }

    func setStatus(_ status: SpanStatus) {
        // An `ok` status is final (the OpenTelemetry rule); otherwise the latest wins.
        update { state in
            if state.status?.code != .ok { state.status = status }
        }
    }

    func addEvent(_ event: SpanEvent) { update { $0.events.append(event) } }

    func recordError<Instant: TracerInstant>(
        _ error: any Error,
        attributes: SpanAttributes,
        at instant: @autoclosure () -> Instant
    ) {
        guard exporter != nil else { return }
        var fields = attributes
        fields["exception.type"] = "\(type(of: error))"
        fields["exception.message"] = "\(error)"
        let event = SpanEvent(name: "exception", at: instant(), attributes: fields)
        update { $0.events.append(event) }
    }

    func addLink(_ link: SpanLink) {
        guard exporter != nil, let other = link.context[OTLPSpanIdentityKey.self] else { return }
        let finished = FinishedLink(
            traceID: other.trace.traceID,
            spanID: other.trace.spanID,
            traceState: other.trace.traceStateHeaderValue ?? "",
            attributes: link.attributes
        )
        update { $0.links.append(finished) }
    }

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard let exporter else { return }
        let ended: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let ended else { return }
        let status = ended.status
        exporter.record(
            FinishedSpan(
                traceID: identity.trace.traceID,
                spanID: identity.trace.spanID,
                parentSpanID: parent?.trace.spanID,
                parentIsRemote: parent?.isRemote ?? false,
                traceState: identity.trace.traceStateHeaderValue ?? "",
                flags: identity.trace.flags.contains(.sampled) ? 1 : 0,
                name: ended.name,
                kind: Self.otlpKind(kind),
                startNanos: start,
                endNanos: instant().nanosecondsSinceEpoch,
                attributes: ended.attributes,
                events: ended.events,
                links: ended.links,
                statusCode: status.map { $0.code == .ok ? 1 : 2 } ?? 0,
                statusMessage: status?.message ?? ""
            )
        )
    }

    /// Changes a recording span; a dropped or ended span ignores changes.
    private func update(_ change: (inout State) -> Void) {
        guard exporter != nil else { return }
        state.withLock { state in
            guard !state.ended else { return }
            change(&state)
        }
    }

    private static func otlpKind(_ kind: SpanKind) -> UInt64 {
        switch kind {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }
}

extension TraceID {
    var bytesArray: [UInt8] { withUnsafeBytes(of: bytes) { Array($0) } }
}

extension SpanID {
    var bytesArray: [UInt8] { withUnsafeBytes(of: bytes) { Array($0) } }
}

/// xoshiro256** (Blackman and Vigna), for span and trace ids.
struct Xoshiro256 {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: (UInt64, UInt64, UInt64, UInt64)) {
        s = seed
        if s == (0, 0, 0, 0) { s.0 = 0x9E37_79B9_7F4A_7C15 }
    }

    mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// W3C ids must not be all zero.
    mutating func nonZero() -> UInt64 {
        while true {
            let value = next()
            if value != 0 { return value }
        }
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { x << k | x >> (64 - k) }
}
