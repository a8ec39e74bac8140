import Foundation
import Testing

@testable import OrchestratorCore

/// Determinism: the recorded history rebuilds the live state exactly; ids are reproducible.
@Suite struct WorkflowReplayTests {
    typealias F = WorkflowFixture

    /// A → B → C and an independent E (band low: one retry each). A's first lease expires, B fails
    /// once, E breaches its SLA while running, C fails for good: B and A are compensated, E is kept.
    static func eventfulScenario() throws -> WorkflowHarness {
        let tasks = [F.task("A"), F.task("B", ["A"], type: "BUILD"), F.task("C", ["B"], type: "TEST"), F.task("E")]
        let decision = F.decision(F.plan(tasks, band: .low))
        var h = WorkflowHarness(decision: decision)
        h.keepsSnapshots = true
        try h.apply(.decisionAccepted(.init(decision: decision, plan: decision.cognitivePlan.plan)))

        try h.lease("A", worker: "lost")
        try h.fire(.leaseExpiry, "A")
        try h.fire(.retry, "A")
        try h.run("A")
        // The lost worker's late report is refused and leaves no trace in the history.
        _ = h.refusal(.completed(ticketId: h.id("A"), leaseEpoch: 1, result: F.success(h.id("A"), at: h.clock.now)))

        try h.lease("E", ttl: 3_600_000)
        try h.runFailing("B")
        try h.fire(.retry, "B")
        try h.run("B")
        try h.runFailing("C", retryable: false)
        h.clock.set(F.start + 100_000)
        try h.apply(.heartbeat(ticketId: h.id("E"), leaseEpoch: 1, expiresAt: h.clock.now + 150_000))
        try h.fire(.slaDeadline, "E")
        try h.run("B:compensate")
        try h.run("A:compensate")
        h.clock.advance(500)
        try h.complete("E")
        return h
    }

    @Test func scenarioCoversRetriesExpiryCompensationAndSLA() throws {
        let h = try Self.eventfulScenario()
        #expect(h.state.status == .PARTIAL)
        #expect(h.incidents.map(\.incidentType) == [.WORKER_FAILURE, .WORKER_FAILURE, .SLA_VIOLATION])
        #expect(h.state.incidentCount == 3)
        #expect(h.state.metrics?.retries == 2)
        #expect(h.state.metrics?.slaViolations == 1)
        #expect(h.state.metrics?.compensated == 2)
        #expect(h.state.metrics?.successful == 1)
        #expect(h.state.metrics?.failed == 1)
        #expect(h.history.count == h.state.eventCount)
        #expect(h.history.count == 21)
        expectSettled(h.state)
    }

    @Test func replayRebuildsTheLiveState() throws {
        let h = try Self.eventfulScenario()
        let replayed = try WorkflowStateMachine().replay(workflowId: F.workflowId, history: h.history)
        #expect(replayed == h.state)
    }

    @Test func replayOfEveryPrefixRebuildsTheStateAtThatPoint() throws {
        let h = try Self.eventfulScenario()
        #expect(h.snapshots.count == h.history.count)
        let machine = WorkflowStateMachine()
        for length in 1...h.history.count {
            let replayed = try machine.replay(workflowId: F.workflowId, history: Array(h.history.prefix(length)))
            #expect(replayed == h.snapshots[length - 1], "after \(length) event(s)")
        }
    }

    /// The store keeps the history as JSON: replaying what it reads back must give the same state.
    @Test func replayOfTheStoredHistoryRebuildsTheLiveState() throws {
        let h = try Self.eventfulScenario()
        let stored = try JSONEncoder().encode(h.history)
        let history = try JSONDecoder().decode([TimedEvent].self, from: stored)
        let replayed = try #require(try WorkflowStateMachine().replay(workflowId: F.workflowId, history: history))
        #expect(replayed.status == h.state.status)
        #expect(replayed.validation == h.state.validation)
        // Everything else round-trips (compared apart so that a failure above stays readable).
        var rest = replayed
        rest.validation = h.state.validation
        #expect(rest == h.state)
    }

    /// A plan without `execution_order` whose tasks are not listed dependencies first is valid;
    /// its stored history must replay to the same running workflow.
    @Test func storedHistoryOfAPlanWithoutExecutionOrderReplays() throws {
        let decision = F.decision(F.plan([F.task("b", ["a"]), F.task("a")]))
        var (h, _) = try WorkflowHarness.started(decision)
        #expect(h.state.status == .RUNNING)
        try h.run("a")
        let stored = try JSONEncoder().encode(h.history)
        let history = try JSONDecoder().decode([TimedEvent].self, from: stored)
        let intake = try #require(try WorkflowStateMachine().replay(workflowId: F.workflowId, history: [history[0]]))
        #expect(intake.validation?.problems.map(\.code) == [])
        #expect(intake.status == .RUNNING)
        let replayed = try WorkflowStateMachine().replay(workflowId: F.workflowId, history: history)
        #expect(replayed == h.state)
    }

    @Test func sameScenarioTwiceGivesTheSameIdsAndMessages() throws {
        let first = try Self.eventfulScenario()
        let second = try Self.eventfulScenario()
        #expect(first.state == second.state)
        #expect(first.history == second.history)
        #expect(first.incidents == second.incidents)
        #expect(first.outbox == second.outbox)
        #expect(
            first.incidents.map(\.incidentId)
                == (0..<3).map {
                    TicketID.uuid5(name: "\(F.workflowId)/incident/\($0)")
                }
        )
        #expect(Set(first.incidents.map(\.incidentId)).count == 3)
        #expect(first.incidents.allSatisfy { $0.hash == $0.computeHash() })
    }

    @Test func historyThatDoesNotStartWithADecisionReplaysToNothing() throws {
        let machine = WorkflowStateMachine()
        #expect(try machine.replay(workflowId: F.workflowId, history: []) == nil)
        let stray = [TimedEvent(at: F.start, event: .cancelled(by: "ops", reason: "x"))]
        #expect(try machine.replay(workflowId: F.workflowId, history: stray) == nil)
    }

    @Test func replayOfAHistoryWithAnEventOutOfPlaceIsRefused() throws {
        var h = try WorkflowHarness.running([F.task("solo")])
        try h.run("solo")
        var history = h.history
        history.append(history[1])
        #expect(throws: TransitionRefusal.self) {
            try WorkflowStateMachine().replay(workflowId: F.workflowId, history: history)
        }
    }
}
