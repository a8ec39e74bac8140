import Foundation
import OrchestratorCore
import Synchronization
import Tracing

/// The engine's spans (swift-distributed-tracing, exported by whatever tracer the process
/// bootstrapped; with none, ``isEnabled`` is false and nothing here runs).
///
/// - One `workflow` span per workflow, from acceptance to its end. It continues the caller's
///   trace: the decision's `trace_id`/`span_id` when they are W3C ids, else the context current
///   at submission (the HTTP request's span, or the Kafka message's `traceparent`). Its ids are
///   written into the decision before it is accepted, so the workflow's and its tickets'
///   `trace_id`/`span_id` are the real ids of that span.
/// - `C1 validation` and `C2 ticket generation`, children of the workflow span, timed inside the
///   transition that accepts the plan.
/// - `ticket attempt` per lease, from the grant to the report (or the lease's expiry), child of
///   the workflow span (rebuilt from the stored ids, so it survives restarts); the grant carries
///   its `traceparent` to the worker.
///
/// The workflow span lives in memory: when the process stops before the workflow ends, the span
/// is not exported (the tickets' spans after a restart still join the trace by its stored ids).
final class WorkflowTraces: Sendable {
    let isEnabled: Bool
    private let open = Mutex<
        (workflows: [String: any Span], pending: [String: any Span], attempts: [String: any Span])
    >(
        ([:], [:], [:])
    )

    init(tracer: any Tracer = InstrumentationSystem.tracer) {
        isEnabled = !(tracer is NoOpTracer)
    }

    // MARK: Workflow

    /// Starts the workflow span of a submission (kept under `key` until ``settleWorkflow``) and
    /// returns its W3C ids, to write into the decision or plan. `traceId`/`spanId` are the
    /// submission's own: continued when valid.
    func startWorkflow(key: String, traceId: String?, spanId: String?) -> TraceIds? {
        let continued = TraceIds(traceId: traceId, spanId: spanId)
        let parent = continued.map { $0.context() } ?? .current ?? .topLevel
        let span = startSpan("workflow", context: parent, ofKind: .internal)
        if continued == nil, let traceId {
            // Not a W3C id (the hive-mind's fixtures use `trace-…`): kept here, so that the trace
            // can be found by the caller's id.
            span.attributes["orchestrator.decision_trace_id"] = traceId
            if let spanId { span.attributes["orchestrator.decision_span_id"] = spanId }
        }
        open.withLock { $0.pending[key] = span }
        return TraceIds(of: span.context)
    }

    /// The submission was answered: the span becomes the workflow's (created), or ends (a
    /// duplicate, or refused).
    func settleWorkflow(key: String, workflowId: String?, created: Bool, error: (any Error)? = nil) {
        guard let span = open.withLock({ $0.pending.removeValue(forKey: key) }) else { return }
        if let error {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            span.end()
        } else if let workflowId, created {
            span.attributes["orchestrator.workflow_id"] = workflowId
            open.withLock { $0.workflows[workflowId] = span }
        } else {
            span.attributes["orchestrator.duplicate"] = true
            if let workflowId { span.attributes["orchestrator.workflow_id"] = workflowId }
            span.end()
        }
    }

    /// Sets the ids attributes on the workflow's span and the C1/C2 spans under it.
    func prepared(
        _ state: WorkflowState,
        key: String,
        timings: PreparationTimings,
        endedAt end: DefaultTracerClock.Timestamp
    ) {
        guard let workflow = open.withLock({ $0.pending[key] ?? $0.workflows[state.workflowId] }) else { return }
        Self.annotate(workflow, state)
        var cursor = end.nanosecondsSinceEpoch - min(end.nanosecondsSinceEpoch, timings.totalNanos)
        for (name, nanos) in [
            ("C1 validation", timings.validationNanos), ("C2 ticket generation", timings.generationNanos),
        ] {
            let span = startSpan(
                name,
                at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: cursor),
                context: workflow.context,
                ofKind: .internal
            )
            Self.annotate(span, state)
            if name.hasPrefix("C2") { span.attributes["orchestrator.tickets"] = state.tickets.count }
            cursor += nanos
            span.end(at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: cursor))
        }
    }

    /// Ends the workflow's span with its final status.
    func finishWorkflow(_ state: WorkflowState, reason: String?) {
        guard let span = open.withLock({ $0.workflows.removeValue(forKey: state.workflowId) }) else { return }
        Self.annotate(span, state)
        span.attributes["orchestrator.status"] = state.status.rawValue
        if state.status == .FAILED {
            span.setStatus(SpanStatus(code: .error, message: reason))
        }
        span.end()
    }

    // MARK: Ticket attempts

    /// Starts the span of a lease; returns the `traceparent` to hand to the worker.
    func leased(_ record: TicketRecord, workerId: String, state: WorkflowState) -> String? {
        let parent = parentContext(state)
        let span = startSpan("ticket attempt", context: parent, ofKind: .internal)
        if span.isRecording {
            var extra: SpanAttributes = [:]
            extra["orchestrator.ticket_id"] = record.ticketId
            extra["orchestrator.task_type"] = record.ticket.taskType.rawValue
            extra["orchestrator.worker_id"] = workerId
            extra["orchestrator.attempt"] = record.ticket.retryCount + 1
            Self.annotate(span, state, extra)
        }
        let previous = open.withLock { $0.attempts.updateValue(span, forKey: record.ticketId) }
        previous?.end()
        return TraceIds.traceparent(of: span.context)
    }

    /// The context of the workflow's span: the live span's when this process started it, else
    /// rebuilt from the ids stored with the workflow (after a restart or a takeover).
    func parentContext(_ state: WorkflowState) -> InstrumentationContext {
        if let live = open.withLock({ $0.workflows[state.workflowId]?.context }) { return live }
        return TraceIds(traceId: state.traceId, spanId: state.spanId)?.context() ?? .topLevel
    }

    /// Ends a lease's span: `completed`, `failed`, `lease_expired`, `sla_missed`.
    func attemptEnded(ticketId: String, outcome: String, error: String? = nil) {
        guard let span = open.withLock({ $0.attempts.removeValue(forKey: ticketId) }) else { return }
        span.attributes["orchestrator.outcome"] = outcome
        if let error { span.setStatus(SpanStatus(code: .error, message: error)) }
        span.end()
    }

    static func annotate(_ span: any Span, _ state: WorkflowState, _ extra: SpanAttributes = [:]) {
        // Nothing to build for a span the sampler dropped.
        guard span.isRecording else { return }
        // Built here and set once: each `span.attributes[key] =` copies the whole set.
        var attributes = span.attributes
        attributes["orchestrator.workflow_id"] = state.workflowId
        attributes["orchestrator.plan_id"] = state.planId
        attributes["orchestrator.intent_id"] = state.intentId
        attributes["orchestrator.decision_id"] = state.decisionId
        if let correlation = state.correlationId { attributes["orchestrator.correlation_id"] = correlation }
        if let band = state.riskBand { attributes["orchestrator.risk_band"] = band.rawValue }
        attributes.merge(extra)
        span.attributes = attributes
    }
}

/// A W3C trace id (32 hex digits) and span id (16), as in a `traceparent` header.
struct TraceIds: Sendable, Equatable {
    var traceId: String
    var spanId: String

    /// The ids when both are valid W3C ids (lowercase hex, not all zero).
    init?(traceId: String?, spanId: String?) {
        guard let traceId, let spanId, TraceContext.traceHex(traceId) == traceId, TraceContext.isSpanHex(spanId) else {
            return nil
        }
        self.traceId = traceId
        self.spanId = spanId
    }

    /// The ids of a context's span, read through the tracer's W3C propagation.
    init?(of context: InstrumentationContext) {
        guard let parsed = Self.traceparent(of: context).flatMap(Self.init(traceparent:)) else { return nil }
        self = parsed
    }

    /// The `traceparent` header of a context's span.
    static func traceparent(of context: InstrumentationContext) -> String? {
        var carrier: [String: String] = [:]
        InstrumentationSystem.tracer.inject(context, into: &carrier, using: HeaderMap())
        return carrier["traceparent"]
    }

    /// Parses `00-<trace id>-<span id>-<flags>`.
    init?(traceparent: String) {
        let parts = traceparent.split(separator: "-")
        guard parts.count == 4, parts[0].count == 2 else { return nil }
        self.init(traceId: String(parts[1]), spanId: String(parts[2]))
    }

    var traceparent: String { "00-\(traceId)-\(spanId)-01" }

    /// A context whose parent span is these ids (remote), for spans that continue the trace.
    func context() -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        InstrumentationSystem.tracer.extract(["traceparent": traceparent], into: &context, using: HeaderMap())
        return context
    }
}

/// A `[String: String]` carrier for trace propagation (lowercase header names).
public struct HeaderMap: Injector, Extractor {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key.lowercased()] = value
    }

    public func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key.lowercased()]
    }
}
