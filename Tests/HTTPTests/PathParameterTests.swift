import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import Testing

/// Ids in request paths are percent-decoded once, for every route, and held to the id limits.
@Suite struct PathParameterTests {
    /// `id` escaped for a path segment.
    func escaped(_ id: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }

    /// The example decision with its plan (and the plan inside) renamed to `planId`.
    func decision(planId: String) throws -> JSONValue {
        let plan = try Examples.plan().setting("plan_id", .string(planId))
        let text = String(decoding: try WireJSON.encode(plan), as: UTF8.self)
        return try Examples.decision()
            .setting("plan_id", .string(planId))
            .setting("cognitive_plan", .string(text))
            .setting("final_decision", .string("review_required"))
    }

    @Test func anEscapedUnreservedCharacterNamesTheSameWorkflow() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                try await WorkerSteps(client: client).submitExample()
                let escapedP = Examples.workflowId.replacingOccurrences(of: "orch-6", with: "orch-%36")
                let response = try await client.send(.get, "/api/v1/workflows/\(escapedP)")
                #expect(response.status == .ok, "\(response.text)")
                #expect(try response.json["workflow_id"]?.string == Examples.workflowId)
            }
        }
    }

    @Test func aPlanIdWithASpaceAndAnAccentCanBeReadApprovedAndCancelled() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let planId = "plan é 1"
                let workflowId = try await WorkerSteps(client: client).submitExample(try decision(planId: planId))
                #expect(workflowId == "orch-plan é 1")
                let path = "/api/v1/workflows/\(escaped(workflowId))"

                let read = try await client.send(.get, path)
                #expect(read.status == .ok, "\(read.text)")
                #expect(try read.json["plan_id"]?.string == planId)
                #expect(try await client.send(.get, "\(path)/history").status == .ok)

                let approved = try await client.send(.post, "\(path)/approve")
                #expect(approved.status == .ok, "\(approved.text)")
                #expect(try approved.json["status"]?.string == "RUNNING")

                let tickets = try await client.send(.get, "/api/v1/tickets/by-plan/\(escaped(planId))")
                #expect(tickets.status == .ok, "\(tickets.text)")
                let first = try #require(try tickets.json["tickets"]?[0]?["ticket_id"]?.string)
                #expect(try await client.send(.get, "/api/v1/tickets/\(escaped(first))").status == .ok)

                let cancelled = try await client.send(.post, "\(path)/cancel")
                #expect(cancelled.status == .ok, "\(cancelled.text)")
                #expect(try cancelled.json["status"]?.string == "CANCELLED")
            }
        }
    }

    @Test func aWorkerWithANonASCIIIdAndASpaceCanPoll() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client, workerId: "wörker 1")
                try await worker.submitExample()
                try await worker.register()
                let response = try await client.send(
                    .post,
                    "/api/v1/workers/w%C3%B6rker%201/poll",
                    json: .object(["max_tickets": .integer(1), "wait_ms": .integer(5000)])
                )
                #expect(response.status == .ok, "\(response.text)")
                let grant = try Grant(try #require(try response.json["tickets"]?[0]))
                let completed = try await worker.complete(
                    escaped(grant.ticketId),
                    token: grant.token,
                    secret: grant.raw["lease_secret"]?.string
                )
                #expect(completed.status == .ok, "\(completed.text)")
            }
        }
    }

    @Test(
        arguments: [
            ("/api/v1/workflows/orch-\(String(repeating: "x", count: 257))", "workflow_id", "at most 261"),
            ("/api/v1/tickets/\(String(repeating: "%C3%A9", count: 129))", "ticket_id", "at most 256"),
            ("/api/v1/tickets/by-plan/p%0A1", "plan_id", "control characters"),
            ("/api/v1/workflows/orch-%E9", "workflow_id", "percent-encoding"),
        ]
    )
    func anIdOutsideTheLimitsIsA422NamingTheParameter(path: String, field: String, words: String) async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, path)
                #expect(response.status == .unprocessableContent, "\(response.text)")
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "invalid_field")
                #expect(error["field"]?.string == field)
                #expect(error["message"]?.string?.contains(words) == true, "\(error)")
            }
        }
    }

    @Test func aWorkerIdOutsideTheLimitsCannotRegister() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(
                    .post,
                    "/api/v1/workers/register",
                    json: .object(["worker_id": .string("w\u{7}1")])
                )
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(try response.json["error"]?["field"]?.string == "worker_id")
            }
        }
    }
}
