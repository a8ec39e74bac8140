import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import OrchestratorHTTP
import OrchestratorStore
import Testing

@Suite struct DeadLetterRoutesTests {
    @Test func deadLettersAreListedFilteredAndPaged() async throws {
        try await TestServer.with { server in
            for (topic, offset) in [("plans.consensus", 4), ("execution.results", 9), ("plans.consensus", 5)] {
                try await server.store.saveDeadLetter(
                    DeadLetter(
                        topic: topic,
                        partition: 0,
                        offset: Int64(offset),
                        key: "k\(offset)",
                        payload: Array("{not json".utf8),
                        reason: "not valid JSON",
                        recordedAt: 1_700_000_000_000
                    )
                )
            }
            try await server.application.test(.router) { client in
                let all = try await client.send(.get, "/api/v1/dead-letters")
                #expect(all.status == .ok)
                let body = try all.json
                #expect(body["count"]?.int == 3)
                let first = try #require(body["dead_letters"]?[0])
                #expect(first["topic"]?.string == "plans.consensus")
                #expect(first["offset"]?.int == 4)
                #expect(first["key"]?.string == "k4")
                #expect(first["payload_text"]?.string == "{not json")
                #expect(first["payload_base64"]?.string == Data("{not json".utf8).base64EncodedString())
                #expect(first["payload_size"]?.int == 9)
                #expect(first["truncated"]?.bool == false)
                #expect(first["reason"]?.string == "not valid JSON")

                let consensus = try await client.send(
                    .get,
                    "/api/v1/dead-letters?topic=plans.consensus&limit=1&offset=1"
                )
                let page = try consensus.json
                #expect(page["count"]?.int == 1)
                #expect(page["dead_letters"]?[0]?["offset"]?.int == 5)

                let bad = try await client.send(.get, "/api/v1/dead-letters?limit=0")
                #expect(bad.status == .badRequest)
            }
        }
    }

    @Test func aFailingReadinessCheckMakesTheServiceNotReady() async throws {
        try await TestServer.with { server in
            let app = Application(
                router: buildRouter(
                    engine: server.engine,
                    options: server.options,
                    metrics: nil,
                    readiness: [
                        ReadinessCheck(name: "kafka") { "broker 127.0.0.1:1 unreachable" },
                        ReadinessCheck(name: "other") { nil },
                    ],
                    access: .none
                ),
                logger: quietLogger
            )
            try await app.test(.router) { client in
                let response = try await client.send(.get, "/ready")
                #expect(response.status == .serviceUnavailable)
                let body = try response.json
                #expect(body["checks"]?["kafka"]?.string == "error: broker 127.0.0.1:1 unreachable")
                #expect(body["checks"]?["other"]?.string == "ok")
                #expect(body["checks"]?["engine"]?.string == "running")
                #expect(body["error"]?["message"]?.string?.contains("kafka: broker") == true)
            }
        }
    }
}
