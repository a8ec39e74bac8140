import Metrics
import OrchestratorCore

/// The contract's `orchestration_*` metrics, fed from the engine's transitions, and the engine's
/// own `orchestrator_*` gauges and histograms (docs/OBSERVABILITY.md lists them all).
struct EngineMetrics: Sendable {
    private let queueDepth = Gauge(label: "orchestrator_engine_queue_depth")
    private let readyTickets = Gauge(label: "orchestrator_tickets_ready")
    private let activeLeases = Gauge(label: "orchestrator_leases_active")
    private let active = Gauge(label: "orchestration_workflows_active")
    private let owned = Gauge(label: "orchestrator_workflows_owned")
    private let commitDuration = Timer(label: "orchestrator_engine_commit_duration_seconds")
    private let commitErrors = Counter(label: "orchestrator_store_errors_total", dimensions: [("operation", "commit")])
    private let generation = Timer(label: "orchestration_ticket_generation_duration_seconds")
    private let slaRemaining = Recorder(label: "orchestration_sla_remaining_seconds", aggregate: true)
    private let deadlineApproaching = Counter(label: "orchestration_deadline_approaching_total")

    /// A ticket leased with less than this share of its SLA left counts as deadline approaching.
    static let approachingShare = 0.2

    /// The engine's load, after each settled commit.
    func setLoad(active workflows: Int, ready: Int, leases: Int, queued: Int) {
        active.record(workflows)
        readyTickets.record(ready)
        activeLeases.record(leases)
        queueDepth.record(queued)
    }

    /// Workflows this replica owns (shared store).
    func setOwned(_ count: Int) {
        owned.record(count)
    }

    /// One heartbeat of this replica: `renewed`, `expired`, `replaced` or `error`.
    static func heartbeat(_ outcome: String, at now: EpochMillis) {
        Counter(label: "orchestrator_replica_heartbeats_total", dimensions: [("outcome", outcome)]).increment()
        if outcome == "renewed" || outcome == "expired" {
            Gauge(label: "orchestrator_replica_last_heartbeat_timestamp_seconds").record(Double(now) / 1000)
        }
        if outcome == "error" {
            Counter(label: "orchestrator_store_errors_total", dimensions: [("operation", "heartbeat")]).increment()
        }
    }

    /// A group commit finished (or failed) after `duration`.
    func committed(in duration: Duration, failed: Bool) {
        commitDuration.recordNanoseconds(duration.wholeNanoseconds)
        if failed { commitErrors.increment() }
    }

    /// C1 validation and C2 ticket generation of one plan took `nanoseconds`.
    func generated(nanoseconds: UInt64) {
        generation.recordNanoseconds(Int64(clamping: nanoseconds))
    }

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

    /// A group commit starts: its size shows how well transitions are batched.
    func committing(transitions: Int) {
        Counter(label: "orchestrator_engine_commits_total").increment()
        Recorder(label: "orchestrator_engine_commit_transitions", aggregate: true).record(transitions)
    }

    func planReceived() {
        Counter(label: "orchestration_plans_received_total").increment()
    }

    /// Derives every metric from one applied event and its effects.
    func observe(event timed: TimedEvent, state: WorkflowState, index: WorkflowIndex, effects: TransitionEffects) {
        let band = state.riskBand?.rawValue ?? "unknown"
        let event = timed.event
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
        case .leased(let ticketId, _, _):
            Counter(label: "orchestration_resource_allocations_total", dimensions: [("status", "leased")]).increment()
            if let i = index.position[ticketId] {
                let sla = state.tickets[i].ticket.sla
                let left = sla.deadline - timed.at
                if left > 0 && Double(left) < Double(sla.timeoutMs) * Self.approachingShare {
                    deadlineApproaching.increment()
                }
            }
        case .completed(let ticketId, _, _), .failed(let ticketId, _, _, _, _):
            if let i = index.position[ticketId] {
                let record = state.tickets[i]
                if record.phase.isTerminal {
                    let left = record.ticket.sla.deadline - timed.at
                    slaRemaining.record(Double(max(0, left)) / 1000)
                    Counter(
                        label: "orchestrator_sla_checks_total",
                        dimensions: [("risk_band", band), ("outcome", left >= 0 ? "met" : "violated")]
                    ).increment()
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
            Counter(
                label: "orchestrator_incidents_total",
                dimensions: [("type", incident.incidentType.rawValue), ("severity", incident.severity)]
            ).increment()
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
