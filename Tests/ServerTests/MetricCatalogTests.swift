import CoreMetrics
import Foundation
import Prometheus
import Testing

@testable import OrchestratorServer

@Suite struct MetricCatalogTests {
    /// The contract names without those only a server with Kafka exports.
    static let contract = MetricCatalog.contractNames.filter { !MetricCatalog.kafkaOnlyNames.contains($0) }

    /// `doctor` looks for exactly the names of ../shared/docs/CONTRACTS.md.
    @Test func theContractListIsTheContractDocuments() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/docs/CONTRACTS.md").standardized
        let text = try String(contentsOf: url, encoding: .utf8)
        let documented = Set(
            text.matches(of: /orchestration_[a-z_]+/).map { String($0.output) }
        )
        #expect(Set(MetricCatalog.contractNames) == documented)
    }

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
