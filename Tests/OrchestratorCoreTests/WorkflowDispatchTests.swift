import Foundation
import Testing

@testable import OrchestratorCore

/// Dispatch: leases and fencing tokens, heartbeats, completions, release of dependents.
@Suite struct WorkflowDispatchTests {
    typealias F = WorkflowFixture

    /// `a` → `b`, `a` → `c`, `b` + `c` → `d`.
    static let diamond = [F.task("a"), F.task("b", ["a"]), F.task("c", ["a"]), F.task("d", ["b", "c"])]

    @Test func leaseTakesAReadyTicketUnderANewFencingToken() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        h.clock.advance(1_000)
        let at = h.clock.now
        let leased = try h.lease("a", worker: "worker-7")

        let record = try h.record("a")
        #expect(record.phase == .LEASED)
        #expect(record.leaseEpoch == 1)
        #expect(record.workerId == "worker-7")
        #expect(record.attemptStartedAt == at)
        #expect(record.leaseExpiresAt == at + 30_000)
        #expect(record.ticket.status == .RUNNING)
        #expect(record.ticket.startedAt == at)
        #expect(h.state.status == .RUNNING)
        #expect(leased.effects.changedTickets == [0])
        #expect(leased.released == [])
        #expect(
            leased.effects.timers == [
                .schedule(
                    TimerSpec(
                        workflowId: F.workflowId,
                        ticketId: F.ticketId("a"),
                        kind: .leaseExpiry,
                        fireAt: at + 30_000,
                        token: 1
                    )
                )
            ]
        )
        let assigned = try #require(try leased.events().first)
        #expect(try leased.eventNames() == ["TICKET_ASSIGNED C4"])
        #expect(assigned.ticketId == F.ticketId("a"))
        #expect(assigned.workerId == "worker-7")
        #expect(assigned.status == "leased")
        #expect(assigned.metadata["lease_epoch"] == .int(1))
        #expect(assigned.metadata["attempt"] == .int(1))
        #expect(leased.messages(.tickets) == [])
    }

    @Test func leaseNeverOutlivesTheTicketTimeout() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        h.clock.advance(500)
        let at = h.clock.now
        let leased = try h.lease("a", ttl: 10 * 60_000)
        #expect(try h.record("a").leaseExpiresAt == at + F.defaultTimeoutMs)
        #expect(leased.scheduled(.leaseExpiry).map(\.fireAt) == [at + F.defaultTimeoutMs])
    }

    @Test func leaseWithoutTimeoutEnforcementKeepsTheRequestedExpiry() throws {
        var policies = PolicyConfiguration()
        policies.execution.enforceTimeout = false
        var h = try WorkflowHarness.running(Self.diamond, policies: policies)
        try h.lease("a", ttl: 10 * 60_000)
        #expect(try h.record("a").leaseExpiresAt == F.start + 10 * 60_000)
    }

    @Test func onlyReadyTicketsCanBeLeased() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        let waiting = h.refusal(.leased(ticketId: F.ticketId("b"), workerId: "w", expiresAt: F.start + 30_000))
        #expect(waiting?.code == .invalidState)
        try h.lease("a")
        let leased = h.refusal(.leased(ticketId: F.ticketId("a"), workerId: "w2", expiresAt: F.start + 30_000))
        #expect(leased?.code == .invalidState)
        h.clock.advance(100)
        try h.complete("a")
        let completed = h.refusal(.leased(ticketId: F.ticketId("a"), workerId: "w", expiresAt: F.start + 30_000))
        #expect(completed?.code == .invalidState)
        let unknown = h.refusal(.leased(ticketId: "no-such-ticket", workerId: "w", expiresAt: F.start + 30_000))
        #expect(unknown?.code == .unknownTicket)
        #expect(h.history.count == 3)
    }

    @Test func heartbeatWithTheCurrentTokenExtendsTheLease() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        try h.lease("a")
        h.clock.advance(20_000)
        let beat = try h.apply(.heartbeat(ticketId: F.ticketId("a"), leaseEpoch: 1, expiresAt: h.clock.now + 30_000))
        #expect(try h.record("a").leaseExpiresAt == F.start + 50_000)
        #expect(try h.phase("a") == .LEASED)
        #expect(beat.scheduled(.leaseExpiry).map(\.fireAt) == [F.start + 50_000])
        #expect(beat.scheduled(.leaseExpiry).map(\.token) == [1])
        #expect(beat.effects.changedTickets == [0])
        #expect(beat.effects.outbox == [])
        #expect(h.pendingTimer(.leaseExpiry, "a")?.fireAt == F.start + 50_000)

        // Still capped by the attempt's timeout.
        h.clock.advance(100_000)
        try h.apply(.heartbeat(ticketId: F.ticketId("a"), leaseEpoch: 1, expiresAt: h.clock.now + 100_000))
        #expect(try h.record("a").leaseExpiresAt == F.start + F.defaultTimeoutMs)
    }

    @Test(arguments: [Int64(0), 2, 99])
    func heartbeatWithAStaleTokenIsRefused(token: Int64) throws {
        var h = try WorkflowHarness.running(Self.diamond)
        try h.lease("a")
        h.clock.advance(10_000)
        let before = h.state
        let refusal = h.refusal(
            .heartbeat(ticketId: F.ticketId("a"), leaseEpoch: token, expiresAt: h.clock.now + 30_000)
        )
        #expect(refusal?.code == .staleLease)
        #expect(h.state == before)
        #expect(try h.record("a").leaseExpiresAt == F.start + 30_000)
    }

    @Test func heartbeatOfATicketNotLeasedIsRefused() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        #expect(
            h.refusal(.heartbeat(ticketId: F.ticketId("a"), leaseEpoch: 0, expiresAt: F.start + 1))?.code
                == .invalidState
        )
    }

    @Test func completionWithTheCurrentTokenCompletesTheTicket() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        h.clock.advance(1_000)
        try h.lease("a")
        h.clock.advance(4_000)
        let at = h.clock.now
        let done = try h.complete("a")

        let record = try h.record("a")
        #expect(record.phase == .COMPLETED)
        #expect(record.ticket.status == .COMPLETED)
        #expect(record.ticket.startedAt == F.start + 1_000)
        #expect(record.ticket.completedAt == at)
        #expect(try #require(record.ticket.completedAt) > #require(record.ticket.startedAt))
        #expect(record.ticket.actualDurationMs == 4_000)
        #expect(record.leaseExpiresAt == nil)
        #expect(record.result?.output == ["exit_code": "0"])
        #expect(done.released == [F.ticketId("b"), F.ticketId("c")])
        #expect(try done.publishedTickets().map(\.ticketId) == [F.ticketId("b"), F.ticketId("c")])
        #expect(
            done.cancelledTimerKeys == [
                F.timerKey(.leaseExpiry, F.ticketId("a")), F.timerKey(.slaDeadline, F.ticketId("a")),
                F.timerKey(.retry, F.ticketId("a")),
            ]
        )
        let completed = try #require(try done.events().first)
        #expect(completed.eventType == .TICKET_COMPLETED)
        #expect(completed.success == true)
        #expect(completed.durationMs == 4_000)
        #expect(completed.slaCompliant == true)
        #expect(completed.result == ["exit_code": "0"])
        #expect(h.pendingTimer(.leaseExpiry, "a") == nil)
        #expect(h.pendingTimer(.slaDeadline, "a") == nil)
        #expect(h.pendingTimer(.slaDeadline, "b")?.fireAt == F.start + 2 * F.defaultTimeoutMs)
    }

    @Test func reportedDurationWins() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        try h.lease("a")
        h.clock.advance(4_000)
        try h.complete("a", duration: 3_500)
        #expect(try h.record("a").ticket.actualDurationMs == 3_500)
    }

    @Test func completionInTheLeasingMillisecondStillEndsAfterItStarted() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        try h.lease("a")
        try h.complete("a")
        let ticket = try h.record("a").ticket
        #expect(try #require(ticket.completedAt) > #require(ticket.startedAt))
        #expect(ticket.actualDurationMs == 1)
    }

    @Test func joinIsReleasedOnlyWhenEveryDependencyCompleted() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        let afterA = try h.run("a")
        #expect(afterA.released == [F.ticketId("b"), F.ticketId("c")])
        try h.lease("b")
        try h.lease("c")
        h.clock.advance(1_000)
        let afterB = try h.complete("b")
        #expect(afterB.released == [])
        #expect(try h.phase("d") == .WAITING)
        #expect(h.pendingTimer(.slaDeadline, "d") == nil)
        let afterC = try h.complete("c")
        #expect(afterC.released == [F.ticketId("d")])
        #expect(try h.phase("d") == .READY)
        #expect(try h.record("d").releasedAt == h.clock.now)
        let last = try h.run("d")
        #expect(last.finished)
        #expect(h.state.status == .COMPLETED)
        expectSettled(h.state)
    }

    @Test func completionUnderAStaleTokenIsRefused() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        try h.lease("a", worker: "slow")
        try h.fire(.leaseExpiry, "a")
        try h.fire(.retry, "a")
        try h.lease("a", worker: "fast")
        #expect(try h.epoch("a") == 2)
        h.clock.advance(1_000)

        let before = h.state
        let late = h.refusal(
            .completed(ticketId: F.ticketId("a"), leaseEpoch: 1, result: F.success(F.ticketId("a"), at: h.clock.now))
        )
        #expect(late?.code == .staleLease)
        #expect(h.state == before)
        let lateFailure = h.refusal(
            .failed(ticketId: F.ticketId("a"), leaseEpoch: 1, error: "late", retryable: true, result: nil)
        )
        #expect(lateFailure?.code == .staleLease)
        #expect(h.state == before)

        try h.complete("a")
        #expect(try h.record("a").workerId == "fast")
    }

    @Test func secondCompletionIsRefused() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        try h.run("a")
        let before = h.state
        let again = h.refusal(
            .completed(ticketId: F.ticketId("a"), leaseEpoch: 1, result: F.success(F.ticketId("a"), at: h.clock.now))
        )
        #expect(again?.code == .invalidState)
        #expect(h.state == before)
        let unfenced = h.refusal(
            .completed(ticketId: F.ticketId("a"), leaseEpoch: nil, result: F.success(F.ticketId("a"), at: h.clock.now))
        )
        #expect(unfenced?.code == .invalidState)
        let failure = h.refusal(
            .failed(ticketId: F.ticketId("a"), leaseEpoch: nil, error: "x", retryable: false, result: nil)
        )
        #expect(failure?.code == .invalidState)
        #expect(h.state == before)
    }

    @Test func unfencedCompletionOfAReadyTicket() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        h.clock.advance(5_000)
        let done = try h.apply(
            .completed(
                ticketId: F.ticketId("a"),
                leaseEpoch: nil,
                result: F.success(F.ticketId("a"), at: h.clock.now, duration: 700)
            )
        )
        let record = try h.record("a")
        #expect(record.phase == .COMPLETED)
        #expect(record.leaseEpoch == 0)
        #expect(record.workerId == "agent-bus")
        #expect(record.ticket.startedAt == F.start + 4_300)
        #expect(record.ticket.completedAt == F.start + 5_000)
        #expect(record.ticket.actualDurationMs == 700)
        #expect(done.released == [F.ticketId("b"), F.ticketId("c")])
        #expect(
            done.cancelledTimerKeys == [F.timerKey(.slaDeadline, F.ticketId("a")), F.timerKey(.retry, F.ticketId("a"))]
        )
    }

    /// A ticket that leaves READY through a bus report must leave the dispatch index too.
    @Test func unfencedCompletionOfAReadyTicketWithdrawsItFromDispatch() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        let done = try h.apply(
            .completed(ticketId: F.ticketId("a"), leaseEpoch: nil, result: F.success(F.ticketId("a"), at: h.clock.now))
        )
        #expect(done.withdrawn == [F.ticketId("a")])

        var other = try WorkflowHarness.running(Self.diamond)
        let failed = try other.apply(
            .failed(ticketId: F.ticketId("a"), leaseEpoch: nil, error: "boom", retryable: true, result: nil)
        )
        #expect(try other.phase("a") == .RETRY_WAIT)
        #expect(failed.withdrawn == [F.ticketId("a")])
    }

    @Test func unfencedCompletionOfALeasedTicket() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        try h.lease("a", worker: "worker-1")
        h.clock.advance(2_000)
        let done = try h.apply(
            .completed(ticketId: F.ticketId("a"), leaseEpoch: nil, result: F.success(F.ticketId("a"), at: h.clock.now))
        )
        let record = try h.record("a")
        #expect(record.phase == .COMPLETED)
        #expect(record.workerId == "worker-1")
        #expect(record.ticket.actualDurationMs == 2_000)
        #expect(done.cancelledTimerKeys.first == F.timerKey(.leaseExpiry, F.ticketId("a")))
        #expect(h.pendingTimer(.leaseExpiry, "a") == nil)
    }

    @Test func unfencedReportOfAWaitingTicketIsRefused() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        let refusal = h.refusal(
            .completed(ticketId: F.ticketId("d"), leaseEpoch: nil, result: F.success(F.ticketId("d"), at: h.clock.now))
        )
        #expect(refusal?.code == .invalidState)
    }

    @Test func everyAppliedEventCountsAndStampsTheState() throws {
        var h = try WorkflowHarness.running(Self.diamond)
        h.clock.advance(1_234)
        try h.lease("a")
        #expect(h.state.eventCount == 2)
        #expect(h.state.updatedAt == F.start + 1_234)
        _ = h.refusal(.leased(ticketId: F.ticketId("a"), workerId: "w", expiresAt: F.start + 99_999))
        #expect(h.state.eventCount == 2)
    }
}
