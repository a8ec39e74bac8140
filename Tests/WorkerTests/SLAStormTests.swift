import Foundation
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore
import SQLiteStore
import Testing

/// Thousands of SLA deadlines passing in the same instant, on a real SQLite file: every incident
/// is raised, and the engine keeps answering unrelated work while it raises them.
@Suite(.serialized) struct SLAStormTests {
    @Test func aStormOfSLADeadlinesEndsWithEveryIncidentWhileTheEngineAnswers() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteWorkflowStore(path: directory.appendingPathComponent("storm.sqlite").path)
        var configuration = EngineConfiguration()
        configuration.policies.tickets.minTimeoutMs = 1000
        configuration.policies.tickets.timeoutMultiplier = 1
        let engine = Engine(store: store, configuration: configuration, logger: testLogger("storm"))
        let run = Task { try await engine.run() }
        defer { run.cancel() }
        #expect(await eventually { engine.isRunning })

        // No worker offers "nobody": every ticket stays READY until its deadline passes.
        let count = 10_000
        let tasks = (0..<count).map {
            PlanTask(taskId: "t\($0)", taskType: "noop", estimatedDurationMs: 1000, requiredCapabilities: ["nobody"])
        }
        let storm = try #require(try await engine.submit(plan: makePlan(id: "storm", tasks: tasks), start: true))
        let stored = try #require(try await engine.workflow(storm.workflowId))
        let lastDeadline = try #require(stored.tickets.map(\.ticket.sla.deadline).max())

        // Unrelated submissions while the deadlines pass are each answered (the bound is a hang
        // detector, not a speed requirement).
        var answered = 0
        var small = 0
        while EpochMillis(Date().timeIntervalSince1970 * 1000) < lastDeadline + 2000 {
            small += 1
            let plan = makePlan(id: "small-\(small)", tasks: [PlanTask(taskId: "a", taskType: "noop")])
            let outcome = try await withAbandonDeadline(30_000) {
                try await engine.submit(plan: plan, start: true)
            }
            if outcome??.created == true { answered += 1 }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(answered == small)

        let allRaised = try await eventually(timeout: .seconds(120)) {
            let raised = try await store.incidents(
                IncidentFilter(workflowId: storm.workflowId, type: .SLA_VIOLATION, limit: count + 1)
            )
            return raised.count == count
        }
        #expect(allRaised)
        let after = try #require(try await engine.workflow(storm.workflowId))
        #expect(after.status == .RUNNING)
        #expect(after.tickets.count == count)
        #expect(after.tickets.allSatisfy { $0.slaViolated && $0.phase == .READY })
        #expect(after.incidentCount == count)
        // Fired deadlines are consumed: no SLA timer is left for the storm's tickets.
        let pending = try await store.timers().filter { $0.workflowId == storm.workflowId && $0.kind == .slaDeadline }
        #expect(pending.isEmpty)
    }
}

/// An SLA timer is armed when its ticket is released, persisted, survives a restart, fires once
/// after it, and is consumed.
@Suite struct SLATimerTests {
    @Test func anSLATimerIsPersistedFiresAfterARestartAndOnlyOnce() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sla.sqlite").path
        var configuration = EngineConfiguration()
        configuration.policies.tickets.minTimeoutMs = 1500
        configuration.policies.tickets.timeoutMultiplier = 1
        let tasks = (0..<3).map {
            PlanTask(taskId: "t\($0)", taskType: "noop", estimatedDurationMs: 1500, requiredCapabilities: ["nobody"])
        }

        // First process: the plan starts, its three deadlines are armed and written.
        let first = try SQLiteWorkflowStore(path: path)
        let engine1 = Engine(store: first, configuration: configuration, logger: testLogger("sla-1"))
        let run1 = Task { try await engine1.run() }
        #expect(await eventually { engine1.isRunning })
        let outcome = try #require(try await engine1.submit(plan: makePlan(id: "sla", tasks: tasks), start: true))
        let armed = try await first.timers().filter { $0.workflowId == outcome.workflowId && $0.kind == .slaDeadline }
        #expect(armed.count == 3)
        let deadline = try #require(armed.map(\.fireAt).max())
        run1.cancel()
        _ = try? await run1.value
        #expect(try await first.incidents(IncidentFilter(workflowId: outcome.workflowId)).isEmpty)

        // Stopped past the deadlines; the next process loads the timers and fires each once.
        while EpochMillis(Date().timeIntervalSince1970 * 1000) <= deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let second = try SQLiteWorkflowStore(path: path)
        let engine2 = Engine(store: second, configuration: configuration, logger: testLogger("sla-2"))
        let run2 = Task { try await engine2.run() }
        let fired = try await eventually {
            try await second.incidents(IncidentFilter(workflowId: outcome.workflowId, type: .SLA_VIOLATION)).count == 3
        }
        #expect(fired)
        let state = try #require(try await engine2.workflow(outcome.workflowId))
        #expect(state.tickets.allSatisfy { $0.slaViolated })
        #expect(try await second.timers().filter { $0.workflowId == outcome.workflowId }.isEmpty)
        run2.cancel()
        _ = try? await run2.value

        // A third start finds nothing left to fire.
        let third = try SQLiteWorkflowStore(path: path)
        let engine3 = Engine(store: third, configuration: configuration, logger: testLogger("sla-3"))
        let run3 = Task { try await engine3.run() }
        #expect(await eventually { engine3.isRunning })
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await third.incidents(IncidentFilter(workflowId: outcome.workflowId)).count == 3)
        run3.cancel()
        _ = try? await run3.value
    }
}
