import Testing

@testable import OrchestratorCore

/// C1 on a decision with its plan: decision fields, expiry, plan_id agreement, absent or unreadable plans.
extension PlanValidatorTests {
    static func fixtureOutcome(now: EpochMillis) throws -> PlanValidator.Outcome {
        let decision = try Fixture.decision()
        return PlanValidator().validate(decision: decision, plan: decision.cognitivePlan.plan, now: now)
    }

    @Test func fixtureDecisionIsValid() throws {
        let outcome = try Self.fixtureOutcome(now: Fixture.now)
        #expect(outcome.report.problems == [])
        #expect(outcome.report.warnings == [])
        #expect(outcome.order == [0, 1, 2, 3])
        #expect(outcome.graph.ids == Fixture.taskIds)
    }

    @Test(
        arguments: [
            (Fixture.now, [String]()),
            (Fixture.planValidUntil, []),
            (Fixture.planValidUntil + 1, ["plan expired at \(Fixture.planValidUntil) ms"]),
            (Fixture.decisionValidUntil, ["plan expired at \(Fixture.planValidUntil) ms"]),
            (
                Fixture.decisionValidUntil + 1,
                [
                    "decision expired at \(Fixture.decisionValidUntil) ms",
                    "plan expired at \(Fixture.planValidUntil) ms",
                ]
            ),
        ]
    )
    func fixtureExpiry(now: EpochMillis, expired: [String]) throws {
        let outcome = try Self.fixtureOutcome(now: now)
        #expect(outcome.report.problems.map(\.code) == expired.map { _ in .expired })
        #expect(outcome.report.problems.map(\.field) == expired.map { _ in "valid_until" })
        #expect(zip(outcome.report.problems, expired).allSatisfy { $0.message.hasPrefix($1) })
        #expect((outcome.order == nil) == !expired.isEmpty)
    }

    static let decisionDefects:
        [(note: String, mutate: @Sendable (inout ConsolidatedDecision) -> Void, expected: [Expected])] = [
            ("decision_id missing", { $0.decisionId = "" }, [Expected(.missingField, "decision_id")]),
            ("intent_id missing", { $0.intentId = "" }, [Expected(.missingField, "intent_id")]),
            (
                "plan_id missing (no mismatch reported)", { $0.planId = "" },
                [Expected(.missingField, "plan_id")]
            ),
            ("final_decision missing", { $0.finalDecisionText = "" }, [Expected(.invalidValue, "final_decision")]),
            ("final_decision unknown", { $0.finalDecisionText = "maybe" }, [Expected(.invalidValue, "final_decision")]),
            ("final_decision upper-case", { $0.finalDecisionText = "REJECT" }, []),
            (
                "plan_id differs from the plan's", { $0.planId = "another-plan" },
                [Expected(.planMismatch, "cognitive_plan.plan_id")]
            ),
        ]

    @Test(arguments: decisionDefects)
    func decisionDefect(
        note: String,
        mutate: @Sendable (inout ConsolidatedDecision) -> Void,
        expected: [Expected]
    ) throws {
        var decision = try Fixture.decision()
        mutate(&decision)
        let outcome = PlanValidator().validate(decision: decision, plan: decision.cognitivePlan.plan, now: Fixture.now)
        #expect(outcome.report.problems.map(Expected.init) == expected, "\(note)")
        #expect((outcome.order == nil) == !expected.isEmpty, "\(note)")
    }

    @Test func planMismatchMessageNamesBothIds() throws {
        var decision = try Fixture.decision()
        decision.planId = "another-plan"
        let outcome = PlanValidator().validate(decision: decision, plan: decision.cognitivePlan.plan, now: Fixture.now)
        #expect(
            outcome.report.problems.map(\.message) == [
                #"plan "6f1c2a9e-1111-4c1d-9a7e-000000000001" does not match the decision's plan_id "another-plan""#
            ]
        )
    }

    @Test func unreadablePlanIsReportedWithItsReason() throws {
        var decision = try Fixture.decision()
        decision.cognitivePlan = .unreadable("the JSON string does not hold a readable plan: (root): bad")
        let outcome = PlanValidator().validate(decision: decision, plan: nil, now: Fixture.now)
        #expect(outcome.report.problems.map(Expected.init) == [Expected(.unreadablePlan, "cognitive_plan")])
        #expect(outcome.report.problems.first?.message == "the JSON string does not hold a readable plan: (root): bad")
        #expect(outcome.order == nil)
    }

    @Test func unreadablePlanStringFromTheWire() throws {
        let json =
            #"{"decision_id": "d", "plan_id": "p", "intent_id": "i", "final_decision": "approve", "cognitive_plan": "{oops"}"#
        let decision = try decode(ConsolidatedDecision.self, json)
        let report = PlanValidator().validate(decision: decision, plan: decision.cognitivePlan.plan, now: 0).report
        #expect(report.problems.map(\.code) == [.unreadablePlan])
    }

    @Test func absentPlanWithoutALedgerPlanIsMissing() throws {
        var decision = try Fixture.decision()
        decision.cognitivePlan = .absent
        let outcome = PlanValidator().validate(decision: decision, plan: nil, now: Fixture.now)
        #expect(outcome.report.problems.map(Expected.init) == [Expected(.missingField, "cognitive_plan")])
        #expect(outcome.graph.count == 0)
    }

    @Test func absentPlanTakenFromTheLedger() throws {
        var decision = try Fixture.decision()
        let ledgerPlan = try Fixture.plan()
        decision.cognitivePlan = .absent
        let outcome = PlanValidator().validate(decision: decision, plan: ledgerPlan, now: Fixture.now)
        #expect(outcome.report.problems == [])
        #expect(outcome.order == [0, 1, 2, 3])
    }

    @Test func decisionProblemsComeBeforePlanProblems() throws {
        var decision = try Fixture.decision()
        var plan = try Fixture.plan()
        decision.decisionId = ""
        plan.tasks[3].dependencies = ["nowhere"]
        let outcome = PlanValidator().validate(decision: decision, plan: plan, now: Fixture.now)
        #expect(
            outcome.report.problems.map(Expected.init) == [
                Expected(.missingField, "decision_id"),
                Expected(.unknownDependency, "tasks[3].dependencies", "task-4d5e6f70"),
            ]
        )
    }
}
