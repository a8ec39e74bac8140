import Foundation
import Testing

@testable import OrchestratorCore

/// Worker results (`execution-result.avsc`) as real workers send them.
@Suite struct ExecutionResultTests {
    @Test func outputValuesThatAreNotStringsAreAccepted() throws {
        let json = #"""
            {"ticket_id": "t-1", "status": "COMPLETED",
             "result": {"success": true, "output": {"exit_code": 0, "stdout": "ok", "files": ["a.txt"], "ratio": 0.5},
                        "metadata": {"attempt": 2}, "logs": ["started", "done"]},
             "error_message": null, "actual_duration_ms": 1200, "agent_id": "worker-1",
             "timestamp": 1761682682000, "schema_version": 1}
            """#
        let result = try decode(ExecutionResult.self, json)
        #expect(result.ticketId == "t-1")
        #expect(result.status == .COMPLETED)
        #expect(result.result.success == true)
        #expect(result.result.output == ["exit_code": "0", "stdout": "ok", "files": #"["a.txt"]"#, "ratio": "0.5"])
        #expect(result.result.metadata == ["attempt": "2"])
        #expect(result.result.logs == ["started", "done"])
        #expect(result.errorMessage == nil)
        #expect(result.actualDurationMs == 1200)
        #expect(result.agentId == "worker-1")
        #expect(result.timestamp == 1_761_682_682_000)
    }

    @Test(
        arguments: [
            ("COMPLETED", ExecutionStatus.COMPLETED, true),
            ("completed", .COMPLETED, true),
            ("FAILED", .FAILED, false),
            ("failed", .FAILED, false),
            ("Running", .RUNNING, false),
        ]
    )
    func statusAnyCaseAndMissingResult(text: String, status: ExecutionStatus, success: Bool) throws {
        let result = try decode(ExecutionResult.self, #"{"ticket_id": "t", "status": "\#(text)"}"#)
        #expect(result.status == status)
        #expect(result.result.success == success)
        #expect(result.result.output == [:])
        #expect(result.agentId == "")
    }

    @Test func unknownStatusIsAnErrorNamingTheValue() {
        let error = #expect(throws: WireFormatError.self) {
            try WireJSON.decode(ExecutionResult.self, from: Data(#"{"ticket_id": "t", "status": "DONE"}"#.utf8))
        }
        #expect(error?.message.hasPrefix("status: ") == true)
        #expect(error?.message.contains(#"unknown value "DONE""#) == true)
    }

    @Test func missingTicketIdIsAnErrorNamingTheField() {
        let error = #expect(throws: WireFormatError.self) {
            try WireJSON.decode(ExecutionResult.self, from: Data(#"{"status": "FAILED"}"#.utf8))
        }
        #expect(error?.message == "ticket_id: required field is missing")
    }

    @Test func encodesSnakeCaseWithNulls() throws {
        let result = ExecutionResult(
            ticketId: "t",
            status: .FAILED,
            result: .init(success: false, output: ["exit_code": "1"]),
            errorMessage: "boom",
            agentId: "w",
            timestamp: 5
        )
        let object = try jsonObject(result)
        #expect(
            Set(object.keys) == [
                "ticket_id", "status", "result", "error_message", "actual_duration_ms", "agent_id", "timestamp",
                "schema_version",
            ]
        )
        #expect(object["status"] as? String == "FAILED")
        #expect(object["actual_duration_ms"] is NSNull)
        #expect(try JSONDecoder().decode(ExecutionResult.self, from: WireJSON.encode(result)) == result)
    }
}
