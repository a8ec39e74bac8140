import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import Testing

/// What the API refuses in a body, and how it says so.
@Suite struct InputStrictnessTests {
    func error(_ response: TestResponse) throws -> JSONValue {
        try #require(try response.json["error"])
    }

    @Test func aDuplicateKeyIsA400NamingTheKey() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let text = #"{"decision_id": "d-1", "plan_id": "p-1", "plan_id": "p-2", "final_decision": "approve"}"#
                let response = try await client.send(.post, "/api/v1/decisions", text: text)
                #expect(response.status == .badRequest)
                let error = try error(response)
                #expect(error["code"]?.string == "invalid_json")
                #expect(error["field"]?.string == "plan_id")
                #expect(error["message"]?.string?.contains(#"duplicate key "plan_id" at line 1, column 42"#) == true)

                let poll = try await client.send(
                    .post,
                    "/api/v1/workers/register",
                    text: #"{"worker_id": "w-1", "worker_id": "w-2"}"#
                )
                #expect(poll.status == .badRequest)
                #expect(try self.error(poll)["field"]?.string == "worker_id")
            }
        }
    }

    @Test func aDocumentNestedTooDeeplyIsA400NamingTheLimit() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let text = #"{"decision_id": "#.appending(String(repeating: "[", count: 100_000))
                for path in ["/api/v1/decisions", "/api/v1/plans", "/api/v1/workers/register"] {
                    let response = try await client.send(.post, path, text: text)
                    #expect(response.status == .badRequest, "\(path)")
                    let message = try error(response)["message"]?.string ?? ""
                    #expect(message.contains("nested deeper than the limit of 64 levels"), "\(path): \(message)")
                }
            }
        }
    }

    @Test func aNonStringDecisionIdIsA422NamingTheField() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let decision = try Examples.decision().setting("decision_id", .object([:]))
                let response = try await client.send(.post, "/api/v1/decisions", json: decision)
                #expect(response.status == .unprocessableContent, "\(response.text)")
                let error = try error(response)
                #expect(error["code"]?.string == "invalid_field")
                #expect(error["field"]?.string == "decision_id")
            }
        }
    }

    @Test func aPlanIdOverTheLimitIsA422NamingTheField() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let plan = try Examples.plan().setting("plan_id", .string(String(repeating: "p", count: 257)))
                let response = try await client.send(.post, "/api/v1/plans", json: plan)
                #expect(response.status == .unprocessableContent, "\(response.text)")
                let error = try error(response)
                #expect(error["field"]?.string == "plan_id")
                #expect(error["message"]?.string?.contains("at most 256 UTF-8 bytes") == true)
            }
        }
    }

    @Test func aDecisionWithISOTimestampsIsAcceptedAndKeptAsEpochMillis() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let plan = try Examples.plan()
                    .setting("created_at", .string("2025-10-28T20:17:02Z"))
                    .setting("valid_until", .string("2099-01-01T00:00:00.000+00:00"))
                let text = String(decoding: try WireJSON.encode(plan), as: UTF8.self)
                let decision = try Examples.decision()
                    .setting("created_at", .string("2025-10-28T20:17:02.250Z"))
                    .setting("valid_until", .string("2099-01-01T01:00:00+01:00"))
                    .setting("cognitive_plan", .string(text))
                let workflowId = try await WorkerSteps(client: client).submitExample(decision)
                let view = try await client.send(.get, "/api/v1/workflows/\(workflowId)/history")
                #expect(view.status == .ok)
                let accepted = try #require(try view.json["entries"]?[0]?["event"])
                #expect("\(accepted)".contains("1761682622250"), "\(accepted)")
            }
        }
    }
}
