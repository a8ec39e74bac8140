import Foundation
import OrchestratorCore
import Testing

@testable import OrchestratorWorker

@Suite("HTTPWorker against a stub of the REST API")
struct HTTPWorkerTests {
    /// Starts a worker on `stub`; returns it, its task and its client.
    private func startWorker(
        _ stub: APIStubServer,
        concurrency: Int = 2,
        workerId: String = "http-worker"
    ) -> (HTTPWorker, Task<Void, any Error>, OrchestratorClient) {
        let client = OrchestratorClient(baseURL: stub.baseURL)
        let worker = HTTPWorker(
            client: client,
            workerId: workerId,
            concurrency: concurrency,
            executor: ReferenceExecutor(options: ExecutorOptions(simulationScale: 0)),
            pollWaitMs: 200,
            drainGraceMs: 1000,
            maxBackoffMs: 300,
            logger: testLogger("http-worker")
        )
        return (worker, Task { try await worker.run() }, client)
    }

    private func stop(_ task: Task<Void, any Error>, _ client: OrchestratorClient) async {
        task.cancel()
        _ = try? await task.value
        await client.shutdown()
    }

    private func reports(_ stub: APIStubServer) async throws -> [[String: JSONValue]] {
        try await stub.calls().filter { $0["kind"] == .string("complete") || $0["kind"] == .string("fail") }
    }

    @Test func ticketsAreExecutedHeartbeatedAndReportedWithTheirFencingTokens() async throws {
        let stub = try await APIStubServer.start()
        defer { stub.stop() }
        try await stub.enqueue([
            makeTicket(id: "t-noop", parameters: ["work": "noop"]),
            makeTicket(id: "t-fail", parameters: ["work": "fail", "retryable": "false"]),
            makeTicket(id: "t-sleep", parameters: ["work": "sleep", "sleep_ms": "350"]),
        ])
        let (worker, task, client) = startWorker(stub)
        let done = try await eventually(timeout: .seconds(20)) { try await reports(stub).count == 3 }
        await stop(task, client)
        #expect(done)

        let registration = try #require(try await stub.calls("register").first?["body"])
        #expect(registration.member("worker_id") == .string("http-worker"))
        #expect(registration.member("capabilities") == .array([.string("*")]))
        #expect(registration.member("labels")?.member("kind") == .string("http"))

        let byTicket = Dictionary(
            try await reports(stub).map { (($0["path"]?.scalarText ?? "").split(separator: "/")[3], $0) },
            uniquingKeysWith: { first, _ in first }
        )
        let noop = try #require(byTicket["t-noop"])
        #expect(noop["kind"] == .string("complete"))
        #expect(noop["body"]?.member("worker_id") == .string("http-worker"))
        #expect(noop["body"]?.member("output")?.member("work") == .string("noop"))
        #expect(noop["body"]?.member("metadata")?.member("attempt") == .string("0"))
        let failed = try #require(byTicket["t-fail"])
        #expect(failed["kind"] == .string("fail"))
        #expect(failed["body"]?.member("retryable") == .bool(false))
        #expect(failed["body"]?.member("error_message")?.scalarText?.contains("injected failure") == true)
        let slept = try #require(byTicket["t-sleep"])
        #expect((slept["body"]?.member("actual_duration_ms")?.integer ?? 0) >= 350)

        let token = slept["body"]?.member("fencing_token")
        let heartbeats = try await stub.calls("heartbeat").filter {
            $0["path"]?.scalarText?.contains("t-sleep") == true
        }
        #expect(!heartbeats.isEmpty)
        #expect(heartbeats.allSatisfy { $0["body"]?.member("fencing_token") == token })

        let counters = worker.counters
        #expect(counters.completed == 2)
        #expect(counters.failed == 1)
        #expect(counters.rejected == 0)
        #expect(counters.inFlight == 0)
    }

    @Test func aRefusedReportIsSkipped() async throws {
        let stub = try await APIStubServer.start()
        defer { stub.stop() }
        try await stub.enqueue([makeTicket(id: "t-stale", parameters: ["work": "noop"])], conflictOnReport: true)
        try await stub.enqueue([makeTicket(id: "t-fresh", parameters: ["work": "noop"])])
        let (worker, task, client) = startWorker(stub, concurrency: 1)
        let done = await eventually(timeout: .seconds(20)) { worker.counters.completed == 1 }
        await stop(task, client)
        #expect(done)
        #expect(worker.counters.rejected == 1)
        #expect(try await reports(stub).count == 2)
    }

    @Test func theWorkerOutlivesAServerRestartAndRegistersAgain() async throws {
        let first = try await APIStubServer.start()
        try await first.enqueue([makeTicket(id: "t-before", parameters: ["work": "noop"])])
        let (worker, task, client) = startWorker(first, concurrency: 1)
        let before = await eventually(timeout: .seconds(20)) { worker.counters.completed == 1 }
        first.stop()
        try await Task.sleep(for: .milliseconds(300))
        let second = try await APIStubServer.start(port: first.server.port)
        defer { second.stop() }
        try await second.enqueue([makeTicket(id: "t-after", parameters: ["work": "noop"])])
        let after = await eventually(timeout: .seconds(20)) { worker.counters.completed == 2 }
        await stop(task, client)
        #expect(before)
        #expect(after)
        #expect(try await second.calls("register").count == 1)
        #expect(try await second.calls("complete").count == 1)
    }

    @Test func aRefusedRegistrationEndsTheRun() async throws {
        let stub = try await APIStubServer.start()
        defer { stub.stop() }
        let (_, task, client) = startWorker(stub, workerId: "")
        let error = await #expect(throws: ClientError.self) { try await task.value }
        await client.shutdown()
        #expect(error?.status == 400)
    }
}
