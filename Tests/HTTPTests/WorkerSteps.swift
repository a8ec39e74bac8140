import HummingbirdTesting
import OrchestratorCore
import Synchronization
import Testing

/// The lease secrets of the grants a ``WorkerSteps`` received, by ticket and fencing token.
final class LeaseBook: Sendable {
    private let secrets = Mutex<[String: String]>([:])

    func note(_ grant: JSONValue) {
        guard let ticketId = grant["ticket"]?["ticket_id"]?.string, let token = grant["fencing_token"]?.int,
            let secret = grant["lease_secret"]?.string
        else { return }
        secrets.withLock { $0["\(ticketId)#\(token)"] = secret }
    }

    func secret(_ ticketId: String, _ token: Int64) -> String? {
        secrets.withLock { $0["\(ticketId)#\(token)"] }
    }
}

/// The calls a worker makes, with the checks every test relies on. Reports carry the lease
/// secret of the grant they are made under (a made-up one when the test gives `secret`).
struct WorkerSteps {
    let client: any TestClientProtocol
    var workerId = "worker-1"
    let book = LeaseBook()

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
        let grants = try #require(try response.json["tickets"]?.array)
        grants.forEach(book.note)
        return grants
    }

    /// The report body's lease: worker id, fencing token and the grant's lease secret.
    func lease(_ ticketId: String, token: Int64, secret: String? = nil) -> [String: JSONValue] {
        var fields: [String: JSONValue] = ["worker_id": .string(workerId), "fencing_token": .integer(token)]
        if let known = secret ?? book.secret(ticketId, token) { fields["lease_secret"] = .string(known) }
        return fields
    }

    /// Exactly one grant, waiting for it up to five seconds.
    func pollOne() async throws -> Grant {
        let grants = try await poll(waitMs: 5000)
        try #require(grants.count == 1)
        return try Grant(grants[0])
    }

    func complete(
        _ ticketId: String,
        token: Int64,
        secret: String? = nil,
        output: JSONValue = .object([:])
    ) async throws -> TestResponse {
        var body = lease(ticketId, token: token, secret: secret)
        body["output"] = output
        body["logs"] = .array([.string("done")])
        body["actual_duration_ms"] = .integer(42)
        return try await client.send(.post, "/api/v1/tickets/\(ticketId)/complete", json: .object(body))
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
