import Foundation
import Testing

@testable import OrchestratorCore

/// The streaming encoder must read back to the same value and agree with Foundation's encoder on
/// content (key order aside).
struct StreamingJSONEncoderTests {
    /// Parses JSON into a comparable tree (objects as dictionaries: order-insensitive).
    func tree(_ bytes: some Sequence<UInt8>) throws -> NSObject {
        try #require(
            try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? NSObject
        )
    }

    func agreesWithFoundation<T: Encodable>(_ value: T) throws {
        let streamed = try StreamingJSONEncoder().encode(value)
        let foundation = try JSONEncoder().encode(value)
        #expect(try tree(streamed) == tree(foundation), "\(String(decoding: streamed, as: UTF8.self))")
    }

    func preparedTickets() throws -> [ExecutionTicket] {
        let prepared = PlanPreparation().prepare(.decision(try Fixture.decision()), now: Fixture.now)
        return prepared.tickets
    }

    @Test func ticketsRecordsAndDecisionsAgreeWithFoundationAndRoundTrip() throws {
        let tickets = try preparedTickets()
        #expect(tickets.count == 4)
        for ticket in tickets {
            try agreesWithFoundation(ticket)
            let decoded = try JSONDecoder().decode(
                ExecutionTicket.self,
                from: Data(StreamingJSONEncoder().encode(ticket))
            )
            #expect(decoded == ticket)
            var record = TicketRecord(ticket: ticket)
            record.score = 0.731
            record.workerId = "w-1"
            try agreesWithFoundation(record)
            #expect(
                try JSONDecoder().decode(TicketRecord.self, from: Data(StreamingJSONEncoder().encode(record))) == record
            )
        }
        let decision = try Fixture.decision()
        try agreesWithFoundation(decision)
        #expect(
            try JSONDecoder().decode(ConsolidatedDecision.self, from: Data(StreamingJSONEncoder().encode(decision)))
                == decision
        )
    }

    @Test func directWritersHoldTheSameFieldsAsTheirEncodableConformance() throws {
        var ticket = try #require(try preparedTickets().first)
        ticket.startedAt = 5
        ticket.errorMessage = "boom \"quoted\""
        ticket.metadata["z"] = "last"
        var record = TicketRecord(ticket: ticket, compensates: "tk-0")
        record.result = ExecutionResultPayload(success: true, output: ["b": "2", "a": "1"], logs: ["l1"])
        record.leaseExpiresAt = 99
        record.compensation = .pending
        for value in [record, TicketRecord(ticket: ticket)] {
            try agreesWithFoundation(value)
            #expect(
                try JSONDecoder().decode(TicketRecord.self, from: Data(StreamingJSONEncoder().encode(value))) == value
            )
        }
        var event = FlowCTelemetryEvent(eventType: .TICKET_COMPLETED, timestamp: 7)
        event.ticketId = "tk-1"
        event.success = true
        event.durationMs = 12
        event.result = ["k": "v"]
        event.metadata = ["attempt": .int(2), "epoch": .long(1 << 40), "note": .string("x"), "flag": .boolean(false)]
        for value in [event, FlowCTelemetryEvent(eventType: .FLOW_C_STARTED, timestamp: 1)] {
            try agreesWithFoundation(value)
            #expect(
                try JSONDecoder().decode(FlowCTelemetryEvent.self, from: Data(StreamingJSONEncoder().encode(value)))
                    == value
            )
        }
        let result = ExecutionResult(
            ticketId: "tk-1",
            status: .COMPLETED,
            result: ExecutionResultPayload(success: true, output: ["x": "1"]),
            agentId: "w-1",
            timestamp: 9
        )
        let events: [WorkflowEvent] = [
            .leased(ticketId: "tk-1", workerId: "w-1", expiresAt: 10),
            .heartbeat(ticketId: "tk-1", leaseEpoch: 2, expiresAt: 11),
            .completed(ticketId: "tk-1", leaseEpoch: 2, result: result),
            .completed(ticketId: "tk-1", leaseEpoch: nil, result: result),
            .failed(ticketId: "tk-1", leaseEpoch: 1, error: "e", retryable: true, result: nil),
            .cancelled(by: "op", reason: "r"),
        ]
        for event in events {
            let timed = TimedEvent(at: 5, event: event)
            try agreesWithFoundation(timed)
            #expect(
                try JSONDecoder().decode(TimedEvent.self, from: Data(StreamingJSONEncoder().encode(timed))) == timed
            )
        }
        // Inside a generic container too (history events, arrays of records).
        try agreesWithFoundation(["records": [record], "more": [TicketRecord(ticket: ticket)]])
    }

    @Test func workflowStatesAgreeWithFoundationAtEveryStage() throws {
        var harness = try WorkflowHarness.running([WorkflowFixture.task("a"), WorkflowFixture.task("b", ["a"])])
        var states = [harness.state]
        let ticket = WorkflowFixture.ticketId("a")
        try harness.apply(.leased(ticketId: ticket, workerId: "w", expiresAt: harness.clock.now + 1000))
        states.append(harness.state)
        try harness.apply(.cancelled(by: "op", reason: "stop"))
        states.append(harness.state)
        var bare = harness.state
        bare.tickets = []
        bare.pendingDecision = try Fixture.decision()
        states.append(bare)
        states.append(WorkflowState(workflowId: "w", decisionId: "d", planId: "p", intentId: "i", createdAt: 1))
        for state in states {
            try agreesWithFoundation(state)
            #expect(
                try JSONDecoder().decode(WorkflowState.self, from: Data(StreamingJSONEncoder().encode(state))) == state
            )
        }
    }

    @Test func scalarsStringsAndEscapes() throws {
        #expect(try StreamingJSONEncoder().string("a\"b\\c\n\t\u{01}/é") == #""a\"b\\c\n\t\u0001/é""#)
        #expect(try StreamingJSONEncoder().string(1.0) == "1")
        #expect(try StreamingJSONEncoder().string(0.25) == "0.25")
        #expect(try StreamingJSONEncoder().string(Int64.min) == "-9223372036854775808")
        #expect(try StreamingJSONEncoder().string([Bool?.none, true]) == "[null,true]")
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder().string(Double.nan) }
    }

    @Test func dictionaryKeysAreSortedSoTheSameValueGivesTheSameBytes() throws {
        let map = ["zeta": 1, "alpha": 2, "mid": 3]
        #expect(try StreamingJSONEncoder().string(map) == #"{"alpha":2,"mid":3,"zeta":1}"#)
        let nested: [String: [String: [Int]]] = ["b": ["y": [1, 2], "x": []], "a": [:]]
        #expect(try StreamingJSONEncoder().string(nested) == #"{"a":{},"b":{"x":[],"y":[1,2]}}"#)
    }

    struct Nested: Codable, Equatable {
        var name: String
        var inner: Inner?
        var list: [Inner]
        var optionalList: [Int]?
        struct Inner: Codable, Equatable {
            var x: Int
            var tags: [String: String]
        }
    }

    /// A type that opens nested containers by hand and asks for its container twice.
    struct HandWritten: Encodable {
        enum Keys: String, CodingKey { case a, b, c, d }
        func encode(to encoder: any Encoder) throws {
            var first = encoder.container(keyedBy: Keys.self)
            try first.encode(1, forKey: .a)
            var nested = first.nestedUnkeyedContainer(forKey: .b)
            try nested.encode("x")
            var deeper = nested.nestedContainer(keyedBy: Keys.self)
            try deeper.encode(true, forKey: .c)
            var again = encoder.container(keyedBy: Keys.self)
            try again.encodeNil(forKey: .d)
        }
    }

    @Test func nestedAndHandWrittenContainersCloseInTheRightPlace() throws {
        let value = Nested(
            name: "n",
            inner: .init(x: 1, tags: ["k": "v"]),
            list: [.init(x: 2, tags: [:]), .init(x: 3, tags: ["a": "b", "c": "d"])],
            optionalList: nil
        )
        try agreesWithFoundation(value)
        #expect(
            try JSONDecoder().decode(Nested.self, from: Data(StreamingJSONEncoder().encode(value))) == value
        )
        #expect(try StreamingJSONEncoder().string(HandWritten()) == #"{"a":1,"b":["x",{"c":true}],"d":null}"#)
        #expect(try StreamingJSONEncoder().string([Nested.Inner]()) == "[]")
    }

    @Test func foundationTypesUseFoundationsDefaults() throws {
        struct Stamped: Codable, Equatable {
            var at: Date
            var bytes: Data
            var link: URL
        }
        let value = Stamped(
            at: Date(timeIntervalSinceReferenceDate: 12.5),
            bytes: Data([1, 2, 3]),
            link: URL(string: "https://x.example/a")!
        )
        try agreesWithFoundation(value)
        #expect(try JSONDecoder().decode(Stamped.self, from: Data(StreamingJSONEncoder().encode(value))) == value)
    }
}

struct FlatStringMapJSONTests {
    @Test func readsFlatStringMapsAndRefusesEverythingElse() throws {
        let map = ["traceparent": "00-ab-cd-01", "q\"uote": "back\\slash\nline", "": "é/ü"]
        let text = try StreamingJSONEncoder().string(map)
        #expect(FlatStringMapJSON.parse(text) == map)
        #expect(FlatStringMapJSON.parse(" { \"a\" : \"b\" } ") == ["a": "b"])
        #expect(FlatStringMapJSON.parse("{}") == [:])
        for refused in [
            "", "{", "[]", "{\"a\":1}", "{\"a\":\"b\",}", "{\"a\":\"\\u0041\"}", "{\"a\":\"b\"} x", "{\"a\"\"b\"}",
        ] {
            #expect(FlatStringMapJSON.parse(refused) == nil, "\(refused)")
        }
    }
}
