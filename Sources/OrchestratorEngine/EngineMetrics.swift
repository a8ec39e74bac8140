import Metrics
import OrchestratorCore

/// The contract's `orchestration_*` metrics, fed from the engine's transitions.
struct EngineMetrics: Sendable {
    /// Workflows this replica claimed from the shared store (orphans, or on demand).
    func claimed(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "orchestrator_workflows_claimed_total").increment(by: count)
    }

    /// Workflows this replica found owned by another one (dropped from memory).
    func lost(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "orchestrator_workflows_lost_total").increment(by: count)
    }

    func setActive(_ count: Int) {
        Gauge(label: "orchestration_workflows_active").record(count)
    }

    /// A group commit starts: its size shows how well transitions are batched.
    func committing(transitions: Int) {
        Counter(label: "orchestrator_engine_commits_total").increment()
        Recorder(label: "orchestrator_engine_commit_transitions").record(transitions)
    }

    func planReceived() {
        Counter(label: "orchestration_plans_received_total").increment()
    }

    /// Derives every metric from one applied event and its effects.
    func observe(event: WorkflowEvent, state: WorkflowState, index: WorkflowIndex, effects: TransitionEffects) {
        let band = state.riskBand?.rawValue ?? "unknown"
        switch event {
        case .decisionAccepted, .planAttached:
            if let report = effects.audit ?? state.validation {
                Counter(
                    label: "orchestration_plan_validations_total",
                    dimensions: [("result", report.isValid ? "valid" : "invalid")]
                ).increment()
                if !report.cycles.isEmpty {
                    Counter(label: "orchestration_dag_cycles_detected_total").increment(by: report.cycles.count)
                }
            }
            if state.status != .WAITING_FOR_PLAN {
                Counter(
                    label: "orchestration_workflows_started_total",
                    dimensions: [("status", state.status.rawValue), ("risk_band", band)]
                ).increment()
            }
            // One counter look-up per kind of ticket, not per ticket.
            var generated: [TicketKind: Int] = [:]
            for record in state.tickets {
                generated[
                    TicketKind(type: record.ticket.taskType.rawValue, priority: record.ticket.priority.rawValue),
                    default: 0
                ] += 1
            }
            for (kind, count) in generated {
                Counter(
                    label: "orchestration_tickets_generated_total",
                    dimensions: [("task_type", kind.type), ("risk_band", band), ("priority", kind.priority)]
                ).increment(by: count)
            }
        case .leased:
            Counter(label: "orchestration_resource_allocations_total", dimensions: [("status", "leased")]).increment()
        case .completed(let ticketId, _, _), .failed(let ticketId, _, _, _, _):
            if let i = index.position[ticketId] {
                let record = state.tickets[i]
                if record.phase.isTerminal {
                    Counter(
                        label: "orchestration_tickets_completed_total",
                        dimensions: [
                            ("status", record.ticket.status.rawValue), ("task_type", record.ticket.taskType.rawValue),
                        ]
                    ).increment()
                } else if record.phase == .RETRY_WAIT {
                    Counter(
                        label: "orchestration_retries_total",
                        dimensions: [
                            ("task_type", record.ticket.taskType.rawValue),
                            ("retry_attempt", String(record.ticket.retryCount)),
                        ]
                    ).increment()
                }
            }
        case .leaseExpired:
            Counter(label: "orchestration_self_healing_triggered_total").increment()
        default:
            break
        }
        if !effects.released.isEmpty {
            Counter(label: "orchestration_tickets_published_total", dimensions: [("status", "PENDING")])
                .increment(by: effects.released.count)
        }
        for incident in effects.incidents {
            if incident.incidentType == .SLA_VIOLATION {
                let type =
                    incident.affectedTickets.first.flatMap { index.position[$0] }.map {
                        state.tickets[$0].ticket.taskType.rawValue
                    } ?? "unknown"
                Counter(
                    label: "orchestration_sla_violations_total",
                    dimensions: [("risk_band", band), ("task_type", type)]
                ).increment()
            }
        }
        if effects.finished {
            Counter(
                label: "orchestration_workflows_completed_total",
                dimensions: [("status", state.status.rawValue), ("risk_band", band)]
            ).increment()
            Counter(label: "orchestration_results_consolidated_total").increment()
            if let duration = state.metrics?.durationMs {
                Recorder(
                    label: "orchestration_workflow_duration_seconds",
                    dimensions: [("status", state.status.rawValue), ("risk_band", band)],
                    aggregate: true
                ).record(Double(duration) / 1000)
            }
        }
        let compensations = effects.released.filter { id in
            index.position[id].map { state.tickets[$0].isCompensation && state.tickets[$0].ticket.retryCount == 0 }
                ?? false
        }
        if !compensations.isEmpty {
            Counter(label: "orchestration_compensations_triggered_total", dimensions: [("reason", "ticket_failed")])
                .increment(by: compensations.count)
        }
    }
}

/// A ticket's task type and priority, the dimensions of `orchestration_tickets_generated_total`.
private struct TicketKind: Hashable {
    var type: String
    var priority: String
}
