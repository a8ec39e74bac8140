import Foundation
import Testing

@testable import OrchestratorCore

/// The ticket's wire form (`execution-ticket.avsc`: 29 fields + SLA 3 + QoS 3).
@Suite struct ExecutionTicketTests {
    static let topLevelKeys: Set<String> = [
        "ticket_id", "plan_id", "intent_id", "decision_id", "correlation_id", "trace_id", "span_id", "task_id",
        "task_type", "description", "dependencies", "status", "priority", "risk_band", "sla", "qos", "parameters",
        "required_capabilities", "security_level", "created_at", "started_at", "completed_at",
        "estimated_duration_ms", "actual_duration_ms", "retry_count", "error_message", "compensation_ticket_id",
        "metadata", "schema_version",
    ]

    static func sample() -> ExecutionTicket {
        ExecutionTicket(
            ticketId: "tk-2",
            planId: "p",
            intentId: "i",
            decisionId: "d",
            taskId: "t2",
            taskType: .BUILD,
            description: "build it",
            dependencies: ["tk-1"],
            priority: .HIGH,
            riskBand: .critical,
            sla: SLA(deadline: 1_761_682_802_000, timeoutMs: 180_000, maxRetries: 5),
            qos: QoS(deliveryMode: .EXACTLY_ONCE, consistency: .STRONG, durability: .PERSISTENT),
            parameters: ["retries": "3"],
            requiredCapabilities: ["docker"],
            securityLevel: .RESTRICTED,
            createdAt: Fixture.createdAt,
            estimatedDurationMs: 60_000,
            metadata: ["workflow_id": "orch-p"]
        )
    }

    @Test func allTwentyNineKeysArePresentWithNulls() throws {
        let object = try jsonObject(Self.sample())
        #expect(Self.topLevelKeys.count == 29)
        #expect(Set(object.keys) == Self.topLevelKeys)
        for key in ["correlation_id", "trace_id", "span_id", "started_at", "completed_at", "actual_duration_ms"] {
            #expect(object[key] is NSNull, "\(key)")
        }
        #expect(object["error_message"] is NSNull)
        #expect(object["compensation_ticket_id"] is NSNull)
        let sla = try #require(object["sla"] as? [String: Any])
        #expect(Set(sla.keys) == ["deadline", "timeout_ms", "max_retries"])
        let qos = try #require(object["qos"] as? [String: Any])
        #expect(Set(qos.keys) == ["delivery_mode", "consistency", "durability"])
    }

    @Test func enumsUseTheSchemaSpellingsAndTimesAreEpochMillisIntegers() throws {
        let text = try WireJSON.string(Self.sample())
        for fragment in [
            #""task_type":"BUILD""#, #""status":"PENDING""#, #""priority":"HIGH""#, #""risk_band":"critical""#,
            #""security_level":"RESTRICTED""#, #""delivery_mode":"EXACTLY_ONCE""#, #""consistency":"STRONG""#,
            #""durability":"PERSISTENT""#, #""created_at":1761682622000"#, #""deadline":1761682802000"#,
            #""timeout_ms":180000"#, #""max_retries":5"#, #""retry_count":0"#, #""schema_version":1"#,
            #""dependencies":["tk-1"]"#, #""started_at":null"#,
        ] {
            #expect(text.contains(fragment), "\(fragment)")
        }
    }

    @Test func roundTrips() throws {
        var ticket = Self.sample()
        ticket.status = .COMPLETED
        ticket.startedAt = Fixture.createdAt + 10
        ticket.completedAt = Fixture.createdAt + 20
        ticket.actualDurationMs = 10
        ticket.compensationTicketId = "comp-1"
        #expect(try JSONDecoder().decode(ExecutionTicket.self, from: WireJSON.encode(ticket)) == ticket)
    }

    @Test func decodesLowerCaseEnumSymbols() throws {
        var object = try jsonObject(Self.sample())
        object["task_type"] = "build"
        object["priority"] = "high"
        object["risk_band"] = "CRITICAL"
        let data = try JSONSerialization.data(withJSONObject: object)
        let ticket = try JSONDecoder().decode(ExecutionTicket.self, from: data)
        #expect(ticket == Self.sample())
    }
}
