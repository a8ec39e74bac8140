import Foundation
import OrchestratorCore
import OrchestratorEngine
import Testing

@testable import OrchestratorWorker

@Suite("InProcessWorkerPool with a real engine and SQLite store", .serialized, .timeLimit(.minutes(2)))
struct InProcessWorkerPoolTests {
    @Test func theExampleDecisionRunsToCompletion() async throws {
        let harness = try EngineHarness()
        let bytes = try [UInt8](Data(contentsOf: repositoryRoot.appendingPathComponent("examples/decision.json")))
        guard case .decision(let decision) = try SubmissionDecoder.decode(bytes) else {
            Issue.record("examples/decision.json is not a decision")
            await harness.stop()
            return
        }
        let submitted = try await harness.engine.submit(decision: decision)
        let state = try await harness.waitForEnd(of: submitted.workflowId)
        // The worker counts a completion after the engine has answered it, so the workflow can be
        // COMPLETED a moment before the last worker's counters are updated.
        _ = await eventually(timeout: .seconds(10)) {
            harness.pool.counters.completed == 4 && harness.pool.counters.inFlight == 0
        }
        let counters = harness.pool.counters
        await harness.stop()

        let final = try #require(state, "the workflow did not end within 30 s")
        #expect(final.status == .COMPLETED)
        #expect(final.tickets.count == 4)
        for record in final.tickets {
            #expect(record.ticket.status == .COMPLETED)
            #expect(record.phase == .COMPLETED)
            #expect(record.result?.output["simulated"] == "true")
            #expect(record.result?.output["task_type"] == record.ticket.taskType.rawValue)
            #expect(record.workerId?.hasPrefix("test-worker-") == true)
        }
        #expect(counters.completed == 4)
        #expect(counters.failed == 0)
        #expect(counters.rejected == 0)
        #expect(counters.inFlight == 0)
    }

    @Test func aTaskThatFailsOnceSucceedsOnItsRetry() async throws {
        let harness = try EngineHarness()
        let plan = makePlan(
            id: "plan-flaky",
            tasks: [
                PlanTask(taskId: "prepare", taskType: "VALIDATE", parameters: ["work": "noop"]),
                PlanTask(
                    taskId: "flaky",
                    taskType: "EXECUTE",
                    dependencies: ["prepare"],
                    parameters: ["work": "fail", "fail_attempts": "1"]
                ),
            ]
        )
        let submitted = try #require(try await harness.engine.submit(plan: plan, start: true))
        let state = try await harness.waitForEnd(of: submitted.workflowId)
        let counters = harness.pool.counters
        await harness.stop()

        let final = try #require(state, "the workflow did not end within 30 s")
        #expect(final.status == .COMPLETED)
        let flaky = try #require(final.tickets.first { $0.ticket.taskId == "flaky" })
        #expect(flaky.ticket.status == .COMPLETED)
        #expect(flaky.ticket.retryCount == 1)
        #expect(flaky.result?.output["recovered"] == "true")
        #expect(counters.completed == 2)
        #expect(counters.failed == 1)
    }

    @Test func aTaskThatAlwaysFailsIsCompensated() async throws {
        let harness = try EngineHarness()
        let plan = makePlan(
            id: "plan-doomed",
            tasks: [
                PlanTask(taskId: "build", taskType: "BUILD"),
                PlanTask(taskId: "deploy", taskType: "DEPLOY", dependencies: ["build"]),
                PlanTask(
                    taskId: "verify",
                    taskType: "TEST",
                    dependencies: ["deploy"],
                    parameters: ["work": "fail"]
                ),
            ]
        )
        let submitted = try #require(try await harness.engine.submit(plan: plan, start: true))
        let state = try await harness.waitForEnd(of: submitted.workflowId)
        await harness.stop()

        let final = try #require(state, "the workflow did not end within 30 s")
        // Both completed tickets are compensated, so nothing is kept: FAILED, not PARTIAL.
        #expect(final.status == .FAILED)
        let verify = try #require(final.tickets.first { $0.ticket.taskId == "verify" })
        #expect(verify.phase == .FAILED)
        #expect(verify.ticket.retryCount >= 1, "a low-risk ticket gets one retry")
        let compensations = final.tickets.filter { $0.ticket.taskType == .COMPENSATE }
        #expect(Set(compensations.compactMap(\.compensates)) == Set(["build", "deploy"].map(ticketId(in: final))))
        for compensation in compensations {
            #expect(compensation.phase == .COMPLETED)
            #expect(compensation.result?.output["simulated"] == "true")
        }
        for taskId in ["build", "deploy"] {
            let original = try #require(final.tickets.first { $0.ticket.taskId == taskId })
            #expect(original.ticket.compensationTicketId != nil)
            #expect(compensations.contains { $0.ticketId == original.ticket.compensationTicketId })
        }
    }

    @Test func thePoolStopsWhenCancelled() async throws {
        let harness = try EngineHarness(poolSize: 3)
        #expect(harness.pool.workerIds == ["test-worker-1", "test-worker-2", "test-worker-3"])
        // Every worker registered and is long-polling when the pool is cancelled; the suite's time
        // limit fails the test if stopping hangs.
        // (The store is migrated by the engine as it starts: read it once the engine runs.)
        let registered = await eventually(timeout: .seconds(30)) {
            guard harness.engine.isRunning, let workers = try? await harness.engine.store.workers() else {
                return false
            }
            return Set(workers.map(\.workerId)) == Set(harness.pool.workerIds)
        }
        #expect(registered)
        await harness.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func thePoolStopsWhenTheEngineStops() async throws {
        let harness = try EngineHarness(poolSize: 2)
        let registered = try await eventually(timeout: .seconds(10)) {
            let plan = makePlan(id: "plan-probe", tasks: [PlanTask(taskId: "probe", parameters: ["work": "noop"])])
            let outcome = try await harness.engine.submit(plan: plan, start: true)
            return try await harness.engine.workflow(outcome?.workflowId ?? "")?.status == .COMPLETED
        }
        #expect(registered)
        await harness.stopEngineFirst()
        #expect(harness.pool.counters.inFlight == 0)
    }

    private func ticketId(in state: WorkflowState) -> (String) -> String {
        { taskId in state.tickets.first { $0.ticket.taskId == taskId }?.ticketId ?? "" }
    }
}
