import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import OrchestratorHTTP
import Testing

@Suite struct ServiceRoutesTests {
    @Test func healthNamesTheServiceAndVersion() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, "/health")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let body = try response.json
                #expect(body["status"]?.string == "healthy")
                #expect(body["service"]?.string == "orchestrator-dynamic")
                #expect(body["version"]?.string == "9.9.9-test")
            }
        }
    }

    @Test func readyWhenTheDatabaseAnswersAndTheEngineRuns() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, "/ready")
                #expect(response.status == .ok)
                let body = try response.json
                #expect(body["status"]?.string == "ready")
                #expect(body["checks"]?["database"]?.string == "ok")
                #expect(body["checks"]?["engine"]?.string == "running")
            }
        }
    }

    @Test func notReadyOnceTheEngineHasStopped() async throws {
        try await TestServer.with(start: false) { server in
            let running = Task { try await server.engine.run() }
            try await waitUntil("the engine runs", seconds: 60) { server.engine.isRunning }
            running.cancel()
            _ = await running.result
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, "/ready")
                #expect(response.status == .serviceUnavailable)
                let body = try response.json
                #expect(body["status"]?.string == "not_ready")
                #expect(body["checks"]?["database"]?.string == "ok")
                #expect(body["checks"]?["engine"]?.string == "not running")
                #expect(body["error"]?["code"]?.string == "not_ready")
                // Commands to a stopped engine are 503 with the error envelope.
                let submit = try await client.send(.post, "/api/v1/decisions", json: try Examples.decision())
                #expect(submit.status == .serviceUnavailable)
                #expect(try submit.json["error"]?["code"]?.string == "unavailable")
            }
        }
    }

    @Test func metricsShowWhatTheEngineRecorded() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                try await WorkerSteps(client: client).submitExample()
                let response = try await client.send(.get, "/metrics")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let lines = response.text.split(separator: "\n")
                let started = lines.filter { $0.hasPrefix("orchestration_workflows_started_total{") }
                #expect(started.count == 1, "\(response.text)")
                #expect(started.first?.contains(#"status="RUNNING""#) == true)
                #expect(started.first?.contains(#"risk_band="medium""#) == true)
                #expect(started.first?.hasSuffix(" 1") == true)
            }
        }
    }

    /// The engine's own gauges and histograms, and the process series, follow what happens.
    @Test func metricsShowTheEnginesLoadAndTheProcess() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let steps = WorkerSteps(client: client)
                _ = try await steps.submitExample()
                try await steps.register()
                _ = try await steps.pollOne()
                let text = try await client.send(.get, "/metrics").text
                func value(_ series: String) -> Double? {
                    text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
                        .flatMap { Double($0.split(separator: " ").last!) }
                }
                #expect(value("orchestrator_leases_active") == 1, "\(text)")
                #expect(value("orchestration_workflows_active") == 1)
                #expect((value("orchestrator_engine_commit_duration_seconds_count") ?? 0) >= 2)
                #expect((value("orchestrator_engine_commits_total") ?? 0) >= 2)
                #expect((value("process_resident_memory_bytes") ?? 0) > 1_000_000)
                #expect((value("process_open_fds") ?? 0) > 3)
                #expect((value("process_start_time_seconds") ?? 0) > 1_700_000_000)
            }
        }
    }

    @Test func metricsAreNotFoundWithoutARegistry() async throws {
        try await TestServer.with { server in
            let app = Application(
                router: buildRouter(engine: server.engine, options: server.options, metrics: nil, access: .none),
                logger: quietLogger
            )
            try await app.test(.router) { client in
                let response = try await client.send(.get, "/metrics")
                #expect(response.status == .notFound)
                #expect(try response.json["error"]?["code"]?.string == "not_found")
            }
        }
    }

    @Test func unknownRoutesAnswerTheErrorEnvelope() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, "/api/v1/nothing-here")
                #expect(response.status == .notFound)
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "not_found")
                #expect(error["message"]?.string?.isEmpty == false)
            }
        }
    }

    /// A path the API serves, asked with a method it does not answer there: 405 naming the methods
    /// in `Allow`, not the router's 404. An unknown path stays 404.
    @Test func aWrongMethodIs405WithAllow() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let health = try await client.execute(uri: "/health", method: .delete)
                #expect(health.status == .methodNotAllowed)
                #expect(health.headers[.allow] == "GET")
                #expect(try health.json["error"]?["code"]?.string == "method_not_allowed")
                let approve = try await client.execute(uri: "/api/v1/workflows/orch-x/approve", method: .get)
                #expect(approve.status == .methodNotAllowed)
                #expect(approve.headers[.allow] == "POST")
                let unknown = try await client.execute(uri: "/api/v1/nothing-here", method: .get)
                #expect(unknown.status == .notFound)
            }
        }
    }
}
