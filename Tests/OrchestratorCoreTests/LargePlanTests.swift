import Testing

@testable import OrchestratorCore

/// C1 + C2 on the benchmark's random DAGs. No timing here: speed is measured by `bench`.
@Suite struct LargePlanTests {
    /// Asserts that every ticket's dependencies come earlier, and returns the tickets' positions.
    @discardableResult
    static func expectTopological(_ tickets: [ExecutionTicket]) -> [String: Int] {
        var position: [String: Int] = [:]
        position.reserveCapacity(tickets.count)
        var late = 0
        for (p, ticket) in tickets.enumerated() {
            for dependency in ticket.dependencies where (position[dependency] ?? p) >= p { late += 1 }
            position[ticket.ticketId] = p
        }
        #expect(late == 0)
        return position
    }

    @Test(arguments: [(false, true), (true, false)])
    func hundredThousandTaskRandomDAG(shuffled: Bool, withOrder: Bool) throws {
        let bench = BenchPlan(shape: .random, count: 100_000, seed: 42)
        let plan = bench.cognitivePlan(shuffled: shuffled, withOrder: withOrder)
        let outcome = PlanValidator().validate(plan: plan, now: Fixture.createdAt)
        #expect(outcome.report.problems == [])
        #expect(outcome.report.isValid)
        #expect(outcome.report.cycles == [])
        let order = try #require(outcome.order)
        #expect(order.count == 100_000)

        let context = TicketContext(workflowId: "orch-\(plan.planId)", decisionId: "d", createdAt: Fixture.createdAt)
        let tickets = TicketGenerator().generate(plan: plan, graph: outcome.graph, order: order, context: context)
        #expect(tickets.count == 100_000)
        let position = Self.expectTopological(tickets)
        #expect(position.count == 100_000)
        #expect(tickets.reduce(0) { $0 + $1.dependencies.count } == bench.dependencyCount)
        #expect(Set(tickets.map(\.taskId)).count == 100_000)
        if withOrder {
            #expect(tickets.map(\.taskId) == (0..<100_000).map(BenchPlan.taskId))
        }
    }

    @Test func thousandTaskDeadlinesFollowTheLongestChain() throws {
        let bench = BenchPlan(shape: .random, count: 1000, seed: 42)
        let plan = bench.cognitivePlan(shuffled: true)
        let tickets = try tickets(for: plan, createdAt: 0)
        Self.expectTopological(tickets)
        var depth = [Int](repeating: 0, count: bench.count)
        for i in 0..<bench.count { depth[i] = 1 + (bench.dependencies[i].map { depth[$0] }.max() ?? 0) }
        let byTask = Dictionary(uniqueKeysWithValues: tickets.map { ($0.taskId, $0.sla.deadline) })
        let mismatches = (0..<bench.count).filter { byTask[BenchPlan.taskId($0)] != Int64(depth[$0]) * 180_000 }
        #expect(mismatches == [])
        let latest = try #require(tickets.map(\.sla.deadline).max())
        #expect(latest == 3_600_000)
    }

    @Test(arguments: BenchPlan.Shape.allCases)
    func everyShapeValidates(shape: BenchPlan.Shape) throws {
        let bench = BenchPlan(shape: shape, count: 1000, seed: 42)
        let tickets = try tickets(for: bench.cognitivePlan(shuffled: true))
        #expect(tickets.count == 1000)
        Self.expectTopological(tickets)
    }

    @Test func bigCycleIsFoundInALargePlan() throws {
        let bench = BenchPlan(shape: .chain, count: 50_000, seed: 7)
        var plan = bench.cognitivePlan()
        plan.tasks[0].dependencies = [BenchPlan.taskId(49_999)]
        let report = PlanValidator().validate(plan: plan, now: 0).report
        let cycle = try #require(report.cycles.first)
        #expect(report.cycles.count == 1)
        #expect(cycle.count == 50_001)
        #expect(cycle.first == "task-0")
        #expect(cycle.last == "task-0")
        #expect(cycle[49_999] == "task-49999")
        #expect(report.problems.map(\.code) == [.dependencyCycle])
    }
}
