import Metrics
import OrchestratorCore

/// Every metric the server exports, registered at start-up with its known label values, so that
/// each series exists (counters at 0) from the first scrape and `rate()` works at once. The
/// names and labels here are the ones the engine, the HTTP layer and the Kafka clients increment;
/// docs/OBSERVABILITY.md lists them with their meaning.
///
/// Prefixes: `orchestration_` for the hive-mind's contract (../shared/docs/CONTRACTS.md),
/// `orchestrator_` for this implementation's internals, `process_` for the standard process
/// series, `hb_`/`http_server_` for Hummingbird's request metrics.
public enum MetricCatalog {
    /// Histogram buckets in seconds: from a millisecond to the longest SLA (4 hours).
    public static let secondsBuckets: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
        3600, 7200, 14400,
    ]

    /// Buckets of the histograms that do not count seconds.
    public static let valueBuckets: [String: [Double]] = [
        "orchestrator_engine_commit_transitions": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
    ]

    /// Every metric name of the hive-mind's contract (../shared/docs/CONTRACTS.md, "Metrics"):
    /// what `doctor` looks for on `/metrics`.
    public static let contractNames = [
        "orchestration_workflows_started_total", "orchestration_workflows_completed_total",
        "orchestration_workflow_duration_seconds", "orchestration_workflows_active",
        "orchestration_tickets_generated_total", "orchestration_tickets_published_total",
        "orchestration_tickets_completed_total", "orchestration_ticket_generation_duration_seconds",
        "orchestration_sla_violations_total", "orchestration_sla_remaining_seconds",
        "orchestration_deadline_approaching_total", "orchestration_retries_total",
        "orchestration_compensations_triggered_total", "orchestration_kafka_messages_consumed_total",
        "orchestration_kafka_messages_produced_total", "orchestration_kafka_consumer_lag",
        "orchestration_kafka_errors_total", "orchestration_plan_validations_total",
        "orchestration_dag_cycles_detected_total", "orchestration_resource_allocations_total",
        "orchestration_results_consolidated_total", "orchestration_self_healing_triggered_total",
        "orchestration_telemetry_published_total", "orchestration_telemetry_buffered_total",
    ]

    /// The contract names exported only by a server with Kafka (its consumer and sink register
    /// them at start).
    public static let kafkaOnlyNames: Set<String> = [
        "orchestration_kafka_consumer_lag", "orchestration_kafka_errors_total",
    ]

    /// Registers every series with its known label values, and `orchestrator_build_info`.
    public static func registerAll(version: String, replica: String, store: String) {
        Gauge(
            label: "orchestrator_build_info",
            dimensions: [("version", version), ("replica", replica), ("store", store)]
        ).record(1)
        let bands = RiskBand.allCases.map(\.rawValue)
        let types = TaskType.allCases.map(\.rawValue)
        let finished: [WorkflowStatus] = [.COMPLETED, .PARTIAL, .FAILED, .CANCELLED, .REJECTED]
        let started: [WorkflowStatus] = [.RUNNING, .AWAITING_APPROVAL, .REJECTED]
        for band in bands {
            for status in started {
                counter("orchestration_workflows_started_total", ("status", status.rawValue), ("risk_band", band))
            }
            for status in finished {
                counter("orchestration_workflows_completed_total", ("status", status.rawValue), ("risk_band", band))
                Recorder(
                    label: "orchestration_workflow_duration_seconds",
                    dimensions: [("status", status.rawValue), ("risk_band", band)],
                    aggregate: true
                ).touch()
            }
            for type in types {
                counter("orchestration_sla_violations_total", ("risk_band", band), ("task_type", type))
                for priority in Priority.allCases {
                    counter(
                        "orchestration_tickets_generated_total",
                        ("task_type", type),
                        ("risk_band", band),
                        ("priority", priority.rawValue)
                    )
                }
            }
            for outcome in ["met", "violated"] {
                counter("orchestrator_sla_checks_total", ("risk_band", band), ("outcome", outcome))
            }
        }
        for type in types {
            for status in [TicketStatus.COMPLETED, .FAILED, .COMPENSATED] {
                counter("orchestration_tickets_completed_total", ("status", status.rawValue), ("task_type", type))
            }
            counter("orchestration_retries_total", ("task_type", type), ("retry_attempt", "1"))
        }
        counter("orchestration_tickets_published_total", ("status", "PENDING"))
        counter("orchestration_compensations_triggered_total", ("reason", "ticket_failed"))
        counter("orchestration_resource_allocations_total", ("status", "leased"))
        for result in ["valid", "invalid"] { counter("orchestration_plan_validations_total", ("result", result)) }
        for name in [
            "orchestration_plans_received_total", "orchestration_dag_cycles_detected_total",
            "orchestration_results_consolidated_total", "orchestration_self_healing_triggered_total",
            "orchestration_telemetry_published_total", "orchestration_telemetry_buffered_total",
            "orchestration_outbox_relayed_total", "orchestration_deadline_approaching_total",
            "orchestration_kafka_messages_consumed_total", "orchestration_kafka_messages_produced_total",
            "orchestrator_engine_commits_total", "orchestrator_outbox_relay_failures_total",
            "orchestrator_workflows_claimed_total", "orchestrator_workflows_lost_total",
        ] {
            Counter(label: name).touch()
        }
        for operation in ["commit", "heartbeat"] {
            counter("orchestrator_store_errors_total", ("operation", operation))
        }
        for source in ["kafka"] { counter("orchestrator_dead_letters_total", ("source", source)) }
        for type in IncidentType.allCases {
            for severity in ["WARNING", "CRITICAL"] {
                counter("orchestrator_incidents_total", ("type", type.rawValue), ("severity", severity))
            }
        }
        for outcome in ["renewed", "expired", "replaced", "error"] {
            counter("orchestrator_replica_heartbeats_total", ("outcome", outcome))
        }
        Timer(label: "orchestration_ticket_generation_duration_seconds").touch()
        Timer(label: "orchestrator_engine_commit_duration_seconds").touch()
        Recorder(label: "orchestration_sla_remaining_seconds", aggregate: true).touch()
        Recorder(label: "orchestrator_engine_commit_transitions", aggregate: true).touch()
        for gauge in [
            "orchestration_workflows_active", "orchestrator_engine_queue_depth", "orchestrator_tickets_ready",
            "orchestrator_leases_active", "orchestrator_outbox_backlog",
        ] {
            Gauge(label: gauge).record(0)
        }
    }

    private static func counter(_ label: String, _ dimensions: (String, String)...) {
        Counter(label: label, dimensions: dimensions).touch()
    }
}

extension Counter {
    /// Creates the series (at 0) without counting.
    fileprivate func touch() { increment(by: 0) }
}

extension Timer {
    /// Creates the (empty) histogram series.
    fileprivate func touch() {}
}

extension Recorder {
    /// Creates the (empty) histogram series.
    fileprivate func touch() {}
}
