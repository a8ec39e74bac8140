import Logging
import OrchestratorCore
import OrchestratorStore

/// The lifecycle lines of workflows and tickets, written once their transition is durable (after
/// the group commit), never for a transition that was then lost.
///
/// Workflow lines (`info`): accepted, waiting for its plan, awaiting approval, started, approved,
/// rejected, cancelled, completed, failed (with the reason), and every incident raised.
/// Ticket lines (`debug`): leased, completed, failed, lease expired, SLA deadline passed, retry due.
/// Every line carries the workflow's ids: `workflow_id`, `plan_id`, `intent_id`, `decision_id`,
/// `correlation_id`, and the workflow's `trace_id`/`span_id`; ticket lines also `ticket_id` and,
/// when known, `worker_id`.
struct LifecycleLog {
    let logger: Logger

    func committed(_ commit: WorkflowCommit, _ effects: TransitionEffects) {
        guard logger.logLevel <= .info else { return }
        let state = commit.state
        var ids: Logger.Metadata = [
            "workflow_id": .string(state.workflowId),
            "plan_id": .string(state.planId),
            "intent_id": .string(state.intentId),
            "decision_id": .string(state.decisionId),
            "correlation_id": .string(state.correlationId ?? ""),
        ]
        if let band = state.riskBand { ids["risk_band"] = .string(band.rawValue) }
        // The workflow's trace: its span's ids when tracing is on (``WorkflowTraces``).
        if let trace = state.traceId { ids["trace_id"] = .string(trace) }
        if let span = state.spanId { ids["span_id"] = .string(span) }
        for incident in effects.incidents {
            var metadata = ids
            metadata["incident_id"] = .string(incident.incidentId)
            metadata["incident_type"] = .string(incident.incidentType.rawValue)
            metadata["severity"] = .string(incident.severity)
            metadata["ticket_ids"] = .array(incident.affectedTickets.map { .string($0) })
            logger.info("incident raised", metadata: metadata)
        }
        switch commit.event.event {
        case .decisionAccepted:
            info("workflow accepted", ids, ["status": .string(state.status.rawValue)])
            statusLine(state, ids, ticketCount: commit.ticketCount)
        case .planAttached:
            info("plan attached", ids, ["tickets": .stringConvertible(commit.ticketCount)])
            statusLine(state, ids, ticketCount: commit.ticketCount)
        case .approved(let by, _):
            info("workflow approved", ids, ["by": .string(by)])
            statusLine(state, ids, ticketCount: commit.ticketCount)
        case .rejected(let by, let reason):
            info("workflow rejected", ids, ["by": .string(by), "reason": .string(reason)])
        case .cancelled(let by, let reason):
            info("workflow cancelled", ids, ["by": .string(by), "reason": .string(reason)])
        default:
            if logger.logLevel <= .debug { ticketLine(commit.event.event, state, ids) }
            if effects.finished { finishedLine(state, ids, cause: commit.event.event) }
        }
    }

    /// Where a new or newly approved workflow stands.
    private func statusLine(_ state: WorkflowState, _ ids: Logger.Metadata, ticketCount: Int) {
        switch state.status {
        case .WAITING_FOR_PLAN: info("workflow waiting for its plan", ids)
        case .AWAITING_APPROVAL: info("workflow awaiting approval", ids)
        case .RUNNING: info("workflow started", ids, ["tickets": .stringConvertible(ticketCount)])
        case .REJECTED: info("workflow rejected", ids, ["reason": .string(state.reason ?? "")])
        default: finishedLine(state, ids)
        }
    }

    private func finishedLine(_ state: WorkflowState, _ ids: Logger.Metadata, cause: WorkflowEvent? = nil) {
        var extra: Logger.Metadata = ["status": .string(state.status.rawValue)]
        if let duration = state.metrics?.durationMs { extra["duration_ms"] = .stringConvertible(duration) }
        switch state.status {
        case .FAILED:
            extra["reason"] = .string(Self.failureReason(state, cause: cause))
            info("workflow failed", ids, extra)
        case .COMPLETED, .PARTIAL:
            info("workflow completed", ids, extra)
        case .CANCELLED:
            info("workflow cancelled", ids, extra)
        case .REJECTED:
            info("workflow rejected", ids, extra)
        default:
            break
        }
    }

    /// The workflow's own reason, else the failure that ended it, else how many tickets failed.
    static func failureReason(_ state: WorkflowState, cause: WorkflowEvent?) -> String {
        if let reason = state.reason, !reason.isEmpty { return reason }
        switch cause {
        case .failed(let ticketId, _, let error, _, _): return "ticket \(ticketId) failed: \(error)"
        case .slaDeadlinePassed(let ticketId): return "ticket \(ticketId) missed its SLA deadline"
        case .leaseExpired(let ticketId, _): return "ticket \(ticketId) lost its lease with no retry left"
        default: return "\(state.metrics?.failed ?? 0) ticket(s) failed"
        }
    }

    private func ticketLine(_ event: WorkflowEvent, _ state: WorkflowState, _ ids: Logger.Metadata) {
        var metadata = ids
        let message: String
        switch event {
        case .leased(let ticketId, let workerId, _):
            (message, metadata["ticket_id"], metadata["worker_id"]) = (
                "ticket leased", .string(ticketId), .string(workerId)
            )
        case .completed(let ticketId, _, let result):
            (message, metadata["ticket_id"]) = ("ticket completed", .string(ticketId))
            metadata["worker_id"] = .string(result.agentId)
        case .failed(let ticketId, _, let error, let retryable, _):
            (message, metadata["ticket_id"]) = ("ticket failed", .string(ticketId))
            metadata["error"] = .string(error)
            metadata["retryable"] = .stringConvertible(retryable)
        case .leaseExpired(let ticketId, _):
            (message, metadata["ticket_id"]) = ("ticket lease expired", .string(ticketId))
        case .slaDeadlinePassed(let ticketId):
            (message, metadata["ticket_id"]) = ("ticket SLA deadline passed", .string(ticketId))
        case .retryDue(let ticketId, let retryCount):
            (message, metadata["ticket_id"]) = ("ticket retry due", .string(ticketId))
            metadata["retry_count"] = .stringConvertible(retryCount)
        default:
            return
        }
        logger.debug("\(message)", metadata: metadata)
    }

    private func info(_ message: String, _ ids: Logger.Metadata, _ extra: Logger.Metadata = [:]) {
        logger.info("\(message)", metadata: extra.isEmpty ? ids : ids.merging(extra) { _, new in new })
    }
}
