import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import Testing

@Suite struct WorkerRoutesTests {
    @Test func aRegisteredWorkerIsListedWithItsLeaseSettings() async throws {
        try await TestServer.with(configuration: .leases(ttlMs: 9000)) { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(
                    .post,
                    "/api/v1/workers/register",
                    json: .object([
                        "worker_id": .string("builder-7"), "capabilities": .array([.string("python")]),
                        "labels": .object(["zone": .string("a")]),
                    ])
                )
                #expect(response.status == .ok)
                let snapshot = try response.json
                #expect(snapshot["worker_id"]?.string == "builder-7")
                #expect(snapshot["lease_ttl_ms"]?.int == 9000)
                #expect(snapshot["heartbeat_interval_ms"]?.int == 3000)

                let list = try await client.send(.get, "/api/v1/workers")
                let workers = try #require(try list.json["workers"]?.array)
                #expect(workers.count == 1)
                #expect(workers.first?["labels"]?["zone"]?.string == "a")
            }
        }
    }

    @Test func registeringWithoutAWorkerIdIsA422() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(
                    .post,
                    "/api/v1/workers/register",
                    json: .object(["capabilities": .array([])])
                )
                #expect(response.status == .unprocessableContent)
                #expect(try response.json["error"]?["field"]?.string == "worker_id")
            }
        }
    }

    @Test func anUnregisteredWorkerCannotPoll() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.execute(uri: "/api/v1/workers/ghost/poll", method: .post)
                #expect(response.status == .notFound)
                #expect(try response.json["error"]?["message"]?.string?.contains("ghost") == true)
            }
        }
    }

    @Test func aWorkerOnlyGetsTicketsItsCapabilitiesMatch() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                var worker = WorkerSteps(client: client)
                try await worker.submitExample()
                worker.workerId = "helm-only"
                try await worker.register(capabilities: ["kubernetes", "helm"])
                #expect(try await worker.poll(waitMs: 50).isEmpty)
                worker.workerId = "validator"
                try await worker.register(capabilities: ["python", "validation"])
                let grants = try await worker.poll(max: 4)
                #expect(grants.count == 1)
                #expect(grants.first?["ticket"]?["task_id"]?.string == Examples.taskOrder[0])
            }
        }
    }
}
