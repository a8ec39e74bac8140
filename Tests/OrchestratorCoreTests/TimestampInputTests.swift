import Foundation
import Testing

@testable import OrchestratorCore

/// Timestamps arrive as epoch milliseconds or as ISO-8601 / RFC 3339 text; they are kept as
/// epoch milliseconds.
@Suite struct TimestampInputTests {
    /// 2025-10-28T20:17:02Z, the fixture's `created_at`.
    static let instant: EpochMillis = 1_761_682_622_000

    @Test(
        arguments: [
            (#""2025-10-28T20:17:02Z""#, instant),
            (#""2025-10-28T20:17:02.000Z""#, instant),
            (#""2025-10-28T20:17:02.5Z""#, instant + 500),
            (#""2025-10-28T20:17:02.123456Z""#, instant + 123),
            (#""2025-10-28T22:17:02+02:00""#, instant),
            (#""2025-10-28T15:17:02.250-05:00""#, instant + 250),
            (#""2025-10-28T20:17:02+0000""#, instant),
            (#""2025-10-28t20:17:02z""#, instant),
            (#""2025-10-28 20:17:02""#, instant),
            (#""2025-10-28T20:17:02.123456""#, instant + 123),
            (#"{"$date": "2025-10-28T20:17:02.000Z"}"#, instant),
            (#"{"$date": {"$numberLong": "1761682622000"}}"#, instant),
            ("1761682622000", instant),
            (#""1761682622000""#, instant),
            (#""1970-01-01T00:00:00Z""#, 0),
            (#""1969-12-31T23:59:59.999Z""#, -1),
            (#""2024-02-29T12:00:00Z""#, 1_709_208_000_000),
        ]
    )
    func aDecisionTimestampIsReadFromEitherForm(json: String, expected: EpochMillis) throws {
        let decision = try WireJSON.decode(
            ConsolidatedDecision.self,
            from: Data(#"{"decision_id": "d", "plan_id": "p", "created_at": \#(json), "valid_until": \#(json)}"#.utf8)
        )
        #expect(decision.createdAt == expected)
        #expect(decision.validUntil == expected)
    }

    @Test(
        arguments: [
            "2025-10-28", "2025-10-28T20:17", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
            "2025-10-28T24:00:00Z", "2025-10-28T20:17:02.Z", "2025-10-28T20:17:02+2", "yesterday",
        ]
    )
    func somethingElseIsRefusedNamingTheField(text: String) {
        let json = #"{"decision_id": "d", "plan_id": "p", "created_at": "\#(text)"}"#
        let error = #expect(throws: WireFormatError.self) {
            try WireJSON.decode(ConsolidatedDecision.self, from: Data(json.utf8))
        }
        #expect(
            error?.message == #"created_at: expected epoch milliseconds or an ISO-8601 date-time, got "\#(text)""#
        )
    }

    @Test func aPlanTakesISOTimestamps() throws {
        let json = #"""
            {"plan_id": "p", "created_at": "2025-10-28T20:17:02Z", "valid_until": "2025-10-28T21:17:02.000+00:00",
             "approved_at": "2025-10-28T20:18:02Z", "tasks": []}
            """#
        let plan = try WireJSON.decode(CognitivePlan.self, from: Data(json.utf8))
        #expect(plan.createdAt == Self.instant)
        #expect(plan.validUntil == Self.instant + 3_600_000)
        #expect(plan.approvedAt == Self.instant + 60_000)
    }

    @Test func aWrappedPlanTakesISOTimestampsInsideAndOutside() throws {
        let json = #"""
            {"plan_id": "p", "valid_until": "2025-10-28T21:17:02Z",
             "plan_data": {"created_at": "2025-10-28T20:17:02Z", "tasks": []}}
            """#
        let plan = try WireJSON.decode(CognitivePlan.self, from: Data(json.utf8))
        #expect(plan.createdAt == Self.instant)
        #expect(plan.validUntil == Self.instant + 3_600_000)
    }

    @Test func aResultTakesAnISOTimestamp() throws {
        let json = #"{"ticket_id": "t", "status": "COMPLETED", "timestamp": "2025-10-28T20:17:02.042Z"}"#
        let result = try WireJSON.decode(ExecutionResult.self, from: Data(json.utf8))
        #expect(result.timestamp == Self.instant + 42)
        let encoded = try jsonObject(result)
        #expect(encoded["timestamp"] as? Int64 == Self.instant + 42)
    }
}
