import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import Testing

@Suite struct WorkflowQueryRoutesTests {
    @Test func startingFromAPlanStringAppliesPriorityAndDeadline() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let planText = String(decoding: try WireJSON.encode(try Examples.plan()), as: UTF8.self)
                let response = try await client.send(
                    .post,
                    "/api/v1/workflows/start",
                    json: .object([
                        "cognitive_plan": .string(planText), "correlation_id": .string("corr-42"),
                        "priority": .integer(9), "sla_deadline_seconds": .integer(30),
                    ])
                )
                #expect(response.status == .created, "\(response.text)")
                let started = try response.json
                #expect(started["workflow_id"]?.string == Examples.workflowId)
                #expect(started["created"]?.bool == true)
                #expect(started["status"]?.string == "RUNNING")

                let tickets = try await client.send(.get, "/api/v1/tickets/by-plan/\(Examples.planId)")
                for ticket in try #require(try tickets.json["tickets"]?.array) {
                    #expect(ticket["priority"]?.string == "CRITICAL")
                    #expect(ticket["correlation_id"]?.string == "corr-42")
                    let created = try #require(ticket["created_at"]?.int)
                    let deadline = try #require(ticket["sla"]?["deadline"]?.int)
                    #expect(deadline <= created + 30_000)
                }

                let again = try await client.send(
                    .post,
                    "/api/v1/workflows/start",
                    json: .object(["cognitive_plan": try Examples.plan()])
                )
                #expect(again.status == .ok)
                #expect(try again.json["created"]?.bool == false)
            }
        }
    }

    @Test(arguments: [
        ("priority", JSONValue.integer(11)),
        ("priority", JSONValue.string("high")),
        ("sla_deadline_seconds", JSONValue.integer(0)),
        ("cognitive_plan", JSONValue.string("{not a plan")),
    ])
    func startRefusesOutOfRangeFields(field: String, value: JSONValue) async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let body = JSONValue.object(["cognitive_plan": try Examples.plan()]).setting(field, value)
                let response = try await client.send(.post, "/api/v1/workflows/start", json: body)
                #expect(response.status == .unprocessableContent, "\(response.text)")
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "invalid_field")
                #expect(error["field"]?.string == field)
            }
        }
    }

    @Test func queriesAnswerStatusTicketsMetricsValidationAndHistory() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let workflowId = try await WorkerSteps(client: client).submitExample()
                func query(_ name: String, args: JSONValue? = nil) async throws -> JSONValue {
                    var body: [String: JSONValue] = ["query_name": .string(name)]
                    body["args"] = args
                    let response = try await client.send(
                        .post,
                        "/api/v1/workflows/\(workflowId)/query",
                        json: .object(body)
                    )
                    #expect(response.status == .ok, "\(response.text)")
                    let answer = try response.json
                    #expect(answer["query_name"]?.string == name)
                    return try #require(answer["result"])
                }
                let status = try await query("status")
                #expect(status["status"]?.string == "RUNNING")
                #expect(status["tickets_by_phase"]?["READY"]?.int == 1)
                #expect(status["tickets_by_phase"]?["WAITING"]?.int == 3)
                #expect(try await query("tickets").array?.count == 4)
                let metrics = try await query("metrics")
                #expect(metrics["total"]?.int == 4)
                #expect(metrics["successful"]?.int == 0)
                #expect(try await query("validation")["valid"]?.bool == true)
                let history = try await query("history", args: .object(["limit": .integer(1)]))
                #expect(history["entries"]?.array?.count == 1)

                let unknown = try await client.send(
                    .post,
                    "/api/v1/workflows/\(workflowId)/query",
                    json: .object(["query_name": .string("mood")])
                )
                #expect(unknown.status == .unprocessableContent)
                let error = try #require(try unknown.json["error"])
                #expect(error["field"]?.string == "query_name")
                for name in ["status", "tickets", "metrics", "validation", "history"] {
                    #expect(error["message"]?.string?.contains(name) == true)
                }
                let missing = try await client.send(
                    .post,
                    "/api/v1/workflows/orch-nope/query",
                    json: .object(["query_name": .string("status")])
                )
                #expect(missing.status == .notFound)
            }
        }
    }
}
