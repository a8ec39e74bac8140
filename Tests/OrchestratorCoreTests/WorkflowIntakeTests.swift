import Foundation
import Testing

@testable import OrchestratorCore

/// Intake: decision gating, waiting for the plan, C1 failures.
@Suite struct WorkflowIntakeTests {
    typealias F = WorkflowFixture

    /// Two roots and a join: `a`, `b` → `c`.
    static let joinTasks = [F.task("a"), F.task("b"), F.task("c", ["a", "b"])]

    static let intakeSteps = [
        "FLOW_C_STARTED", "STEP_STARTED C1", "STEP_COMPLETED C1", "STEP_STARTED C2", "STEP_COMPLETED C2",
        "STEP_STARTED C3", "STEP_COMPLETED C3", "STEP_STARTED C4",
    ]

    @Test(arguments: [DecisionType.approve, .conditional])
    func runnableDecisionStartsAndReleasesOnlyTheRoots(final: DecisionType) throws {
        let decision = F.decision(F.plan(Self.joinTasks), final: final)
        let (h, intake) = try WorkflowHarness.started(decision)

        #expect(h.state.status == .RUNNING)
        #expect(h.state.startedAt == F.start)
        #expect(h.state.eventCount == 1)
        #expect(h.state.riskBand == .low)
        #expect(h.state.validation?.isValid == true)
        #expect(h.state.tickets.map(\.ticket.taskId) == ["a", "b", "c"])
        #expect(intake.released == [F.ticketId("a"), F.ticketId("b")])
        #expect(intake.withdrawn == [])
        #expect(intake.incidents == [])
        #expect(!intake.finished)
        #expect(try h.phase("a") == .READY)
        #expect(try h.phase("b") == .READY)
        #expect(try h.phase("c") == .WAITING)
        #expect(try h.record("a").releasedAt == F.start)
        #expect(try h.record("c").releasedAt == nil)
        #expect(h.state.tickets.allSatisfy { $0.score > 0 })

        // Only the released tickets go out, PENDING, keyed by plan id.
        let published = try intake.publishedTickets()
        #expect(published.map(\.ticketId) == [F.ticketId("a"), F.ticketId("b")])
        #expect(published.allSatisfy { $0.status == .PENDING })
        #expect(intake.messages(.tickets).allSatisfy { $0.key == F.planId && $0.workflowId == F.workflowId })
        #expect(try h.record("a").ticket.status == .PENDING)

        #expect(try intake.eventNames() == Self.intakeSteps)
        let events = try intake.events()
        #expect(events.allSatisfy { $0.workflowId == F.workflowId && $0.decisionId == F.decisionId })
        #expect(events.allSatisfy { $0.correlationId == F.correlationId && $0.traceId == F.traceId })
        #expect(events[4].ticketIds == [F.ticketId("a"), F.ticketId("b"), F.ticketId("c")])
        #expect(intake.messages(.incidents) == [])
        #expect(try intake.frame() == nil)

        // One SLA timer per released ticket, at its deadline.
        let sla = intake.scheduled(.slaDeadline)
        #expect(sla.map(\.ticketId) == [F.ticketId("a"), F.ticketId("b")])
        #expect(sla.map(\.fireAt) == [F.start + F.defaultTimeoutMs, F.start + F.defaultTimeoutMs])
        #expect(intake.effects.timers.count == 2)
        #expect(intake.effects.changedTickets == [0, 1, 2])
    }

    @Test func rejectDecisionIsRecordedAndNotRun() throws {
        let (h, intake) = try WorkflowHarness.started(F.decision(F.plan(Self.joinTasks), final: .reject))

        #expect(h.state.status == .REJECTED)
        #expect(h.state.reason == "the consensus decision was reject")
        #expect(h.state.completedAt == F.start)
        #expect(h.state.startedAt == nil)
        #expect(h.state.tickets.isEmpty)
        #expect(intake.finished)
        #expect(intake.released == [])
        #expect(intake.messages(.tickets) == [])
        #expect(intake.effects.timers == [])
    }

    @Test(arguments: [(DecisionType.reviewRequired, false), (.approve, true), (.conditional, true)])
    func reviewParksTheWorkflowUntilApproved(final: DecisionType, humanReview: Bool) throws {
        var (h, intake) = try WorkflowHarness.started(
            F.decision(F.plan(Self.joinTasks), final: final, humanReview: humanReview)
        )

        #expect(h.state.status == .AWAITING_APPROVAL)
        #expect(h.state.tickets.count == 3)
        #expect(h.state.tickets.allSatisfy { $0.phase == .WAITING })
        #expect(intake.released == [])
        #expect(intake.messages(.tickets) == [])
        #expect(intake.effects.timers == [])
        #expect(!intake.finished)
        #expect(try intake.eventNames() == Array(Self.intakeSteps.dropLast()))
        // Nothing can be leased while parked.
        #expect(
            h.refusal(.leased(ticketId: F.ticketId("a"), workerId: "w", expiresAt: F.start + 1))?.code
                == .invalidWorkflowState
        )

        h.clock.advance(60_000)
        let approval = try h.apply(.approved(by: "alice", note: "ok"))
        #expect(h.state.status == .RUNNING)
        #expect(h.state.actor == "alice")
        #expect(h.state.startedAt == F.start + 60_000)
        #expect(approval.released == [F.ticketId("a"), F.ticketId("b")])
        #expect(try approval.publishedTickets().map(\.ticketId) == [F.ticketId("a"), F.ticketId("b")])
        #expect(try approval.eventNames() == ["STEP_STARTED C4"])
        #expect(try h.phase("c") == .WAITING)
        #expect(h.refusal(.approved(by: "bob", note: nil))?.code == .invalidWorkflowState)
    }

    @Test func operatorRejectionEndsAParkedWorkflow() throws {
        var (h, _) = try WorkflowHarness.started(F.decision(F.plan(Self.joinTasks), final: .reviewRequired))
        h.clock.advance(5_000)
        let rejection = try h.apply(.rejected(by: "carol", reason: "too risky"))

        #expect(h.state.status == .REJECTED)
        #expect(h.state.actor == "carol")
        #expect(h.state.reason == "too risky")
        #expect(h.state.completedAt == F.start + 5_000)
        #expect(h.state.tickets.allSatisfy { $0.phase == .CANCELLED && $0.ticket.status == .FAILED })
        #expect(try h.record("a").ticket.errorMessage == "rejected: too risky")
        #expect(rejection.finished)
        #expect(rejection.released == [])
        #expect(rejection.withdrawn == [])
        let frame = try #require(try rejection.frame())
        #expect(frame.status == "REJECTED")
        #expect(frame.metrics.total == 3)
        #expect(frame.metrics.skipped == 3)
        #expect(h.refusal(.approved(by: "alice", note: nil))?.code == .invalidWorkflowState)
        #expect(h.refusal(.rejected(by: "alice", reason: "again"))?.code == .invalidWorkflowState)
    }

    @Test func decisionWithoutPlanWaitsForIt() throws {
        let plan = F.plan(Self.joinTasks)
        var (h, intake) = try WorkflowHarness.started(F.decision(nil))

        #expect(h.state.status == .WAITING_FOR_PLAN)
        #expect(h.state.tickets.isEmpty)
        #expect(try intake.eventNames() == ["FLOW_C_STARTED"])
        #expect(intake.released == [])
        #expect(!intake.finished)
        #expect(h.refusal(.approved(by: "alice", note: nil))?.code == .invalidWorkflowState)

        h.clock.advance(2_000)
        let attached = try h.apply(.planAttached(plan))
        #expect(h.state.status == .RUNNING)
        #expect(h.state.startedAt == F.start + 2_000)
        #expect(attached.released == [F.ticketId("a"), F.ticketId("b")])
        #expect(try attached.eventNames() == Array(Self.intakeSteps.dropFirst()))
        #expect(h.state.tickets.allSatisfy { $0.ticket.decisionId == F.decisionId })
        #expect(h.refusal(.planAttached(plan))?.code == .invalidWorkflowState)
    }

    @Test func operatorMayRejectAWorkflowStillWaitingForItsPlan() throws {
        var (h, _) = try WorkflowHarness.started(F.decision(nil))
        let rejection = try h.apply(.rejected(by: "dave", reason: "stale"))
        #expect(h.state.status == .REJECTED)
        #expect(rejection.finished)
        #expect(h.refusal(.planAttached(F.plan(Self.joinTasks)))?.code == .invalidWorkflowState)
    }

    /// The gate of a `review_required` decision must hold when its plan arrives after it.
    @Test func reviewRequiredDecisionWaitingForItsPlanStaysGated() throws {
        var (h, _) = try WorkflowHarness.started(F.decision(nil, final: .reviewRequired))
        #expect(h.state.status == .WAITING_FOR_PLAN)
        let attached = try h.apply(.planAttached(F.plan(Self.joinTasks)))
        #expect(h.state.status == .AWAITING_APPROVAL)
        #expect(attached.released == [])
    }

    /// Same for `requires_human_review = true` on an approve decision.
    @Test func humanReviewDecisionWaitingForItsPlanStaysGated() throws {
        var (h, _) = try WorkflowHarness.started(F.decision(nil, humanReview: true))
        let attached = try h.apply(.planAttached(F.plan(Self.joinTasks)))
        #expect(h.state.status == .AWAITING_APPROVAL)
        #expect(attached.released == [])
    }

    /// Tickets of a plan that arrives after its decision carry the decision's trace context.
    @Test func ticketsOfALatePlanCarryTheDecisionTrace() throws {
        var (h, _) = try WorkflowHarness.started(F.decision(nil))
        try h.apply(.planAttached(F.plan(Self.joinTasks)))
        #expect(h.state.tickets.map(\.ticket.traceId) == [F.traceId, F.traceId, F.traceId])
        #expect(h.state.tickets.map(\.ticket.correlationId) == [F.correlationId, F.correlationId, F.correlationId])
    }

    /// A decision that expired while waiting for its plan fails C1 when the plan arrives.
    @Test func decisionThatExpiredWhileWaitingFailsValidation() throws {
        var (h, _) = try WorkflowHarness.started(F.decision(nil, validUntil: F.start + 10_000))
        h.clock.advance(20_000)
        let attached = try h.apply(.planAttached(F.plan(Self.joinTasks)))
        #expect(h.state.status == .FAILED)
        #expect(h.state.validation?.problems.map(\.field) == ["valid_until"])
        #expect(attached.released == [])
    }

    @Test func unreadableEmbeddedPlanFailsValidation() throws {
        let json = """
            {"decision_id": "\(F.decisionId)", "plan_id": "\(F.planId)", "intent_id": "\(F.intentId)",
             "final_decision": "approve", "cognitive_plan": "{not a plan"}
            """
        let decision = try JSONDecoder().decode(ConsolidatedDecision.self, from: Data(json.utf8))
        guard case .unreadable = decision.cognitivePlan else {
            Issue.record("the fixture should hold an unreadable plan")
            return
        }
        let (h, intake) = try WorkflowHarness.started(decision)

        #expect(h.state.status == .FAILED)
        #expect(h.state.tickets.isEmpty)
        let report = try #require(h.state.validation)
        #expect(report.problems.map(\.code) == [.unreadablePlan])
        #expect(report.problems.map(\.field) == ["cognitive_plan"])
        #expect(report.validatedAt == F.start)
        #expect(intake.finished)
        #expect(intake.released == [])
        let failed = try #require(try intake.events().first { $0.eventType == .STEP_FAILED })
        #expect(failed.step == "C1")
        #expect(failed.errorType == "validation_failed")
        #expect(failed.success == false)
        #expect(failed.error?.hasPrefix("cognitive_plan: ") == true)
        #expect(
            try intake.eventNames() == [
                "FLOW_C_STARTED", "STEP_STARTED C1", "STEP_FAILED C1", "STEP_STARTED C5", "STEP_COMPLETED C5",
                "STEP_STARTED C6", "STEP_COMPLETED C6", "FLOW_C_COMPLETED",
            ]
        )
        let frame = try #require(try intake.frame())
        #expect(frame.status == "FAILED")
        #expect(frame.metrics == WorkflowMetrics(total: 0, durationMs: 0))
    }

    @Test func cyclicPlanFailsValidationWithTheCycleAudited() throws {
        let cyclic = F.plan([F.task("root"), F.task("x", ["root", "y"]), F.task("y", ["x"])])
        let (h, intake) = try WorkflowHarness.started(F.decision(cyclic))

        #expect(h.state.status == .FAILED)
        #expect(h.state.reason == "validation failed: 1 problem(s)")
        #expect(h.state.tickets.isEmpty)
        #expect(h.state.startedAt == nil)
        let report = try #require(h.state.validation)
        #expect(report.problems.map(\.code) == [.dependencyCycle])
        let cycle = try #require(report.cycles.first)
        #expect(report.cycles.count == 1)
        #expect(Set(cycle) == ["x", "y"])
        #expect(cycle.first == cycle.last)
        #expect(intake.finished)
        #expect(intake.released == [])
        #expect(intake.messages(.tickets) == [])
        let names = try intake.eventNames()
        #expect(Array(names.prefix(3)) == ["FLOW_C_STARTED", "STEP_STARTED C1", "STEP_FAILED C1"])
        #expect(!names.contains("STEP_STARTED C2"))
        let failed = try #require(try intake.events().first { $0.eventType == .STEP_FAILED })
        #expect(failed.error?.contains("dependency cycle") == true)
        #expect(try intake.frame()?.status == "FAILED")
    }

    @Test func planOfAnotherIdFailsValidation() throws {
        var decision = F.decision(F.plan(Self.joinTasks))
        decision.planId = "plan-other"
        var h = WorkflowHarness(decision: decision)
        try h.apply(.decisionAccepted(.init(decision: decision, plan: decision.cognitivePlan.plan)))
        #expect(h.state.status == .FAILED)
        #expect(h.state.validation?.problems.map(\.code) == [.planMismatch])
    }

    @Test func secondDecisionIsRefused() throws {
        let decision = F.decision(F.plan(Self.joinTasks))
        var (running, _) = try WorkflowHarness.started(decision)
        #expect(running.refusal(.decisionAccepted(.init(decision: decision, plan: nil)))?.code == .invalidWorkflowState)

        var (waiting, _) = try WorkflowHarness.started(F.decision(nil))
        let again = WorkflowEvent.decisionAccepted(.init(decision: decision, plan: decision.cognitivePlan.plan))
        #expect(waiting.refusal(again)?.code == .invalidWorkflowState)
        #expect(waiting.state.status == .WAITING_FOR_PLAN)
    }

    @Test func workflowIdOtherThanTheDefaultRebindsTicketIds() throws {
        let workflowId = "orch-plan-wf-decision-2"
        let (h, intake) = try WorkflowHarness.started(F.decision(F.plan(Self.joinTasks)), workflowId: workflowId)
        let a = F.ticketId("a", workflowId: workflowId)
        let b = F.ticketId("b", workflowId: workflowId)
        #expect(h.state.tickets.map(\.ticketId) == [a, b, F.ticketId("c", workflowId: workflowId)])
        #expect(h.state.tickets[2].ticket.dependencies == [a, b])
        #expect(h.state.tickets.allSatisfy { $0.ticket.metadata["workflow_id"] == workflowId })
        #expect(intake.released == [a, b])
    }
}
