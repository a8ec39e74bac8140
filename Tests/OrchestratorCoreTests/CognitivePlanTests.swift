import Foundation
import Testing

@testable import OrchestratorCore

/// Decoding plans the way real producers send them (CONTRACTS.md, "how we normalise it").
@Suite struct CognitivePlanTests {
    static let mixedMap = #"{"retries": 3, "flags": ["a"], "obj": {"k":1}, "b": true, "s": "text"}"#
    static let mixedMapTexts = ["retries": "3", "flags": #"["a"]"#, "obj": #"{"k":1}"#, "b": "true", "s": "text"]

    @Test func nonStringParameterAndMetadataValuesAreCarriedAsJSONText() throws {
        let json = #"{"task_id": "t1", "parameters": \#(Self.mixedMap), "metadata": \#(Self.mixedMap)}"#
        let task = try decode(PlanTask.self, json)
        #expect(task.parameters == Self.mixedMapTexts)
        #expect(task.metadata == Self.mixedMapTexts)
    }

    @Test func planMetadataValuesAreCarriedAsJSONText() throws {
        let plan = try decode(CognitivePlan.self, #"{"plan_id": "p", "metadata": \#(Self.mixedMap)}"#)
        #expect(plan.metadata == Self.mixedMapTexts)
    }

    @Test func nullMapsAndListsDecodeAsEmpty() throws {
        let json = #"{"task_id": "t1", "parameters": null, "metadata": null, "dependencies": null}"#
        let task = try decode(PlanTask.self, json)
        #expect(task.parameters == [:])
        #expect(task.metadata == [:])
        #expect(task.dependencies == [])
        #expect(task.estimatedDurationMs == nil)
    }

    @Test func lowerCaseEnumsAreKeptAsSent() throws {
        let json = #"""
            {"plan_id": "p", "risk_band": "HIGH", "original_priority": "critical",
             "original_security_level": "restricted", "tasks": [{"task_id": "t", "task_type": "create"}]}
            """#
        let plan = try decode(CognitivePlan.self, json)
        #expect(plan.riskBandText == "HIGH")
        #expect(plan.riskBand == .high)
        #expect(plan.originalPriority == "critical")
        #expect(plan.originalSecurityLevel == "restricted")
        #expect(plan.tasks.map(\.taskType) == ["create"])
    }

    @Test func planDataWrapperIsUnwrapped() throws {
        let json = #"""
            {"plan_id": "p-outer", "intent_id": "i-outer", "correlation_id": "c-outer", "hash": "sha256:abc",
             "plan_data": {"risk_band": "high", "risk_score": 0.7,
                           "tasks": [{"task_id": "t1", "task_type": "query"}, {"task_id": "t2", "dependencies": ["t1"]}],
                           "execution_order": ["t1", "t2"]}}
            """#
        let plan = try decode(CognitivePlan.self, json)
        #expect(plan.planId == "p-outer")
        #expect(plan.intentId == "i-outer")
        #expect(plan.correlationId == "c-outer")
        #expect(plan.riskBand == .high)
        #expect(plan.riskScore == 0.7)
        #expect(plan.tasks.map(\.taskId) == ["t1", "t2"])
        #expect(plan.tasks[1].dependencies == ["t1"])
        #expect(plan.executionOrder == ["t1", "t2"])
    }

    @Test func planDataOwnIdsWinOverTheWrapper() throws {
        let json = #"""
            {"plan_id": "p-outer", "intent_id": "i-outer",
             "plan_data": {"plan_id": "p-inner", "intent_id": "i-inner", "correlation_id": "c-inner"}}
            """#
        let plan = try decode(CognitivePlan.self, json)
        #expect(plan.planId == "p-inner")
        #expect(plan.intentId == "i-inner")
        #expect(plan.correlationId == "c-inner")
    }

    @Test func wrappedPlanInsideADecision() throws {
        var raw = try Fixture.jsonObject()
        let text = try #require(raw["cognitive_plan"] as? String)
        var inner = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let planId = inner.removeValue(forKey: "plan_id")
        let wrapper: [String: Any] = ["plan_id": planId as Any, "plan_data": inner, "hash": "sha256:ffff"]
        raw["cognitive_plan"] = String(decoding: try JSONSerialization.data(withJSONObject: wrapper), as: UTF8.self)
        let decision = try JSONDecoder().decode(
            ConsolidatedDecision.self,
            from: JSONSerialization.data(withJSONObject: raw)
        )
        #expect(decision.cognitivePlan == .plan(try Fixture.plan()))
    }

    @Test func missingExecutionOrderIsNil() throws {
        #expect(try decode(CognitivePlan.self, #"{"plan_id": "p"}"#).executionOrder == nil)
        #expect(try decode(CognitivePlan.self, #"{"plan_id": "p", "execution_order": null}"#).executionOrder == nil)
        #expect(try decode(CognitivePlan.self, #"{"plan_id": "p", "execution_order": []}"#).executionOrder == [])
    }

    @Test func missingFieldsDecodeEmptyForValidationToReport() throws {
        let plan = try decode(CognitivePlan.self, "{}")
        #expect(plan.planId == "")
        #expect(plan.intentId == "")
        #expect(plan.tasks == [])
        #expect(plan.riskBandText == "")
        #expect(plan.riskBand == nil)
        #expect(plan.originalPriority == "")
        #expect(plan.originalSecurityLevel == "")
        #expect(plan.validUntil == nil)
        #expect(plan.schemaVersion == 1)
    }

    @Test func taskFieldsArriveLoose() throws {
        let json = #"""
            {"task_id": 17, "task_type": "transform", "estimated_duration_ms": "1500", "dependencies": [3, "x"],
             "required_capabilities": ["gpu"], "description": "d"}
            """#
        let task = try decode(PlanTask.self, json)
        #expect(task.taskId == "17")
        #expect(task.taskType == "transform")
        #expect(task.estimatedDurationMs == 1500)
        #expect(task.dependencies == ["3", "x"])
        #expect(task.requiredCapabilities == ["gpu"])
    }

    @Test func encodingWritesSnakeCaseAndKeepsAnAbsentOrderAbsent() throws {
        var original = plan([task("a"), task("b", ["a"])])
        original.executionOrder = nil
        let object = try jsonObject(original)
        #expect(object["plan_id"] as? String == "plan-1")
        #expect(object["execution_order"] == nil)
        original.executionOrder = ["a", "b"]
        #expect(try jsonObject(original)["execution_order"] as? [String] == ["a", "b"])
        #expect(object["risk_band"] as? String == "medium")
        #expect(object["created_at"] as? Int64 == Fixture.createdAt)
        let tasks = try #require(object["tasks"] as? [[String: Any]])
        #expect(tasks[1]["task_id"] as? String == "b")
        #expect(tasks[1]["dependencies"] as? [String] == ["a"])
    }

    @Test func fixturePlanRoundTrips() throws {
        let plan = try Fixture.plan()
        #expect(try JSONDecoder().decode(CognitivePlan.self, from: WireJSON.encode(plan)) == plan)
    }
}
