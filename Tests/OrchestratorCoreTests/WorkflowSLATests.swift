import Foundation
import Testing

@testable import OrchestratorCore

/// SLA deadlines: breach detection, the `continue` and `fail` policies, late completions.
@Suite struct WorkflowSLATests {
    typealias F = WorkflowFixture

    static let deadline = F.start + F.defaultTimeoutMs

    @Test(arguments: [
        (RiskBand.low, "WARNING", false), (.medium, "WARNING", false), (.high, "CRITICAL", false),
        (.critical, "CRITICAL", true),
    ])
    func deadlinePassedRaisesAViolationAndTheTicketKeepsRunning(band: RiskBand, severity: String, escalate: Bool) throws
    {
        var h = try WorkflowHarness.running([F.task("solo")], band: band)
        h.clock.advance(1_000)
        try h.lease("solo", ttl: 3_600_000)
        #expect(h.pendingTimer(.slaDeadline, "solo")?.fireAt == Self.deadline)
        let breach = try h.fire(.slaDeadline, "solo")
        #expect(h.clock.now == Self.deadline)

        let incident = try #require(breach.incidents.first)
        #expect(breach.incidents.count == 1)
        #expect(incident.incidentType == .SLA_VIOLATION)
        #expect(incident.severity == severity)
        #expect(incident.escalationRequired == escalate)
        #expect(incident.recommendedPlaybook == "sla_violation_mitigation")
        #expect(incident.autoRemediationEnabled == true)
        #expect(incident.details == ["ticket solo passed its SLA deadline by 0 ms"])
        #expect(incident.affectedTickets == [F.ticketId("solo")])
        #expect(breach.messages(.incidents).count == 1)
        let event = try #require(try breach.events().first)
        #expect(try breach.eventNames() == ["SLA_VIOLATION C4"])
        #expect(event.slaCompliant == false)
        #expect(event.ticketId == F.ticketId("solo"))
        #expect(event.metadata["late_ms"] == .int(0))

        let record = try h.record("solo")
        #expect(record.slaViolated)
        #expect(record.phase == .LEASED)
        #expect(record.ticket.status == .RUNNING)
        #expect(h.state.status == .RUNNING)
        #expect(!breach.finished)

        // One violation only: the timer does not count twice, nor does the late completion.
        #expect(h.refusal(.slaDeadlinePassed(ticketId: F.ticketId("solo")))?.code == .invalidState)
        h.clock.advance(500)
        let done = try h.complete("solo")
        #expect(done.incidents.map(\.incidentType) == [])
        #expect(h.state.status == .COMPLETED)
        #expect(h.state.metrics?.slaViolations == 1)
        #expect(h.state.metrics?.successful == 1)
        let flow = try #require(try done.events().first { $0.eventType == .FLOW_C_COMPLETED })
        #expect(flow.slaCompliant == false)
        #expect(flow.success == true)
        #expect(try done.events().first?.slaCompliant == false)
    }

    @Test func deadlineNotYetPassedIsRefused() throws {
        var h = try WorkflowHarness.running([F.task("solo")])
        try h.lease("solo", ttl: 3_600_000)
        h.clock.set(Self.deadline - 1)
        #expect(h.refusal(.slaDeadlinePassed(ticketId: F.ticketId("solo")))?.code == .invalidState)
        #expect(try h.record("solo").slaViolated == false)
    }

    @Test func deadlineOfAFinishedTicketIsRefused() throws {
        var h = try WorkflowHarness.running([F.task("solo"), F.task("next", ["solo"])])
        try h.run("solo")
        h.clock.set(Self.deadline + 1)
        #expect(h.refusal(.slaDeadlinePassed(ticketId: F.ticketId("solo")))?.code == .invalidState)
    }

    @Test func failPolicyFailsTheTicket() throws {
        var policies = PolicyConfiguration()
        policies.execution.slaAction = .fail
        var h = try WorkflowHarness.running([F.task("solo")], band: .high, policies: policies)
        try h.lease("solo", ttl: 3_600_000)
        let breach = try h.fire(.slaDeadline, "solo")

        let record = try h.record("solo")
        #expect(record.phase == .FAILED)
        #expect(record.ticket.status == .FAILED)
        #expect(record.ticket.errorMessage == "SLA deadline passed")
        #expect(record.slaViolated)
        #expect(breach.incidents.map(\.incidentType) == [.SLA_VIOLATION, .WORKER_FAILURE])
        #expect(breach.cancelledTimerKeys.contains(F.timerKey(.leaseExpiry, F.ticketId("solo"))))
        #expect(h.pendingTimer(.leaseExpiry, "solo") == nil)
        #expect(breach.finished)
        #expect(h.state.status == .FAILED)
        #expect(h.state.metrics?.slaViolations == 1)
        #expect(h.state.metrics?.failed == 1)
        let late = h.refusal(
            .completed(
                ticketId: F.ticketId("solo"),
                leaseEpoch: 1,
                result: F.success(F.ticketId("solo"), at: h.clock.now)
            )
        )
        #expect(late?.code == .invalidState)
    }

    @Test func failPolicyWithdrawsAReadyTicket() throws {
        var policies = PolicyConfiguration()
        policies.execution.slaAction = .fail
        var h = try WorkflowHarness.running([F.task("solo")], policies: policies)
        let breach = try h.fire(.slaDeadline, "solo")
        #expect(breach.withdrawn == [F.ticketId("solo")])
        #expect(try h.phase("solo") == .FAILED)
    }

    @Test func lateCompletionCountsOneViolation() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .medium)
        try h.lease("solo", ttl: 3_600_000)
        h.clock.set(Self.deadline + 5_000)
        let done = try h.complete("solo")

        #expect(done.incidents.map(\.incidentType) == [.SLA_VIOLATION])
        #expect(done.incidents.first?.details == ["ticket solo passed its SLA deadline by 5000 ms"])
        #expect(try h.record("solo").slaViolated)
        #expect(try h.record("solo").phase == .COMPLETED)
        #expect(h.state.metrics?.slaViolations == 1)
        #expect(try done.eventNames().prefix(2) == ["SLA_VIOLATION C4", "TICKET_COMPLETED C4"])
        #expect(try done.events()[1].slaCompliant == false)
    }

    @Test func completionExactlyAtTheDeadlineIsOnTime() throws {
        var h = try WorkflowHarness.running([F.task("solo")])
        try h.lease("solo", ttl: 3_600_000)
        h.clock.set(Self.deadline)
        let done = try h.complete("solo")
        #expect(done.incidents == [])
        #expect(h.state.metrics?.slaViolations == 0)
    }

    @Test func deadlinesFollowTheChain() throws {
        let h = try WorkflowHarness.running([F.task("a"), F.task("b", ["a"]), F.task("c", ["b"]), F.task("x")])
        #expect(try h.record("a").ticket.sla.deadline == F.start + F.defaultTimeoutMs)
        #expect(try h.record("b").ticket.sla.deadline == F.start + 2 * F.defaultTimeoutMs)
        #expect(try h.record("c").ticket.sla.deadline == F.start + 3 * F.defaultTimeoutMs)
        #expect(try h.record("x").ticket.sla.deadline == F.start + F.defaultTimeoutMs)
    }
}
