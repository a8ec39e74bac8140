import Foundation
import Testing

@testable import OrchestratorCore

/// C5/C6 when the workflow ends, and operator cancellation.
@Suite struct WorkflowConsolidationTests {
    typealias F = WorkflowFixture

    static let closingSteps = [
        "STEP_COMPLETED C4", "STEP_STARTED C5", "STEP_COMPLETED C5", "STEP_STARTED C6", "STEP_COMPLETED C6",
        "FLOW_C_COMPLETED",
    ]

    /// `a` → `b`; `a` fails once and is retried.
    @Test func completedWorkflowConsolidatesAndEmitsTheFinalFrame() throws {
        var h = try WorkflowHarness.running([F.task("a"), F.task("b", ["a"])])
        h.clock.advance(1_000)
        try h.runFailing("a", taking: 1_000)
        try h.fire(.retry, "a")
        #expect(h.clock.now == F.start + 3_000)
        h.clock.advance(500)
        try h.lease("a")
        h.clock.advance(2_500)
        try h.complete("a")
        h.clock.advance(1_000)
        try h.lease("b")
        h.clock.advance(3_000)
        let last = try h.complete("b", duration: 3_000)
        let end = F.start + 10_000
        #expect(h.clock.now == end)

        #expect(last.finished)
        #expect(h.state.status == .COMPLETED)
        #expect(h.state.completedAt == end)
        #expect(last.incidents == [])
        let expected = WorkflowMetrics(
            total: 2,
            successful: 2,
            failed: 0,
            compensated: 0,
            skipped: 0,
            retries: 1,
            slaViolations: 0,
            durationMs: 10_000,
            averageTicketDurationMs: 2_750
        )
        #expect(h.state.metrics == expected)

        #expect(try last.eventNames() == ["TICKET_COMPLETED C4"] + Self.closingSteps)
        let events = try last.events()
        let c5 = try #require(events.first { $0.eventType == .STEP_COMPLETED && $0.step == "C5" })
        #expect(c5.metadata["total"] == .int(2))
        #expect(c5.metadata["successful"] == .int(2))
        #expect(c5.metadata["failed"] == .int(0))
        #expect(c5.metadata["retries"] == .int(1))
        #expect(c5.metadata["sla_violations"] == .int(0))
        #expect(c5.metadata["integrity_ok"] == .boolean(true))
        let flow = try #require(events.first { $0.eventType == .FLOW_C_COMPLETED })
        #expect(flow.ticketIds == [F.ticketId("a"), F.ticketId("b")])
        #expect(flow.success == true)
        #expect(flow.status == "COMPLETED")
        #expect(flow.durationMs == 10_000)
        #expect(flow.slaCompliant == true)
        #expect(flow.error == nil)
        #expect(flow.intentId == F.intentId)
        #expect(flow.planId == F.planId)
        #expect(events.allSatisfy { $0.timestamp == end })

        let messages = last.messages(.telemetryFrames)
        #expect(messages.map(\.key) == [F.workflowId])
        #expect(messages.first?.createdAt == end)
        let traceparent = try #require(messages.first?.headers["traceparent"])
        #expect(traceparent.hasPrefix("00-\(F.traceId)-"))
        #expect(traceparent.hasSuffix("-01"))
        #expect(traceparent.count == 55)
        let frame = try #require(try last.frame())
        #expect(frame.source == "orchestrator-dynamic")
        #expect(frame.status == "COMPLETED")
        #expect(frame.workflowId == F.workflowId)
        #expect(frame.planId == F.planId)
        #expect(frame.decisionId == F.decisionId)
        #expect(frame.intentId == F.intentId)
        #expect(frame.correlationId == F.correlationId)
        #expect(frame.traceId == F.traceId)
        #expect(frame.ticketIds == [F.ticketId("a"), F.ticketId("b")])
        #expect(frame.timestamp == end)
        #expect(frame.metrics == expected)
        #expect(frame.metrics.total == 2)
        #expect(frame.metrics.successful == 2)
        #expect(frame.metrics.retries == 1)
        #expect(frame.metrics.slaViolations == 0)
        #expect(frame.metrics.durationMs == 10_000)

        // The frame speaks the contract's field names.
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(messages[0].payload.utf8)) as? [String: Any]
        )
        #expect(object["source"] as? String == "orchestrator-dynamic")
        let metrics = try #require(object["metrics"] as? [String: Any])
        #expect(metrics["sla_violations"] as? Int == 0)
        #expect(metrics["duration_ms"] as? Int == 10_000)
        expectSettled(h.state)
    }

    @Test func nothingIsAcceptedOnceTheWorkflowCompleted() throws {
        var h = try WorkflowHarness.running([F.task("solo")])
        try h.run("solo")
        #expect(h.state.status == .COMPLETED)
        #expect(h.refusal(.cancelled(by: "ops", reason: "late"))?.code == .invalidWorkflowState)
        #expect(h.refusal(.approved(by: "ops", note: nil))?.code == .invalidWorkflowState)
        #expect(h.refusal(.slaDeadlinePassed(ticketId: F.ticketId("solo")))?.code == .invalidState)
        #expect(h.refusal(.retryDue(ticketId: F.ticketId("solo"), retryCount: 0))?.code == .invalidState)
    }

    @Test func cancelStopsEveryUnfinishedTicket() throws {
        // a, b roots; c after both; d after c. a completes, b is leased, then a cancellation.
        let tasks = [F.task("a"), F.task("b"), F.task("x"), F.task("c", ["a", "b"]), F.task("d", ["c"])]
        var h = try WorkflowHarness.running(tasks)
        try h.run("a")
        try h.lease("b")
        h.clock.advance(1_000)
        let cancel = try h.apply(.cancelled(by: "ops", reason: "maintenance"))

        #expect(h.state.status == .CANCELLED)
        #expect(h.state.actor == "ops")
        #expect(h.state.reason == "maintenance")
        #expect(h.state.completedAt == h.clock.now)
        #expect(try h.phase("a") == .COMPLETED)
        #expect(Set(h.tasks(in: .CANCELLED)) == ["b", "x", "c", "d"])
        #expect(
            h.state.tickets.filter { $0.phase == .CANCELLED }.allSatisfy {
                $0.ticket.status == .FAILED && $0.ticket.errorMessage == "cancelled: maintenance"
            }
        )
        #expect(try h.record("b").ticket.completedAt == h.clock.now)
        #expect(try h.record("x").ticket.completedAt == nil)
        #expect(cancel.withdrawn == [F.ticketId("x")])
        #expect(cancel.released == [])
        #expect(cancel.finished)
        #expect(cancel.cancelledTimerKeys.contains(F.timerKey(.leaseExpiry, F.ticketId("b"))))
        #expect(h.timers.isEmpty)
        let frame = try #require(try cancel.frame())
        #expect(frame.status == "CANCELLED")
        #expect(frame.metrics.total == 5)
        #expect(frame.metrics.successful == 1)
        #expect(frame.metrics.skipped == 4)
        let flow = try #require(try cancel.events().first { $0.eventType == .FLOW_C_COMPLETED })
        #expect(flow.success == false)
        #expect(flow.error == "maintenance")
        #expect(cancel.incidents == [])

        // The worker holding b comes back too late.
        let late = h.refusal(
            .completed(ticketId: F.ticketId("b"), leaseEpoch: 1, result: F.success(F.ticketId("b"), at: h.clock.now))
        )
        #expect(late?.code == .invalidState)
        #expect(h.refusal(.cancelled(by: "ops", reason: "again"))?.code == .invalidWorkflowState)
        expectSettled(h.state)
    }

    @Test func cancelWhileParkedOrWaiting() throws {
        var (parked, _) = try WorkflowHarness.started(
            F.decision(F.plan([F.task("a"), F.task("b", ["a"])]), final: .reviewRequired)
        )
        let cancelParked = try parked.apply(.cancelled(by: "ops", reason: "no"))
        #expect(parked.state.status == .CANCELLED)
        #expect(parked.tasks(in: .CANCELLED) == ["a", "b"])
        #expect(cancelParked.withdrawn == [])
        #expect(cancelParked.finished)

        var (waiting, _) = try WorkflowHarness.started(F.decision(nil))
        let cancelWaiting = try waiting.apply(.cancelled(by: "ops", reason: "no"))
        #expect(waiting.state.status == .CANCELLED)
        #expect(cancelWaiting.finished)
        #expect(try cancelWaiting.frame()?.metrics.total == 0)
    }

    @Test(arguments: [DecisionType.reject, .approve])
    func cancelOfAFinishedWorkflowIsRefused(final: DecisionType) throws {
        let cyclic = F.plan([F.task("x", ["y"]), F.task("y", ["x"])])
        var (h, _) = try WorkflowHarness.started(F.decision(cyclic, final: final))
        #expect(h.state.status == (final == .reject ? .REJECTED : .FAILED))
        #expect(h.refusal(.cancelled(by: "ops", reason: "late"))?.code == .invalidWorkflowState)
    }
}
