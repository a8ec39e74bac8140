import Foundation
import Logging
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore
import PostgresStore
import Testing

/// Two engines (replicas) on one PostgreSQL schema: what one replica's engine does with work that
/// another replica started. Needs `ORCHESTRATOR_TEST_POSTGRES_URL` (scripts/postgres.sh); without
/// it the tests are skipped, unless `ORCHESTRATOR_REQUIRE_POSTGRES=1`.
@Suite struct ReplicaEngineTests {
    @Test func theSameDecisionOnTwoReplicasAtOnceMakesOneWorkflow() async throws {
        try await withReplicaEngines { a, b in
            for round in 0..<8 {
                let plan = makePlan(id: "race-\(round)", tasks: [PlanTask(taskId: "t", taskType: "EXECUTE")])
                async let fromA = a.submit(plan: plan, start: true)
                async let fromB = b.submit(plan: plan, start: true)
                let outcomes = try await [fromA, fromB].compactMap { $0 }
                #expect(outcomes.count == 2)
                #expect(Set(outcomes.map(\.workflowId)).count == 1, "round \(round): \(outcomes)")
                #expect(outcomes.filter(\.created).count == 1, "round \(round): \(outcomes)")
            }
        }
    }

    @Test func aPlanSavedOnOneReplicaReachesTheWorkflowWaitingOnAnother() async throws {
        try await withReplicaEngines { a, b in
            let plan = makePlan(id: "late-plan", tasks: [PlanTask(taskId: "t", taskType: "EXECUTE")])
            let decision = ConsolidatedDecision(
                decisionId: "decision-late-plan",
                planId: plan.planId,
                intentId: plan.intentId,
                plan: nil,
                createdAt: plan.createdAt
            )
            let waiting = try await a.submit(decision: decision)
            #expect(waiting.status == .WAITING_FOR_PLAN)
            _ = try await b.submit(plan: plan, start: false)
            var last: WorkflowState?
            let attached = try await eventually(timeout: .seconds(20)) {
                last = try await a.workflow(waiting.workflowId)
                return last?.status == .RUNNING
            }
            #expect(
                attached,
                "the plan saved on b never reached a's waiting workflow: \(String(describing: last?.status)) \(String(describing: last?.reason))"
            )
        }
    }

    @Test func aReportForAnotherReplicasWorkflowIsRefusedNamingIt() async throws {
        try await withReplicaEngines { a, b in
            let plan = makePlan(id: "owned-by-a", tasks: [PlanTask(taskId: "t", taskType: "EXECUTE")])
            let started = try #require(try await a.submit(plan: plan, start: true))
            _ = try await a.register(WorkerRegistration(workerId: "w-a", capabilities: ["*"]))
            let grant = try #require(try await a.poll(PollRequest(workerId: "w-a", maxTickets: 1, waitMs: 5_000)).first)
            #expect(grant.workflowId == started.workflowId)
            let result = ExecutionResult(
                ticketId: grant.ticket.ticketId,
                status: .COMPLETED,
                result: ExecutionResultPayload(success: true, output: [:]),
                actualDurationMs: 1,
                agentId: "w-a",
                timestamp: EpochMillis(Date().timeIntervalSince1970 * 1000)
            )
            let report = TicketReport(
                ticketId: grant.ticket.ticketId,
                fencingToken: grant.fencingToken,
                workerId: "w-a",
                kind: .completed(result)
            )
            do {
                _ = try await b.report(report)
                Issue.record("b applied a report for a workflow a runs")
            } catch let error as EngineError {
                #expect(error.code == .conflict)
                #expect(error.message.contains("replica a"), "\(error)")
            }
            // b can still read it; its owner applies the report.
            #expect(try await b.workflow(started.workflowId)?.status == .RUNNING)
            #expect(try await a.report(report).phase == .COMPLETED)
            let finished = try await eventually(timeout: .seconds(20)) {
                try await b.workflow(started.workflowId)?.status == .COMPLETED
            }
            #expect(finished)
        }
    }
}

extension ReplicaEngineTests {
    /// A result from the bus consumed by the replica that does not run the workflow is handed to the
    /// one that does, durably, and applied there.
    @Test func anUnfencedResultReceivedByAnotherReplicaIsForwardedToTheOwner() async throws {
        try await withReplicaEngines { a, b in
            let plan = makePlan(id: "forwarded", tasks: [PlanTask(taskId: "t", taskType: "EXECUTE")])
            let started = try #require(try await a.submit(plan: plan, start: true))
            let ticket = try #require(try await a.workflow(started.workflowId)?.tickets.first)
            let result = ExecutionResult(
                ticketId: ticket.ticketId,
                status: .COMPLETED,
                result: ExecutionResultPayload(success: true, output: ["via": "bus"]),
                actualDurationMs: 1,
                agentId: "bus-worker",
                timestamp: EpochMillis(Date().timeIntervalSince1970 * 1000)
            )
            let report = try #require(TicketReport(unfenced: result))
            // b accepts it (answering with the ticket as it stands), a applies it.
            let answered = try await b.report(report)
            #expect(answered.ticketId == ticket.ticketId)
            let finished = try await eventually(timeout: .seconds(20)) {
                try await a.workflow(started.workflowId)?.status == .COMPLETED
            }
            #expect(finished, "the forwarded result never reached the owner")
            let store = try #require(a.store as? any SharedWorkflowStore)
            // Removed once applied (just after the commit that applied it).
            let removed = try await eventually(timeout: .seconds(10)) {
                try await store.forwardedResults(limit: 10).isEmpty
            }
            #expect(removed, "the applied forwarded result was not removed")
        }
    }
}

/// Runs `body` with two running engines, replicas `a` and `b`, on one fresh PostgreSQL schema.
private func withReplicaEngines(_ body: (Engine, Engine) async throws -> Void) async throws {
    let environment = ProcessInfo.processInfo.environment
    guard let url = environment["ORCHESTRATOR_TEST_POSTGRES_URL"], !url.isEmpty else {
        if environment["ORCHESTRATOR_REQUIRE_POSTGRES"] == "1" {
            Issue.record("ORCHESTRATOR_REQUIRE_POSTGRES=1 but ORCHESTRATOR_TEST_POSTGRES_URL is not set")
            return
        }
        try Test.cancel("PostgreSQL skipped: ORCHESTRATOR_TEST_POSTGRES_URL is not set (see scripts/postgres.sh)")
    }
    var base = try PostgresStoreConfiguration(url: url)
    base.schema = "e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
    base.poolSize = 4
    var tasks: [Task<Void, any Error>] = []
    var engines: [Engine] = []
    for id in ["a", "b"] {
        var configuration = base
        configuration.replicaId = id
        let store = try PostgresWorkflowStore(configuration: configuration, logger: testLogger("store-\(id)"))
        tasks.append(Task { await store.run() })
        let engine = Engine(store: store, sinks: [], logger: testLogger("engine-\(id)"))
        tasks.append(Task { try await engine.run() })
        engines.append(engine)
    }
    defer { for task in tasks { task.cancel() } }
    let started = await eventually(timeout: .seconds(30)) { engines.allSatisfy(\.isRunning) }
    try #require(started, "the engines did not start")
    try await body(engines[0], engines[1])
}
