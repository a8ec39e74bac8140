import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import OrchestratorHTTP
import Testing

@Suite struct IntakeRoutesTests {
    @Test func aDecisionIsAcceptedOnceAndThenAnsweredIdempotently() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let first = try await client.send(.post, "/api/v1/decisions", json: try Examples.decision())
                #expect(first.status == .created)
                let created = try first.json
                #expect(created["workflow_id"]?.string == Examples.workflowId)
                #expect(created["created"]?.bool == true)
                #expect(created["status"]?.string == "RUNNING")
                #expect(created["validation"]?["valid"]?.bool == true)

                let again = try await client.send(.post, "/api/v1/decisions", json: try Examples.decision())
                #expect(again.status == .ok)
                let repeated = try again.json
                #expect(repeated["workflow_id"]?.string == Examples.workflowId)
                #expect(repeated["created"]?.bool == false)
            }
        }
    }

    @Test func anAvroDecisionIsRead() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let decision = try JSONDecoder().decode(
                    ConsolidatedDecision.self,
                    from: WireJSON.encode(try Examples.decision())
                )
                let bytes = try AvroBridge.encode(decision, as: .consolidatedDecision)
                for contentType in ["avro/binary", "application/vnd.apache.avro+binary"] {
                    let response = try await client.send(
                        .post,
                        "/api/v1/decisions",
                        bytes: bytes,
                        contentType: contentType
                    )
                    #expect(response.status == (contentType == "avro/binary" ? .created : .ok), "\(response.text)")
                    #expect(try response.json["workflow_id"]?.string == Examples.workflowId)
                }
                let garbage = try await client.send(
                    .post,
                    "/api/v1/decisions",
                    bytes: [0x02, 0xff, 0xff, 0xff],
                    contentType: "avro/binary"
                )
                #expect(garbage.status == .badRequest)
                #expect(try garbage.json["error"]?["code"]?.string == "invalid_avro")
            }
        }
    }

    @Test func malformedJSONIsA400NamingTheProblem() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.post, "/api/v1/decisions", text: #"{"decision_id": "d-1", "#)
                #expect(response.status == .badRequest)
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "invalid_json")
                let message = try #require(error["message"]?.string)
                #expect(message.contains("JSON"), "\(message)")
                #expect(message.contains("not valid JSON at line 1, column 24"), "\(message)")
            }
        }
    }

    @Test func aMissingDecisionIdIsA422NamingTheField() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let decision = try Examples.decision().setting("decision_id", nil)
                let response = try await client.send(.post, "/api/v1/decisions", json: decision)
                #expect(response.status == .unprocessableContent)
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "invalid_field")
                #expect(error["field"]?.string == "decision_id")
                #expect(error["message"]?.string?.contains("decision_id") == true)
            }
        }
    }

    @Test func aFieldOfTheWrongTypeIsA422NamingItsPath() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let decision = try Examples.decision().setting("specialist_votes", .string("many"))
                let response = try await client.send(.post, "/api/v1/decisions", json: decision)
                #expect(response.status == .unprocessableContent)
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "invalid_field")
                #expect(error["field"]?.string == "specialist_votes")
            }
        }
    }

    @Test func aBodyOverTheLimitIsA413() async throws {
        let options = HTTPOptions(maxBodyBytes: 1024, maxWorkerBodyBytes: 64)
        try await TestServer.with(options: options) { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.post, "/api/v1/decisions", json: try Examples.decision())
                #expect(response.status == .contentTooLarge)
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "payload_too_large")
                #expect(error["message"]?.string?.contains("1024") == true)

                let register = try await client.send(
                    .post,
                    "/api/v1/workers/register",
                    json: .object([
                        "worker_id": .string("w"),
                        "capabilities": .array(Array(repeating: .string("python"), count: 20)),
                    ])
                )
                #expect(register.status == .contentTooLarge)
            }
        }
    }

    @Test func aPlanIsKeptAndStartedOnRequest() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let plan = try Examples.plan()
                let kept = try await client.send(.post, "/api/v1/plans?start=false", json: plan)
                #expect(kept.status == .accepted)
                #expect(try kept.json["plan_id"]?.string == Examples.planId)
                #expect(try kept.json["workflow"]?.isNull == true)

                let started = try await client.send(.post, "/api/v1/plans?start=true", json: plan)
                #expect(started.status == .accepted)
                let workflow = try #require(try started.json["workflow"])
                #expect(workflow["workflow_id"]?.string == Examples.workflowId)
                #expect(workflow["created"]?.bool == true)

                let badFlag = try await client.send(.post, "/api/v1/plans?start=perhaps", json: plan)
                #expect(badFlag.status == .badRequest)
                #expect(try badFlag.json["error"]?["field"]?.string == "start")

                let noId = try await client.send(.post, "/api/v1/plans", json: plan.setting("plan_id", nil))
                #expect(noId.status == .unprocessableContent)
                #expect(try noId.json["error"]?["field"]?.string == "plan_id")
            }
        }
    }
}
