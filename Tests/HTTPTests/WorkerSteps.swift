import HummingbirdTesting
import OrchestratorCore
import Testing

/// The calls a worker makes, with the checks every test relies on.
struct WorkerSteps {
    let client: any TestClientProtocol
    var workerId = "worker-1"

    /// Submits the example decision and returns its workflow id.
    @discardableResult
    func submitExample(_ decision: JSONValue? = nil) async throws -> String {
        let response = try await client.send(.post, "/api/v1/decisions", json: try decision ?? Examples.decision())
        #expect(response.status == .created, "\(response.text)")
        return try #require(try response.json["workflow_id"]?.string)
    }

    func register(capabilities: [String] = ["*"]) async throws {
        let response = try await client.send(
            .post,
            "/api/v1/workers/register",
            json: .object(["worker_id": .string(workerId), "capabilities": .array(capabilities.map(JSONValue.string))])
        )
        #expect(response.status == .ok, "\(response.text)")
    }

    /// The grants of one poll.
    func poll(max: Int = 1, waitMs: Int = 0) async throws -> [JSONValue] {
        let response = try await client.send(
            .post,
            "/api/v1/workers/\(workerId)/poll",
            json: .object(["max_tickets": .integer(Int64(max)), "wait_ms": .integer(Int64(waitMs))])
        )
        #expect(response.status == .ok, "\(response.text)")
        return try #require(try response.json["tickets"]?.array)
    }

    /// Exactly one grant, waiting for it up to five seconds.
    func pollOne() async throws -> Grant {
        let grants = try await poll(waitMs: 5000)
        try #require(grants.count == 1)
        return try Grant(grants[0])
    }

    func complete(_ ticketId: String, token: Int64, output: JSONValue = .object([:])) async throws -> TestResponse {
        try await client.send(
            .post,
            "/api/v1/tickets/\(ticketId)/complete",
            json: .object([
                "worker_id": .string(workerId), "fencing_token": .integer(token), "output": output,
                "logs": .array([.string("done")]), "actual_duration_ms": .integer(42),
            ])
        )
    }

    /// Leases and completes every ticket of the example chain in order.
    func runChain() async throws {
        for taskId in Examples.taskOrder {
            let grant = try await pollOne()
            #expect(grant.taskId == taskId)
            let response = try await complete(grant.ticketId, token: grant.token)
            #expect(response.status == .ok, "\(response.text)")
        }
    }
}

/// A lease grant as the poll answers it.
struct Grant {
    var ticketId: String
    var taskId: String
    var token: Int64
    var workflowId: String
    var raw: JSONValue

    init(_ json: JSONValue) throws {
        raw = json
        ticketId = try #require(json["ticket"]?["ticket_id"]?.string)
        taskId = try #require(json["ticket"]?["task_id"]?.string)
        token = try #require(json["fencing_token"]?.int)
        workflowId = try #require(json["workflow_id"]?.string)
    }
}
