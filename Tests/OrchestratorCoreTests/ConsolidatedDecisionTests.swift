import Foundation
import Testing

@testable import OrchestratorCore

/// Decoding the hive-mind's consolidated decisions, starting from the contract fixture.
@Suite struct ConsolidatedDecisionTests {
    @Test func fixtureDecisionFields() throws {
        let decision = try Fixture.decision()
        #expect(decision.decisionId == "decision-0a1b2c3d")
        #expect(decision.planId == "6f1c2a9e-1111-4c1d-9a7e-000000000001")
        #expect(decision.intentId == "6f1c2a9e-2222-4c1d-9a7e-000000000002")
        #expect(decision.correlationId == "e2e-avro-0a1b2c3d")
        #expect(decision.traceId == "trace-0123456789abcdef")
        #expect(decision.spanId == "span-01234567")
        #expect(decision.finalDecisionText == "approve")
        #expect(decision.finalDecision == .approve)
        #expect(decision.consensusMethod == "bayesian")
        #expect(decision.aggregatedConfidence == 0.9)
        #expect(decision.aggregatedRisk == 0.28)
        #expect(decision.explainabilityToken == "explain-decision-0a1b2c3d4e5f")
        #expect(decision.reasoningSummary.hasPrefix("Consenso alcançado via método Bayesiano."))
        #expect(decision.complianceChecks == ["security_review": true, "cost_analysis": true, "risk_assessment": true])
        #expect(decision.guardrailsTriggered == [])
        #expect(decision.requiresHumanReview == false)
        #expect(decision.createdAt == Fixture.createdAt)
        #expect(decision.validUntil == Fixture.decisionValidUntil)
        #expect(decision.metadata == ["source": "e2e_test", "consensus_version": "v1.0.0"])
        #expect(decision.schemaVersion == 1)
    }

    @Test func fixtureHashKeepsItsPrefix() throws {
        #expect(try Fixture.decision().hash == "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    }

    @Test func fixtureSpecialistVotesIgnoreReasoningAndMetadata() throws {
        let votes = try Fixture.decision().specialistVotes
        #expect(votes.map(\.specialistType) == ["technical", "business", "architecture", "behavior", "evolution"])
        #expect(votes.map(\.processingTimeMs) == [150, 175, 200, 225, 250])
        #expect(votes.map(\.confidenceScore) == [0.92, 0.88, 0.95, 0.85, 0.9])
        #expect(votes.map(\.riskScore) == [0.25, 0.3, 0.2, 0.35, 0.28])
        #expect(votes.allSatisfy { $0.recommendation == "approve" && $0.weight == 0.2 })
        #expect(votes[0].opinionId == "opinion-technical-0a1b2c3d")
    }

    @Test func fixtureConsensusMetrics() throws {
        let metrics = try Fixture.decision().consensusMetrics
        #expect(metrics.divergenceScore == 0.08)
        #expect(metrics.convergenceTimeMs == 450)
        #expect(metrics.unanimous == false)
        #expect(metrics.fallbackUsed == false)
        #expect(metrics.pheromoneStrength == 0.85)
        #expect(metrics.bayesianConfidence == 0.92)
        #expect(metrics.votingConfidence == 0.88)
    }

    @Test func fixturePlanIsEmbeddedAsAJSONString() throws {
        let raw = try Fixture.jsonObject()
        #expect(raw["cognitive_plan"] is String)
        let plan = try Fixture.plan()
        #expect(plan.planId == "6f1c2a9e-1111-4c1d-9a7e-000000000001")
        #expect(plan.intentId == "6f1c2a9e-2222-4c1d-9a7e-000000000002")
        #expect(plan.version == "1.0.0")
        #expect(plan.correlationId == "e2e-avro-0a1b2c3d")
        #expect(plan.traceId == "trace-0123456789abcdef")
        #expect(plan.spanId == "span-01234567")
        #expect(plan.executionOrder == Fixture.taskIds)
        #expect(plan.riskScore == 0.35)
        #expect(plan.riskBandText == "medium")
        #expect(plan.riskBand == .medium)
        #expect(plan.riskFactors == ["complexity": 0.4, "security": 0.3, "dependencies": 0.2])
        #expect(plan.explainabilityToken == "explain-0a1b2c3d4e5f")
        #expect(plan.status == "validated")
        #expect(plan.createdAt == Fixture.createdAt)
        #expect(plan.validUntil == Fixture.planValidUntil)
        #expect(plan.estimatedTotalDurationMs == 255_000)
        #expect(plan.complexityScore == 0.65)
        #expect(plan.originalDomain == "INFRASTRUCTURE")
        #expect(plan.originalPriority == "HIGH")
        #expect(plan.originalSecurityLevel == "CONFIDENTIAL")
        #expect(plan.metadata == ["source": "e2e_test", "test_run_id": "6f1c2a9e-3333-4c1d-9a7e-000000000003"])
        #expect(plan.requiresApproval == false)
        #expect(plan.approvalStatus == nil)
        #expect(plan.riskMatrix == nil)
        #expect(plan.schemaVersion == 1)
    }

    @Test func fixturePlanHasFourTasks() throws {
        let tasks = try Fixture.plan().tasks
        #expect(tasks.map(\.taskId) == Fixture.taskIds)
        #expect(tasks.map(\.taskType) == ["VALIDATE", "BUILD", "TEST", "DEPLOY"])
        #expect(tasks.map(\.dependencies) == [[], [Fixture.taskIds[0]], [Fixture.taskIds[1]], [Fixture.taskIds[2]]])
        #expect(tasks.map(\.estimatedDurationMs) == [30_000, 60_000, 45_000, 120_000])
        #expect(
            tasks.map(\.requiredCapabilities) == [
                ["python", "validation"], ["python", "security"], ["pytest", "testing"], ["kubernetes", "helm"],
            ]
        )
        #expect(
            tasks.map(\.parameters) == [
                ["strict_mode": "true"], ["algorithm": "RS256"], ["coverage_threshold": "80"],
                ["environment": "staging"],
            ]
        )
        #expect(
            tasks.map(\.metadata) == [
                ["priority": "high"], ["component": "auth"], ["test_type": "integration"], ["rollback_enabled": "true"],
            ]
        )
        #expect(tasks[0].description == "Validar requisitos e dependências do sistema")
    }

    @Test func planAsAnObjectDecodesLikePlanAsAString() throws {
        var raw = try Fixture.jsonObject()
        let text = try #require(raw["cognitive_plan"] as? String)
        raw["cognitive_plan"] = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let decision = try JSONDecoder().decode(
            ConsolidatedDecision.self,
            from: JSONSerialization.data(withJSONObject: raw)
        )
        #expect(decision.cognitivePlan == .plan(try Fixture.plan()))
    }

    @Test func unknownKeysAnywhereAreIgnored() throws {
        var raw = try Fixture.jsonObject()
        raw["reasoning"] = "top-level extra"
        raw["extra_object"] = ["nested": [1, 2, ["deep": true]]]
        var consensus = try #require(raw["consensus_metrics"] as? [String: Any])
        consensus["new_metric"] = 0.5
        raw["consensus_metrics"] = consensus
        let decision = try JSONDecoder().decode(
            ConsolidatedDecision.self,
            from: JSONSerialization.data(withJSONObject: raw)
        )
        #expect(decision == (try Fixture.decision()))
    }

    enum PlanKind: Equatable {
        case absent, plan, unreadable
    }

    static let planCases: [(value: String, kind: PlanKind, note: String)] = [
        ("", .absent, "key left out"),
        (#""cognitive_plan": null"#, .absent, "null"),
        (#""cognitive_plan": "  ""#, .absent, "blank string"),
        (#""cognitive_plan": "{\"plan_id\": \"p-1\", \"tasks\": []}""#, .plan, "JSON string"),
        (#""cognitive_plan": {"plan_id": "p-1", "tasks": []}"#, .plan, "object"),
        (#""cognitive_plan": "{\"plan_data\": {\"plan_id\": \"p-1\"}}""#, .plan, "wrapped JSON string"),
        (#""cognitive_plan": "not json at all""#, .unreadable, "unparsable string"),
        (#""cognitive_plan": "[1, 2]""#, .unreadable, "string holding an array"),
        (#""cognitive_plan": "{\"tasks\": 7}""#, .unreadable, "string holding a bad field"),
        (#""cognitive_plan": 42"#, .unreadable, "number"),
        (#""cognitive_plan": {"tasks": "many"}"#, .unreadable, "object with a bad field"),
    ]

    @Test(arguments: planCases)
    func embeddedPlanForms(value: String, kind: PlanKind, note: String) throws {
        let json =
            #"{"decision_id": "d-1", "plan_id": "p-1", "intent_id": "i-1", "final_decision": "approve""#
            + (value.isEmpty ? "" : ", " + value) + "}"
        let embedded = try decode(ConsolidatedDecision.self, json).cognitivePlan
        switch (embedded, kind) {
        case (.absent, .absent):
            break
        case (.plan(let plan), .plan):
            #expect(plan.planId == "p-1", "\(note)")
        case (.unreadable(let reason), .unreadable):
            #expect(!reason.isEmpty, "\(note)")
        default:
            Issue.record("\(note): got \(embedded), expected \(kind)")
        }
    }

    @Test func unreadablePlanReasonNamesTheProblem() throws {
        let json = #"{"decision_id": "d", "plan_id": "p", "cognitive_plan": "{\"tasks\": 7}"}"#
        let decision = try decode(ConsolidatedDecision.self, json)
        guard case .unreadable(let reason) = decision.cognitivePlan else {
            Issue.record("expected an unreadable plan, got \(decision.cognitivePlan)")
            return
        }
        #expect(reason.hasPrefix("the JSON string does not hold a readable plan"))
        #expect(reason.contains("tasks"))
    }

    @Test(
        arguments: [
            ("approve", DecisionType.approve),
            ("APPROVE", .approve),
            ("reject", .reject),
            ("review_required", .reviewRequired),
            ("Review_Required", .reviewRequired),
            ("conditional", .conditional),
        ]
    )
    func finalDecisionParsesAnyCase(text: String, expected: DecisionType) throws {
        let decision = try decode(ConsolidatedDecision.self, #"{"final_decision": "\#(text)"}"#)
        #expect(decision.finalDecision == expected)
    }

    @Test func unknownFinalDecisionIsKeptAsSent() throws {
        let decision = try decode(ConsolidatedDecision.self, #"{"final_decision": "maybe"}"#)
        #expect(decision.finalDecision == nil)
        #expect(decision.finalDecisionText == "maybe")
    }

    @Test func lenientScalarsAndMissingFields() throws {
        let json = #"""
            {"decision_id": 123, "plan_id": "p", "requires_human_review": "true", "created_at": "1761682622000",
             "valid_until": 1761689822000.0, "aggregated_risk": "0.5", "schema_version": "2",
             "metadata": {"attempt": 2, "ok": false}}
            """#
        let decision = try decode(ConsolidatedDecision.self, json)
        #expect(decision.decisionId == "123")
        #expect(decision.intentId == "")
        #expect(decision.correlationId == nil)
        #expect(decision.requiresHumanReview == true)
        #expect(decision.createdAt == 1_761_682_622_000)
        #expect(decision.validUntil == 1_761_689_822_000)
        #expect(decision.aggregatedRisk == 0.5)
        #expect(decision.schemaVersion == 2)
        #expect(decision.metadata == ["attempt": "2", "ok": "false"])
        #expect(decision.specialistVotes == [])
    }

    @Test func malformedTimestampIsAnError() {
        #expect(throws: DecodingError.self) {
            try decode(ConsolidatedDecision.self, #"{"created_at": "yesterday"}"#)
        }
    }

    @Test func encodingCarriesThePlanAsAJSONStringAndRoundTrips() throws {
        let decision = try Fixture.decision()
        let object = try jsonObject(decision)
        let planText = try #require(object["cognitive_plan"] as? String)
        #expect(try decode(CognitivePlan.self, planText) == decision.cognitivePlan.plan)
        #expect(object["created_at"] as? Int64 == Fixture.createdAt)
        #expect(object["final_decision"] as? String == "approve")
        #expect(object.keys.count == 23)
        let again = try JSONDecoder().decode(ConsolidatedDecision.self, from: WireJSON.encode(decision))
        #expect(again == decision)
    }

    @Test func absentPlanEncodesAsNull() throws {
        let decision = ConsolidatedDecision(decisionId: "d", planId: "p")
        let object = try jsonObject(decision)
        #expect(object["cognitive_plan"] is NSNull)
        #expect(try decision.cognitivePlanJSON() == nil)
    }
}
