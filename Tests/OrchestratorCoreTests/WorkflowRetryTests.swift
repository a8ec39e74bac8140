import Foundation
import Testing

@testable import OrchestratorCore

/// Retries with backoff, non-retryable failures, lease expiry and attempt timeouts.
@Suite struct WorkflowRetryTests {
    typealias F = WorkflowFixture

    @Test(arguments: [
        (0, Int64(1_000)), (1, 1_000), (2, 2_000), (3, 4_000), (4, 8_000), (5, 16_000), (6, 32_000), (7, 60_000),
        (8, 60_000), (64, 60_000), (10_000, 60_000),
    ])
    func defaultBackoffDoublesUpToTheCap(retry: Int, expected: Int64) {
        #expect(ExecutionPolicy().backoff(retry: retry) == expected)
    }

    @Test func customBackoff() {
        var policy = ExecutionPolicy()
        policy.initialBackoffMs = 500
        policy.backoffMultiplier = 3
        policy.maxBackoffMs = 10_000
        #expect((1...5).map { policy.backoff(retry: $0) } == [500, 1_500, 4_500, 10_000, 10_000])
    }

    /// A critical ticket gets 5 retries: each failure waits 1 s, 2 s, 4 s, 8 s, 16 s, then the 6th fails it.
    @Test func retryableFailuresBackOffThenExhaust() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .critical)
        let id = F.ticketId("solo")
        #expect(try h.record("solo").ticket.sla.maxRetries == 5)
        let backoffs: [Int64] = [1_000, 2_000, 4_000, 8_000, 16_000]
        for (attempt, backoff) in zip(1..., backoffs) {
            let failed = try h.runFailing("solo", taking: 500)
            let failedAt = h.clock.now
            let record = try h.record("solo")
            #expect(record.phase == .RETRY_WAIT)
            #expect(record.ticket.retryCount == attempt)
            #expect(record.ticket.status == .PENDING)
            #expect(record.ticket.errorMessage == "boom")
            #expect(record.workerId == nil)
            #expect(record.leaseExpiresAt == nil)
            #expect(
                failed.scheduled(.retry) == [
                    TimerSpec(
                        workflowId: F.workflowId,
                        ticketId: id,
                        kind: .retry,
                        fireAt: failedAt + backoff,
                        token: Int64(attempt)
                    )
                ]
            )
            #expect(failed.cancelledTimerKeys == [F.timerKey(.leaseExpiry, id)])
            #expect(failed.incidents == [])
            let event = try #require(try failed.events().first)
            #expect(event.eventType == .TICKET_FAILED)
            #expect(event.status == "retrying")
            #expect(event.metadata["retry_count"] == .int(Int32(attempt)))
            #expect(h.refusal(.leased(ticketId: id, workerId: "w", expiresAt: failedAt + 1))?.code == .invalidState)

            let due = try h.fire(.retry, "solo")
            #expect(h.clock.now == failedAt + backoff)
            #expect(try h.phase("solo") == .READY)
            #expect(due.released == [id])
            #expect(try due.publishedTickets().map(\.retryCount) == [attempt])
            #expect(try due.publishedTickets().map(\.status) == [.PENDING])
            // The SLA timer of the first release still stands: a retry does not schedule another.
            #expect(due.scheduled(.slaDeadline) == [])
        }
        #expect(try h.epoch("solo") == 5)
        let last = try h.runFailing("solo")
        let record = try h.record("solo")
        #expect(record.phase == .FAILED)
        #expect(record.ticket.status == .FAILED)
        #expect(record.ticket.retryCount == 5)
        #expect(last.scheduled(.retry) == [])
        #expect(last.incidents.map(\.incidentType) == [.WORKER_FAILURE])
        #expect(last.incidents.first?.details == ["ticket solo failed after 6 attempt(s): boom"])
        #expect(last.finished)
        #expect(h.state.status == .FAILED)
        #expect(h.state.metrics?.retries == 5)
        #expect(h.state.metrics?.failed == 1)
    }

    @Test func backoffIsCappedInTheStateMachineToo() throws {
        var policies = PolicyConfiguration()
        policies.execution.maxBackoffMs = 3_000
        var h = try WorkflowHarness.running([F.task("solo")], band: .critical, policies: policies)
        var waits: [Int64] = []
        for _ in 1...5 {
            let failed = try h.runFailing("solo", taking: 10)
            waits.append(try #require(failed.scheduled(.retry).first).fireAt - h.clock.now)
            try h.fire(.retry, "solo")
        }
        #expect(waits == [1_000, 2_000, 3_000, 3_000, 3_000])
    }

    @Test(arguments: [0, 2, 5])
    func retryDueWithAnotherCountIsRefused(count: Int) throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .high)
        try h.runFailing("solo")
        #expect(try h.record("solo").ticket.retryCount == 1)
        let refusal = h.refusal(.retryDue(ticketId: F.ticketId("solo"), retryCount: count))
        #expect(refusal?.code == .invalidState)
        #expect(try h.phase("solo") == .RETRY_WAIT)
    }

    @Test func retryDueOfATicketNotWaitingIsRefused() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .high)
        #expect(h.refusal(.retryDue(ticketId: F.ticketId("solo"), retryCount: 0))?.code == .invalidState)
        try h.runFailing("solo")
        try h.fire(.retry, "solo")
        #expect(h.refusal(.retryDue(ticketId: F.ticketId("solo"), retryCount: 1))?.code == .invalidState)
    }

    @Test func nonRetryableFailureFailsAtOnce() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .critical)
        let failed = try h.runFailing("solo", retryable: false)
        let record = try h.record("solo")
        #expect(record.phase == .FAILED)
        #expect(record.ticket.retryCount == 0)
        #expect(record.ticket.errorMessage == "boom")
        #expect(record.ticket.completedAt == h.clock.now)
        #expect(failed.scheduled(.retry) == [])
        let incident = try #require(failed.incidents.first)
        #expect(failed.incidents.count == 1)
        #expect(incident.incidentType == .WORKER_FAILURE)
        #expect(incident.severity == "CRITICAL")
        #expect(incident.affectedTickets == [F.ticketId("solo")])
        #expect(incident.recommendedPlaybook == "worker_failure_recovery")
        #expect(incident.escalationRequired == true)
        #expect(incident.workflowId == F.workflowId)
        #expect(incident.correlationId == F.correlationId)
        #expect(incident.hash == incident.computeHash())
        #expect(failed.messages(.incidents).map(\.key) == [incident.incidentId])
        #expect(try failed.eventNames().first == "TICKET_FAILED C4")
        #expect(try failed.events().first?.status == "failed")
        #expect(h.state.status == .FAILED)
        #expect(failed.finished)
        expectSettled(h.state)
    }

    @Test func failureKeepsTheWorkerResult() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .high)
        try h.lease("solo")
        let result = ExecutionResult(
            ticketId: F.ticketId("solo"),
            status: .FAILED,
            result: ExecutionResultPayload(success: false, output: ["exit_code": "2"], logs: ["disk full"]),
            errorMessage: "disk full",
            agentId: "worker-1",
            timestamp: h.clock.now
        )
        try h.apply(
            .failed(ticketId: F.ticketId("solo"), leaseEpoch: 1, error: "disk full", retryable: true, result: result)
        )
        #expect(try h.record("solo").result == result.result)
        #expect(try h.record("solo").ticket.errorMessage == "disk full")
    }

    @Test func leaseExpiryIsAWorkerFailureAndRetries() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .medium)
        try h.lease("solo", worker: "worker-9")
        let expired = try h.fire(.leaseExpiry, "solo")
        #expect(h.clock.now == F.start + 30_000)

        let incident = try #require(expired.incidents.first)
        #expect(expired.incidents.count == 1)
        #expect(incident.incidentType == .WORKER_FAILURE)
        #expect(incident.severity == "WARNING")
        #expect(incident.recommendedPlaybook == "worker_failure_recovery")
        #expect(incident.details == ["lease of worker worker-9 expired without heartbeat"])
        #expect(incident.affectedTickets == [F.ticketId("solo")])
        #expect(incident.createdAt == F.start + 30_000)
        let record = try h.record("solo")
        #expect(record.phase == .RETRY_WAIT)
        #expect(record.ticket.retryCount == 1)
        #expect(expired.scheduled(.retry).map(\.fireAt) == [F.start + 31_000])
        #expect(h.state.status == .RUNNING)

        try h.fire(.retry, "solo")
        try h.lease("solo")
        #expect(try h.epoch("solo") == 2)
        let stale = h.refusal(.leaseExpired(ticketId: F.ticketId("solo"), leaseEpoch: 1))
        #expect(stale?.code == .staleLease)
        #expect(try h.phase("solo") == .LEASED)
    }

    @Test func leaseExpiryAtTheTimeoutIsATicketTimeout() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .medium)
        h.clock.advance(1_000)
        try h.lease("solo", ttl: 3_600_000)
        let expired = try h.fire(.leaseExpiry, "solo")
        #expect(h.clock.now == F.start + 1_000 + F.defaultTimeoutMs)
        let incident = try #require(expired.incidents.first)
        #expect(incident.incidentType == .TICKET_TIMEOUT)
        #expect(incident.recommendedPlaybook == "ticket_timeout_recovery")
        #expect(incident.details == ["attempt exceeded timeout_ms 180000"])
        #expect(try h.phase("solo") == .RETRY_WAIT)
        #expect(try h.record("solo").ticket.errorMessage == "attempt exceeded timeout_ms 180000")
    }

    @Test func lateLeaseExpiryWithoutTimeoutEnforcementIsAWorkerFailure() throws {
        var policies = PolicyConfiguration()
        policies.execution.enforceTimeout = false
        var h = try WorkflowHarness.running([F.task("solo")], band: .medium, policies: policies)
        try h.lease("solo", ttl: 3_600_000)
        let expired = try h.fire(.leaseExpiry, "solo")
        #expect(expired.incidents.map(\.incidentType) == [.WORKER_FAILURE])
    }

    @Test func leaseExpiryWithNoRetryLeftFailsTheTicket() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .low)
        try h.lease("solo")
        try h.fire(.leaseExpiry, "solo")
        try h.fire(.retry, "solo")
        try h.lease("solo")
        let expired = try h.fire(.leaseExpiry, "solo")
        #expect(expired.incidents.map(\.incidentType) == [.WORKER_FAILURE, .WORKER_FAILURE])
        #expect(expired.incidents.map(\.severity) == ["WARNING", "CRITICAL"])
        #expect(try h.phase("solo") == .FAILED)
        #expect(h.state.status == .FAILED)
    }

    @Test func leaseExpiryOfATicketNoLongerLeasedIsRefused() throws {
        var h = try WorkflowHarness.running([F.task("solo"), F.task("next", ["solo"])])
        #expect(h.refusal(.leaseExpired(ticketId: F.ticketId("solo"), leaseEpoch: 0))?.code == .staleLease)
        try h.run("solo")
        #expect(h.refusal(.leaseExpired(ticketId: F.ticketId("solo"), leaseEpoch: 1))?.code == .staleLease)
    }

    /// A result read twice from the bus (at-least-once delivery) must not burn a second retry.
    @Test func duplicateUnfencedFailureIsNotAppliedTwice() throws {
        var h = try WorkflowHarness.running([F.task("solo")], band: .high)
        try h.lease("solo")
        let report = WorkflowEvent.failed(
            ticketId: F.ticketId("solo"),
            leaseEpoch: nil,
            error: "boom",
            retryable: true,
            result: nil
        )
        try h.apply(report)
        #expect(try h.record("solo").ticket.retryCount == 1)
        #expect(h.refusal(report)?.code == .invalidState)
        #expect(try h.record("solo").ticket.retryCount == 1)
    }
}
