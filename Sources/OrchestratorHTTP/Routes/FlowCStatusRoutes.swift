import Hummingbird
import OrchestratorCore
import OrchestratorEngine

/// `GET /api/v1/flow-c/status`: totals over every workflow and latency of the most recent ones.
struct FlowCStatusRoutes<Context: RequestContext> {
    let engine: Engine

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("status") { _, _ in
            let counts = try await engine.store.workflowCounts()
            let durations = try await engine.store.recentDurations(limit: 1000)
            return try JSONResponse.make(FlowCStatus(counts: counts, durations: durations))
        }
        return routes
    }
}

/// Flow C figures: `total_processed` counts finished workflows, `success_rate` is the share of
/// them that COMPLETED, `active_executions` counts workflows not finished yet (waiting for a plan,
/// awaiting approval, running or compensating); latencies are over the last 1000 finished ones.
struct FlowCStatus: Encodable, Equatable {
    var totalProcessed: Int
    var successRate: Double
    var averageLatencyMs: Double
    var p95LatencyMs: Double
    var activeExecutions: Int

    init(counts: [WorkflowStatus: Int], durations: [Int64]) {
        let finished = counts.filter { $0.key.isTerminal }.values.reduce(0, +)
        totalProcessed = finished
        successRate = finished == 0 ? 0 : Double(counts[.COMPLETED] ?? 0) / Double(finished)
        activeExecutions = counts.filter { !$0.key.isTerminal }.values.reduce(0, +)
        averageLatencyMs = durations.isEmpty ? 0 : Double(durations.reduce(0, +)) / Double(durations.count)
        p95LatencyMs = Self.percentile(0.95, of: durations)
    }

    /// Nearest-rank percentile; 0 for no values.
    static func percentile(_ p: Double, of values: [Int64]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1])
    }

    enum CodingKeys: String, CodingKey {
        case totalProcessed = "total_processed"
        case successRate = "success_rate"
        case averageLatencyMs = "average_latency_ms"
        case p95LatencyMs = "p95_latency_ms"
        case activeExecutions = "active_executions"
    }
}
