import CoreMetrics
import Prometheus
import Testing

@testable import OrchestratorServer

@Suite struct MetricCatalogTests {
    /// Every metric name of the hive-mind's contract (../shared/docs/CONTRACTS.md, "Metrics").
    static let contract = [
        "orchestration_workflows_started_total", "orchestration_workflows_completed_total",
        "orchestration_workflow_duration_seconds", "orchestration_workflows_active",
        "orchestration_tickets_generated_total", "orchestration_tickets_published_total",
        "orchestration_tickets_completed_total", "orchestration_ticket_generation_duration_seconds",
        "orchestration_sla_violations_total", "orchestration_sla_remaining_seconds",
        "orchestration_deadline_approaching_total", "orchestration_retries_total",
        "orchestration_compensations_triggered_total", "orchestration_kafka_messages_consumed_total",
        "orchestration_kafka_messages_produced_total", "orchestration_plan_validations_total",
        "orchestration_dag_cycles_detected_total", "orchestration_resource_allocations_total",
        "orchestration_results_consolidated_total", "orchestration_self_healing_triggered_total",
        "orchestration_telemetry_published_total", "orchestration_telemetry_buffered_total",
    ]

    @Test func everySeriesExistsFromStartUpWithItsLabels() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultValueHistogramBuckets = MetricCatalog.secondsBuckets
        factory.valueHistogramBuckets = MetricCatalog.valueBuckets
        withMetricsFactory(factory) {
            MetricCatalog.registerAll(version: "1.2.3", replica: "r-1", store: "sqlite")
        }
        let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        let types = Dictionary(
            text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { line in
                let parts = line.split(separator: " ")
                return (String(parts[2]), String(parts[3]))
            },
            uniquingKeysWith: { first, _ in first }
        )
        for name in Self.contract {
            #expect(types[name] != nil, "\(name) is not exported at start-up")
        }
        #expect(types["orchestration_workflow_duration_seconds"] == "histogram")
        #expect(types["orchestration_sla_remaining_seconds"] == "histogram")
        #expect(types["orchestration_workflows_started_total"] == "counter")
        #expect(text.contains(#"orchestrator_build_info{version="1.2.3",replica="r-1",store="sqlite"} 1"#))
        #expect(
            text.contains(#"orchestration_sla_violations_total{risk_band="critical",task_type="DEPLOY"} 0"#)
        )
        #expect(text.contains(#"orchestrator_sla_checks_total{risk_band="high",outcome="violated"} 0"#))
        // Seconds histograms reach the longest SLA (4 hours).
        #expect(text.contains(#"orchestration_sla_remaining_seconds_bucket{le="14400.0"} 0"#))
        #expect(text.contains(#"orchestration_sla_remaining_seconds_bucket{le="0.001"} 0"#))
    }
}
