import Foundation
import Testing

@testable import OrchestratorCore

/// Ids arrive as strings (or, from loose producers, numbers) and obey the ``Identifier`` limits.
@Suite struct IdentifierInputTests {
    func decisionError(_ json: String) -> WireFormatError? {
        #expect(throws: WireFormatError.self) {
            try WireJSON.decode(ConsolidatedDecision.self, from: Data(json.utf8))
        }
    }

    @Test(
        arguments: [
            (#"{"decision_id": {}, "plan_id": "p-1"}"#, "decision_id"),
            (#"{"decision_id": "d-1", "plan_id": {}}"#, "plan_id"),
            (#"{"decision_id": "d-1", "plan_id": "p-1", "intent_id": {"id": "i"}}"#, "intent_id"),
        ]
    )
    func anObjectIsNotAnId(json: String, field: String) {
        let error = decisionError(json)
        #expect(error?.message == "\(field): expected a string (found an object)")
    }

    @Test func anArrayIsNotAPlanId() {
        let error = #expect(throws: WireFormatError.self) {
            try WireJSON.decode(CognitivePlan.self, from: Data(#"{"plan_id": ["p"], "tasks": []}"#.utf8))
        }
        #expect(error?.message.hasPrefix("plan_id: expected a string") == true)
    }

    @Test func anIdIsAtMost256UTF8Bytes() throws {
        let fits = "plan é " + String(repeating: "x", count: 248)
        #expect(fits.utf8.count == 256)
        let decision = try WireJSON.decode(
            ConsolidatedDecision.self,
            from: Data(#"{"decision_id": "d-1", "plan_id": "\#(fits)"}"#.utf8)
        )
        #expect(decision.planId == fits)

        let long = String(repeating: "é", count: 129)  // 258 UTF-8 bytes
        let error = decisionError(#"{"decision_id": "d-1", "plan_id": "\#(long)"}"#)
        #expect(error?.message == "plan_id: an id is at most 256 UTF-8 bytes, this one has 258")
    }

    @Test(arguments: [#"d\n1"#, #"d\u00001"#, #"d\u007f"#, #"d\u0085"#])
    func anIdWithAControlCharacterIsRefused(escaped: String) {
        let error = decisionError(#"{"decision_id": "\#(escaped)", "plan_id": "p-1"}"#)
        #expect(error?.message.hasPrefix("decision_id: an id may not contain control characters") == true)
    }

    @Test func aTicketIdInAResultObeysTheLimits() {
        let error = #expect(throws: WireFormatError.self) {
            try WireJSON.decode(ExecutionResult.self, from: Data(#"{"ticket_id": "t\t1", "status": "FAILED"}"#.utf8))
        }
        #expect(error?.message.hasPrefix("ticket_id: an id may not contain control characters") == true)
    }
}
