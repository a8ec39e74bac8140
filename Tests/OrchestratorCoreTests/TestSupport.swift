import Foundation
import Testing

@testable import OrchestratorCore

/// The hive-mind's example decision (`shared/contracts/e2e-fixture.consolidated_decision_avro.json`).
enum Fixture {
    /// The repository root: up from `Tests/OrchestratorCoreTests/<file>.swift`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `../shared/contracts` beside the repository (CI lays `shared/` there too).
    static let contractsDirectory = repositoryRoot.appendingPathComponent("../shared/contracts").standardized

    static let decisionURL = contractsDirectory.appendingPathComponent("e2e-fixture.consolidated_decision_avro.json")

    /// The decision's and the plan's `created_at`.
    static let createdAt: EpochMillis = 1_761_682_622_000
    /// The embedded plan's `valid_until` (one hour after creation).
    static let planValidUntil: EpochMillis = 1_761_686_222_000
    /// The decision's `valid_until` (two hours after creation).
    static let decisionValidUntil: EpochMillis = 1_761_689_822_000
    /// An instant at which both the plan and the decision are still valid.
    static let now: EpochMillis = createdAt + 60_000

    static let taskIds = ["task-1a2b3c4d", "task-2b3c4d5e", "task-3c4d5e6f", "task-4d5e6f70"]

    static func data() throws -> Data {
        try Data(contentsOf: decisionURL)
    }

    static func decision() throws -> ConsolidatedDecision {
        try JSONDecoder().decode(ConsolidatedDecision.self, from: data())
    }

    static func plan() throws -> CognitivePlan {
        try #require(try decision().cognitivePlan.plan)
    }

    /// The fixture as a mutable JSON object, to re-shape it for one test.
    static func jsonObject() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data()) as? [String: Any])
    }
}

/// Decodes a value from JSON text.
func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(json.utf8))
}

/// Encodes a value and parses it back as a JSON object.
func jsonObject<T: Encodable>(_ value: T) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: WireJSON.encode(value)) as? [String: Any])
}

/// Whether two doubles agree to within rounding.
func isClose(_ a: Double, _ b: Double, tolerance: Double = 1e-9) -> Bool {
    abs(a - b) <= tolerance
}

/// A task for hand-made plans.
func task(
    _ id: String,
    _ dependencies: [String] = [],
    type: String = "EXECUTE",
    estimate: Int64? = nil,
    capabilities: [String] = []
) -> PlanTask {
    PlanTask(
        taskId: id,
        taskType: type,
        description: "task \(id)",
        dependencies: dependencies,
        estimatedDurationMs: estimate,
        requiredCapabilities: capabilities
    )
}

/// A plan that passes C1 when its tasks do: ids, intent, band, priority and security all set.
func plan(
    _ tasks: [PlanTask],
    order: [String]? = nil,
    band: RiskBand = .medium,
    priority: String = "HIGH",
    security: String = "CONFIDENTIAL",
    id: String = "plan-1"
) -> CognitivePlan {
    CognitivePlan(
        planId: id,
        intentId: "intent-1",
        tasks: tasks,
        executionOrder: order,
        riskScore: 0.5,
        riskBand: band,
        createdAt: Fixture.createdAt,
        originalPriority: priority,
        originalSecurityLevel: security
    )
}

/// Validates a plan and generates its tickets with the default policy; fails the test when invalid.
func tickets(
    for plan: CognitivePlan,
    policy: TicketPolicy = TicketPolicy(),
    workflowId: String = "orch-plan-1",
    createdAt: EpochMillis = Fixture.createdAt
) throws -> [ExecutionTicket] {
    let outcome = PlanValidator().validate(plan: plan, now: createdAt)
    #expect(outcome.report.problems == [])
    let order = try #require(outcome.order)
    let context = TicketContext(workflowId: workflowId, decisionId: "decision-1", createdAt: createdAt)
    return TicketGenerator(policy: policy).generate(plan: plan, graph: outcome.graph, order: order, context: context)
}

/// The benchmark's plans, from the production generator (`BenchWorkload`, which `bench` uses):
/// the tests check its figures and use its plans, never a copy of it.
struct BenchPlan {
    typealias Shape = BenchWorkload.Shape

    let shape: Shape
    let seed: UInt64
    let generated: BenchWorkload.Generated

    init(shape: Shape, count: Int, seed: UInt64) {
        self.shape = shape
        self.seed = seed
        generated = BenchWorkload.generate(shape: shape, tasks: count, seed: seed)
    }

    var risks: [RiskBand] { generated.risks }
    /// Parent indices of each task, ascending.
    var dependencies: [[Int]] { generated.dependencies }
    var count: Int { dependencies.count }
    var dependencyCount: Int { generated.dependencyCount }
    /// The number of tasks on the longest dependency chain.
    var longestChain: Int { generated.longestChain }
    var fingerprint: String { generated.fingerprint }

    static func taskId(_ i: Int) -> String { "task-\(i)" }

    /// The cognitive plan; `shuffled` lists the tasks in a random order (dependencies no longer
    /// first), `withOrder` gives `execution_order` as the generation order.
    func cognitivePlan(shuffled: Bool = false, withOrder: Bool = false) -> CognitivePlan {
        var tasks = (0..<count).map { i in
            PlanTask(
                taskId: Self.taskId(i),
                taskType: "EXECUTE",
                dependencies: dependencies[i].map(Self.taskId)
            )
        }
        if shuffled {
            var rng = SplitMix64(seed: seed ^ 0xFFFF)
            for i in stride(from: tasks.count - 1, to: 0, by: -1) {
                tasks.swapAt(i, rng.below(i + 1))
            }
        }
        var result = plan(
            tasks,
            order: withOrder ? (0..<count).map(Self.taskId) : nil,
            id: "\(shape.rawValue)-n\(count)-s\(seed)"
        )
        result.riskBandText = risks.first?.rawValue ?? "low"
        return result
    }
}
