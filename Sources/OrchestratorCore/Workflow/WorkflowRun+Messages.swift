import Crypto
import Foundation

extension Run {
    mutating func emit(_ message: OutboxMessage) {
        effects.outbox.append(message)
    }

    mutating func emit(_ event: FlowCTelemetryEvent) {
        let state = event.workflowId ?? ""
        effects.outbox.append(
            OutboxMessage(
                topic: .telemetryEvents,
                key: state,
                payload: json(event),
                headers: traceparent(traceId: event.traceId, spanSeed: event.ticketId ?? event.step ?? state),
                workflowId: state,
                createdAt: at
            )
        )
    }

    /// A flow-level telemetry event with the workflow's correlation.
    func telemetry(_ type: FlowCEventType, _ state: WorkflowState) -> FlowCTelemetryEvent {
        var event = FlowCTelemetryEvent(eventType: type, timestamp: at)
        event.intentId = state.intentId
        event.planId = state.planId
        event.decisionId = state.decisionId
        event.workflowId = state.workflowId
        event.correlationId = state.correlationId
        event.traceId = state.traceId
        event.spanId = state.spanId
        return event
    }

    func step(_ type: FlowCEventType, _ step: String, _ state: WorkflowState) -> FlowCTelemetryEvent {
        var event = telemetry(type, state)
        event.step = step
        event.status =
            switch type {
            case .STEP_STARTED: "started"
            case .STEP_COMPLETED: "completed"
            default: "failed"
            }
        event.success = type == .STEP_FAILED ? false : (type == .STEP_COMPLETED ? true : nil)
        return event
    }

    func ticketEvent(_ type: FlowCEventType, _ record: TicketRecord, _ state: WorkflowState) -> FlowCTelemetryEvent {
        var event = telemetry(type, state)
        event.step = record.isCompensation ? "C5" : "C4"
        event.ticketId = record.ticketId
        event.taskType = record.ticket.taskType.rawValue
        event.workerId = record.workerId
        event.slaCompliant = !record.slaViolated
        return event
    }

    /// Raises an incident: stored and published on `orchestration.incidents`.
    mutating func raise(
        _ type: IncidentType,
        severity: String,
        details: [String],
        tickets: [String],
        playbook: String?,
        escalate: Bool,
        _ state: inout WorkflowState
    ) {
        let incident = OrchestrationIncident(
            incidentId: TicketID.uuid5(name: "\(state.workflowId)/incident/\(state.incidentCount)"),
            workflowId: state.workflowId,
            incidentType: type,
            severity: severity,
            details: details,
            affectedTickets: tickets,
            correlationId: state.correlationId ?? state.workflowId,
            traceId: state.traceId ?? "",
            recommendedPlaybook: playbook,
            autoRemediationEnabled: playbook != nil,
            escalationRequired: escalate,
            createdAt: at
        )
        state.incidentCount += 1
        effects.incidents.append(incident)
        emit(
            OutboxMessage(
                topic: .incidents,
                key: incident.incidentId,
                payload: json(incident),
                headers: traceHeaders(state, spanSeed: incident.incidentId),
                workflowId: state.workflowId,
                createdAt: at
            )
        )
    }

    func json<T: Encodable>(_ value: T) -> String {
        (try? WireJSON.string(value)) ?? "{}"
    }

    /// The workflow's `traceparent`: its W3C ids when it has them (the caller's, or the workflow
    /// span's when tracing is on), so that consumers continue the workflow's trace; else ids
    /// derived from its trace id and `spanSeed`.
    func traceHeaders(_ state: WorkflowState, spanSeed: String) -> [String: String] {
        let trace = TraceContext.traceHex(state.traceId)
        if trace == state.traceId, let span = state.spanId, TraceContext.isSpanHex(span) {
            return ["traceparent": "00-\(trace)-\(span)-01"]
        }
        return traceparent(traceId: state.traceId, spanSeed: spanSeed)
    }

    /// W3C trace context: the workflow's trace id when it is 32 hex digits, else one derived from it.
    func traceparent(traceId: String?, spanSeed: String) -> [String: String] {
        let trace = TraceContext.traceHex(traceId)
        let span = TraceContext.spanHex(spanSeed)
        return ["traceparent": "00-\(trace)-\(span)-01"]
    }
}

/// W3C trace-context helpers.
public enum TraceContext {
    /// 32 lower-case hex digits: the id itself when it already is, else the SHA-256 prefix of it.
    public static func traceHex(_ traceId: String?) -> String {
        let text = traceId ?? ""
        let lowered = text.lowercased()
        if lowered.count == 32, lowered.allSatisfy(\.isHexDigit), lowered != String(repeating: "0", count: 32) {
            return lowered
        }
        return hex(SHA256.hash(data: Array(("trace:" + text).utf8)).prefix(16))
    }

    /// Whether `text` is a W3C span id: 16 lower-case hex digits, not all zero.
    public static func isSpanHex(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
            && text.utf8.contains { $0 != 0x30 }
    }

    /// 16 hex digits derived from a seed.
    public static func spanHex(_ seed: String) -> String {
        hex(SHA256.hash(data: Array(("span:" + seed).utf8)).prefix(8))
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
}
