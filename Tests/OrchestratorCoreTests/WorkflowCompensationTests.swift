import Foundation
import Testing

@testable import OrchestratorCore

/// Exhaustion and saga compensation: undo of completed predecessors newest first, skipped
/// dependents, the final status.
@Suite struct WorkflowCompensationTests {
    typealias F = WorkflowFixture

    /// `A` → `B` → `C` → `D`, one task type each.
    static let chain = [
        F.task("A", type: "EXECUTE"), F.task("B", ["A"], type: "BUILD"), F.task("C", ["B"], type: "TEST"),
        F.task("D", ["C"], type: "DEPLOY"),
    ]

    /// Runs A, B, C to completion and D until its retries (1, band low) are exhausted.
    static func exhaustD(extra: [PlanTask] = []) throws -> (WorkflowHarness, WorkflowTransition) {
        var h = try WorkflowHarness.running(chain + extra, band: .low)
        for name in ["A", "B", "C"] { try h.run(name) }
        try h.runFailing("D")
        #expect(try h.phase("D") == .RETRY_WAIT)
        try h.fire(.retry, "D")
        let exhausted = try h.runFailing("D")
        return (h, exhausted)
    }

    @Test func exhaustedTicketFailsAndItsPredecessorsAreCompensatedNewestFirst() throws {
        let (h, exhausted) = try Self.exhaustD()
        let failedAt = h.clock.now

        let d = try h.record("D")
        #expect(d.phase == .FAILED)
        #expect(d.ticket.status == .FAILED)
        #expect(d.ticket.retryCount == 1)
        #expect(h.state.status == .COMPENSATING)
        #expect(!exhausted.finished)
        #expect(exhausted.incidents.map(\.incidentType) == [.WORKER_FAILURE])
        #expect(exhausted.incidents.first?.affectedTickets == [F.ticketId("D")])
        #expect(exhausted.incidents.first?.details == ["ticket D failed after 2 attempt(s): boom"])

        // Compensation tickets for C, B, A appended in that order, each waiting for the next newer one.
        let compensations = Array(h.state.tickets.dropFirst(4))
        #expect(compensations.map(\.ticket.taskId) == ["C:compensate", "B:compensate", "A:compensate"])
        #expect(compensations.map(\.ticketId) == ["C", "B", "A"].map { F.compensationId($0) })
        #expect(compensations.map(\.compensates) == ["C", "B", "A"].map { F.ticketId($0) })
        #expect(compensations.allSatisfy { $0.ticket.taskType == .COMPENSATE && $0.isCompensation })
        #expect(
            compensations.map { $0.ticket.parameters["action"] } == [
                "cleanup_test_env", "delete_artifacts", "rollback_execution",
            ]
        )
        #expect(compensations.allSatisfy { $0.ticket.parameters["failed_ticket_id"] == F.ticketId("D") })
        #expect(compensations.map { $0.ticket.parameters["target"] } == ["C", "B", "A"])
        #expect(compensations.map(\.ticket.dependencies) == [[], [F.compensationId("C")], [F.compensationId("B")]])
        #expect(compensations.map(\.phase) == [.READY, .WAITING, .WAITING])
        #expect(compensations.allSatisfy { $0.ticket.createdAt == failedAt })
        #expect(compensations.allSatisfy { $0.ticket.sla.deadline == failedAt + F.defaultTimeoutMs })

        // Only C's compensation is released at first.
        #expect(exhausted.released == [F.compensationId("C")])
        let published = try exhausted.publishedTickets()
        #expect(published.map(\.ticketId) == [F.compensationId("C")])
        #expect(published.map(\.taskType) == [.COMPENSATE])
        #expect(exhausted.effects.changedTickets.isSuperset(of: [0, 1, 2, 3, 4, 5, 6]))

        for name in ["A", "B", "C"] {
            let original = try h.record(name)
            #expect(original.phase == .COMPLETED)
            #expect(original.ticket.status == .COMPENSATING)
            #expect(original.compensation == .pending)
            #expect(original.ticket.compensationTicketId == F.compensationId(name))
        }
    }

    @Test func compensationRunsBackwardsAndEndsTheWorkflowFailed() throws {
        var (h, _) = try Self.exhaustD()

        let undoC = try h.run("C:compensate")
        #expect(try h.record("C").compensation == .done)
        #expect(try h.record("C").ticket.status == .COMPENSATED)
        #expect(try h.record("B").compensation == .pending)
        #expect(undoC.released == [F.compensationId("B")])
        #expect(try undoC.eventNames().first == "TICKET_COMPLETED C5")
        #expect(undoC.effects.changedTickets.contains(2))

        let undoB = try h.run("B:compensate")
        #expect(undoB.released == [F.compensationId("A")])
        #expect(try h.record("B").ticket.status == .COMPENSATED)
        #expect(h.state.status == .COMPENSATING)

        let undoA = try h.run("A:compensate")
        #expect(undoA.released == [])
        #expect(undoA.finished)
        #expect(h.state.status == .FAILED)
        #expect(h.state.completedAt == h.clock.now)
        for name in ["A", "B", "C"] {
            #expect(try h.record(name).ticket.status == .COMPENSATED)
            #expect(try h.record(name).compensation == .done)
        }
        let metrics = try #require(h.state.metrics)
        #expect(metrics.total == 4)
        #expect(metrics.successful == 0)
        #expect(metrics.compensated == 3)
        #expect(metrics.failed == 1)
        #expect(metrics.skipped == 0)
        #expect(metrics.retries == 1)
        let frame = try #require(try undoA.frame())
        #expect(frame.status == "FAILED")
        #expect(frame.metrics == metrics)
        #expect(frame.ticketIds.count == 7)
        let done = try #require(try undoA.events().first { $0.eventType == .FLOW_C_COMPLETED })
        #expect(done.success == false)
        #expect(done.status == "FAILED")
        #expect(undoA.incidents == [])
        expectSettled(h.state)
    }

    @Test func completedIndependentBranchKeepsTheWorkflowPartial() throws {
        var h = try WorkflowHarness.running(Self.chain + [F.task("E", type: "VALIDATE")], band: .low)
        try h.run("E")
        for name in ["A", "B", "C"] { try h.run(name) }
        let failed = try h.runFailing("D", retryable: false)

        #expect(h.state.tickets.count == 8)
        #expect(try h.record("E").compensation == .none)
        #expect(try h.record("E").ticket.status == .COMPLETED)
        #expect(try h.record("E").ticket.compensationTicketId == nil)
        #expect(failed.released == [F.compensationId("C")])
        for name in ["C", "B", "A"] { try h.run("\(name):compensate") }

        #expect(h.state.status == .PARTIAL)
        let metrics = try #require(h.state.metrics)
        #expect(metrics.total == 5)
        #expect(metrics.successful == 1)
        #expect(metrics.compensated == 3)
        #expect(metrics.failed == 1)
        #expect(metrics.retries == 0)
        expectSettled(h.state)
    }

    @Test func dependentsOfAFailedTicketAreSkipped() throws {
        // A → B → C, B → D, A → E (E independent of B).
        let tasks = [F.task("A"), F.task("B", ["A"]), F.task("C", ["B"]), F.task("D", ["B"]), F.task("E", ["A"])]
        var h = try WorkflowHarness.running(tasks, band: .low)
        try h.run("A")
        try h.lease("E")
        let failed = try h.runFailing("B", retryable: false)

        for name in ["C", "D"] {
            let record = try h.record(name)
            #expect(record.phase == .SKIPPED)
            #expect(record.ticket.status == .FAILED)
            #expect(record.ticket.errorMessage == "skipped: dependency B failed")
            #expect(record.ticket.completedAt == nil)
        }
        #expect(try h.phase("E") == .LEASED)
        #expect(failed.withdrawn == [])
        #expect(failed.released == [F.compensationId("A")])
        #expect(failed.cancelledTimerKeys.contains(F.timerKey(.slaDeadline, F.ticketId("C"))))
        #expect(h.state.status == .COMPENSATING)

        // The running branch may still finish while compensation is under way.
        h.clock.advance(500)
        try h.complete("E")
        try h.run("A:compensate")
        #expect(h.state.status == .PARTIAL)
        let metrics = try #require(h.state.metrics)
        #expect(metrics.total == 5)
        #expect(metrics.successful == 1)
        #expect(metrics.compensated == 1)
        #expect(metrics.failed == 1)
        #expect(metrics.skipped == 2)
        expectSettled(h.state)
    }

    @Test func fanOutOfAFailedRootIsSkipped() throws {
        let tasks = [F.task("A"), F.task("B", ["A"]), F.task("C", ["A"])]
        var h = try WorkflowHarness.running(tasks, band: .low)
        try h.runFailing("A", retryable: false)
        #expect(h.tasks(in: .SKIPPED) == ["B", "C"])
        #expect(h.state.status == .FAILED)
        #expect(h.state.tickets.count == 3)
        #expect(h.state.metrics?.skipped == 2)
    }

    @Test func firstTicketFailingLeavesNothingToCompensate() throws {
        var h = try WorkflowHarness.running(Self.chain, band: .low)
        let failed = try h.runFailing("A", retryable: false)
        #expect(h.state.tickets.count == 4)
        #expect(failed.released == [])
        #expect(failed.finished)
        #expect(h.state.status == .FAILED)
        #expect(h.tasks(in: .SKIPPED) == ["B", "C", "D"])
        expectSettled(h.state)
    }

    @Test func failedCompensationIsAnInconsistency() throws {
        var (h, _) = try Self.exhaustD()
        try h.runFailing("C:compensate")
        try h.fire(.retry, "C:compensate")
        let failed = try h.runFailing("C:compensate")

        #expect(try h.record("C").compensation == .failed)
        let incident = try #require(failed.incidents.first)
        #expect(incident.incidentType == .INCONSISTENCY)
        #expect(incident.severity == "CRITICAL")
        #expect(incident.escalationRequired == true)
        #expect(incident.affectedTickets == [F.ticketId("C"), F.compensationId("C")])
        #expect(h.state.status.isTerminal)
    }

    /// Once the workflow has ended, no original may still claim to be COMPENSATING with its
    /// compensation pending: here the compensations of B and A were skipped when C's failed.
    @Test func workflowEndedByAFailedCompensationLeavesNothingCompensating() throws {
        var (h, _) = try Self.exhaustD()
        try h.runFailing("C:compensate", retryable: false)
        #expect(h.state.status.isTerminal)
        expectSettled(h.state)
    }

    /// Same after a cancellation in the middle of the compensation.
    @Test func workflowCancelledWhileCompensatingLeavesNothingCompensating() throws {
        var (h, _) = try Self.exhaustD()
        try h.run("C:compensate")
        try h.apply(.cancelled(by: "ops", reason: "stop"))
        #expect(h.state.status == .CANCELLED)
        expectSettled(h.state)
    }
}
