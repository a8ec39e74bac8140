import Foundation
import Testing

@testable import OrchestratorCore

/// How JSON input is checked before it is decoded: syntax errors with line and column, the
/// depth limit, duplicate keys, and what is not an object.
@Suite struct WireJSONInputTests {
    func decodeError(_ text: String, format: SubmissionDecoder.Format = .auto) -> WireFormatError? {
        #expect(throws: WireFormatError.self) {
            _ = try SubmissionDecoder.decode(Array(text.utf8), format: format)
        }
    }

    @Test func malformedJSONNamesTheLineAndColumn() {
        let text = "{\n  \"decision_id\": \"d-1\",\n  \"plan_id\" \"p-1\"\n}"
        let error = decodeError(text)
        #expect(error?.format == "JSON")
        #expect(error?.message == "not valid JSON at line 3, column 13: expected ':'")
    }

    @Test func aDuplicateKeyIsRefusedNamingTheKey() {
        let error = decodeError(#"{"decision_id": "d-1", "plan_id": "p-1", "decision_id": "d-2"}"#)
        #expect(error?.message.hasPrefix(#"duplicate key "decision_id" at line 1, column 42"#) == true)
        #expect(error?.field == "decision_id")
    }

    @Test func aDuplicateKeyInsideAResultIsRefused() {
        let json = #"{"ticket_id": "t-1", "status": "COMPLETED", "result": {"success": true, "success": false}}"#
        let error = #expect(throws: WireFormatError.self) {
            try WireJSON.decode(ExecutionResult.self, from: Data(json.utf8))
        }
        #expect(error?.field == "success")
    }

    @Test(arguments: ["[", "{\"a\":"])
    func aDocumentNestedTooDeeplyNamesTheLimit(opener: String) {
        let text = "{\"decision_id\": " + String(repeating: opener, count: 100_000)
        let error = decodeError(text)
        #expect(error?.message.hasPrefix("nested deeper than the limit of 64 levels at line 1, column") == true)
    }

    @Test func theDepthLimitIs64Levels() throws {
        func document(levels: Int) -> String {
            // The top-level object and `metadata` are two levels; the rest are arrays.
            let nested = String(repeating: "[", count: levels - 2) + String(repeating: "]", count: levels - 2)
            return #"{"decision_id": "d-1", "plan_id": "p-1", "metadata": {"deep": \#(nested)}}"#
        }
        guard case .decision(let decision) = try SubmissionDecoder.decode(Array(document(levels: 64).utf8)) else {
            Issue.record("not read as a decision")
            return
        }
        #expect(decision.metadata["deep"]?.hasPrefix("[[[") == true)
        let error = decodeError(document(levels: 65))
        #expect(error?.message == "nested deeper than the limit of 64 levels at line 1, column 125")
    }

    @Test(arguments: [("[1, 2]", "an array"), ("\"plan\"", "a string"), ("42", "a number"), ("null", "null")])
    func aNonObjectIsNotGuessedToBeAvro(text: String, kind: String) {
        let error = decodeError(text)
        #expect(error?.format == "JSON")
        #expect(error?.message == "expected a JSON object, found \(kind)")
    }

    @Test func autoFormatIsAvroOnlyForFramedBytes() throws {
        let decision = ConsolidatedDecision(decisionId: "d-1", planId: "p-1", createdAt: 1)
        let payload = try AvroBridge.encode(decision, as: .consolidatedDecision)
        var framed: [UInt8] = [0, 0, 0, 0, 7]
        framed.append(contentsOf: payload)
        guard case .decision(let read) = try SubmissionDecoder.decode(framed) else {
            Issue.record("not read as a decision")
            return
        }
        #expect(read.decisionId == "d-1")
        #expect(decodeError("[]")?.message == "expected a JSON object, found an array")
    }

    /// The task limit is checked while the document is read: a plan with one task too many is
    /// refused as input, naming the limit, before it is decoded.
    @Test func aPlanOverTheTaskLimitIsRefusedWhileItIsRead() throws {
        func plan(tasks: Int) -> [UInt8] {
            let list = (0..<tasks).map { #"{"task_id":"t\#($0)","task_type":"noop"}"# }.joined(separator: ",")
            return Array(#"{"plan_id":"p","intent_id":"i","tasks":[\#(list)]}"#.utf8)
        }
        guard case .plan(let fits) = try SubmissionDecoder.decode(plan(tasks: 10), maxElements: 10) else {
            Issue.record("not a plan")
            return
        }
        #expect(fits.tasks.count == 10)
        #expect {
            _ = try SubmissionDecoder.decode(plan(tasks: 11), maxElements: 10)
        } throws: { error in
            let message = (error as? WireFormatError)?.message ?? ""
            return message.contains("more than 10 elements") && message.contains("validation.max_tasks")
                && message.contains("line 1, column 40")
        }
    }
}
