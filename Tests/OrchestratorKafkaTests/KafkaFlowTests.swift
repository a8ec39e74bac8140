import Foundation
import Kafka
import OrchestratorCore
import OrchestratorEngine
import OrchestratorKafka
import OrchestratorStore
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct KafkaFlowTests {
    static let planId = "6f1c2a9e-1111-4c1d-9a7e-000000000001"
    static let workflowId = "orch-6f1c2a9e-1111-4c1d-9a7e-000000000001"

    @Test(arguments: KafkaSettings.MessageFormat.allCases)
    func aDecisionFromTheBusRunsToCompletionOnBusResults(format: KafkaSettings.MessageFormat) async throws {
        let harness = try KafkaFlowHarness(format: format)
        let tickets = try harness.outputConsumer(["execution.tickets"])
        var decision = try Examples.decision()
        if format == .avro { decision = try ModelCodec.encode(json: Data(decision), as: .consolidatedDecision) }
        try await harness.publish("plans.consensus", key: Self.planId, decision)

        // The chain of four tasks: each ticket is published when it becomes ready; answer each.
        var seen: [ExecutionTicket] = []
        for _ in 0..<4 {
            let batch = await collect(tickets) { !$0.isEmpty }
            let message = try #require(batch.first, "a ticket is published (after \(seen.count))")
            #expect(message.keyText == Self.planId)
            #expect(message.header("traceparent")?.text?.hasPrefix("00-") == true)
            let ticket: ExecutionTicket =
                switch format {
                case .json: try WireJSON.decode(ExecutionTicket.self, from: Data(message.value))
                case .avro: try AvroBridge.decode(ExecutionTicket.self, from: message.value, as: .executionTicket)
                }
            #expect(ticket.planId == Self.planId)
            seen.append(ticket)
            let result = ExecutionResult(
                ticketId: ticket.ticketId,
                status: .COMPLETED,
                result: ExecutionResultPayload(success: true, output: ["exit_code": "0"]),
                actualDurationMs: 12,
                agentId: "bus-worker",
                timestamp: 1_900_000_000_000
            )
            let value =
                switch format {
                case .json: Array(try WireJSON.encode(result))
                case .avro: try AvroBridge.encode(result, as: .executionResult)
                }
            try await harness.publish("execution.results", key: ticket.ticketId, value)
        }
        #expect(Set(seen.map(\.ticketId)).count == 4)
        let finished = try await eventually {
            try await harness.engine.workflow(Self.workflowId)?.status == .COMPLETED
        }
        #expect(finished)

        // A duplicate result (the ticket is finished) changes nothing and is a dead letter with the reason.
        let duplicate = ExecutionResult(
            ticketId: seen[0].ticketId,
            status: .FAILED,
            result: ExecutionResultPayload(success: false),
            errorMessage: "late",
            agentId: "bus-worker",
            timestamp: 1_900_000_000_000
        )
        let duplicateValue =
            switch format {
            case .json: Array(try WireJSON.encode(duplicate))
            case .avro: try AvroBridge.encode(duplicate, as: .executionResult)
            }
        try await harness.publish("execution.results", key: seen[0].ticketId, duplicateValue)
        // A result for an unknown ticket and an unreadable decision become dead letters.
        var unknown = duplicate
        unknown.ticketId = "no-such-ticket"
        let unknownValue =
            switch format {
            case .json: Array(try WireJSON.encode(unknown))
            case .avro: try AvroBridge.encode(unknown, as: .executionResult)
            }
        try await harness.publish("execution.results", key: "no-such-ticket", unknownValue)
        try await harness.publish("plans.consensus", key: "broken", Array("{\"decision_id\": ".utf8))
        let letters = try await eventually {
            try await harness.engine.store.deadLetters(DeadLetterFilter()).count >= 3
        }
        #expect(letters)
        let stored = try await harness.engine.store.deadLetters(DeadLetterFilter())
        #expect(stored.count == 3)
        #expect(Set(stored.map(\.topic)) == ["execution.results", "plans.consensus"])
        let results = stored.filter { $0.topic == "execution.results" }
        #expect(Set(results.compactMap(\.key)) == [seen[0].ticketId, "no-such-ticket"])
        let refused = results.first { $0.key == seen[0].ticketId }
        #expect(refused?.reason.contains("refused") == true, "\(String(describing: refused?.reason))")
        #expect(stored.first { $0.topic == "plans.consensus" }?.payload == Array("{\"decision_id\": ".utf8))
        let state = try #require(try await harness.engine.workflow(Self.workflowId))
        #expect(state.status == .COMPLETED)
        #expect(state.tickets.allSatisfy { $0.phase == .COMPLETED })
        await tickets.close()
        await harness.stop()
    }

    @Test func aPlanOnPlansReadyIsPickedUpByALaterDecision() async throws {
        let harness = try KafkaFlowHarness()
        let decisionJSON = try JSONSerialization.jsonObject(with: Data(Examples.decision())) as! [String: Any]
        let planText = try #require(decisionJSON["cognitive_plan"] as? String)
        try await harness.publish("plans.ready", key: "domain", Array(planText.utf8))
        let inLedger = try await eventually { try await harness.engine.store.plan(Self.planId) != nil }
        #expect(inLedger)
        var withoutPlan = decisionJSON
        withoutPlan.removeValue(forKey: "cognitive_plan")
        try await harness.publish(
            "plans.consensus",
            key: Self.planId,
            Array(try JSONSerialization.data(withJSONObject: withoutPlan))
        )
        let running = try await eventually {
            try await harness.engine.workflow(Self.workflowId)?.status == .RUNNING
        }
        #expect(running)
        #expect(try await harness.engine.workflow(Self.workflowId)?.tickets.count == 4)
        await harness.stop()
    }

    @Test func theSinkIsNotReadyWhileTheBrokerIsDownAndDeliversAfterwards() async throws {
        let harness = try KafkaFlowHarness()
        #expect(await harness.sink.readinessProblem() == nil)
        try harness.cluster.setBroker(1, up: false)
        let before = harness.sink.producer
        let message = StoredOutboxMessage(
            sequence: 1,
            message: OutboxMessage(
                topic: .incidents,
                key: "incident-1",
                payload: "{}",
                headers: ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
                workflowId: "wf",
                createdAt: 1
            )
        )
        await #expect(throws: KafkaSinkError.self) { try await harness.sink.deliver([message]) }
        let problem = await harness.sink.readinessProblem()
        #expect(problem?.contains("not delivered") == true, "\(problem ?? "nil")")
        // A failed batch replaces the producer (a new producer id for the next attempt).
        #expect(harness.sink.producer !== before)
        try harness.cluster.setBroker(1, up: true)
        let delivered = await eventually {
            (try? await harness.sink.deliver([message])) != nil
        }
        #expect(delivered)
        #expect(await harness.sink.readinessProblem() == nil)
        await harness.stop()
    }
}
