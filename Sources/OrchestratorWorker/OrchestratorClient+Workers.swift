import OrchestratorCore
import OrchestratorEngine

extension OrchestratorClient {
    /// `POST /api/v1/workers/register`.
    public func registerWorker(
        workerId: String,
        capabilities: [String],
        labels: [String: String] = [:]
    ) async throws -> WorkerRecordSnapshot {
        let body = try JSONBody.encode(Registration(workerId: workerId, capabilities: capabilities, labels: labels))
        let response = try await send("POST", "/api/v1/workers/register", body: body)
        return try JSONBody.decode(WorkerRecordSnapshot.self, from: response.body, status: response.status)
    }

    /// `POST /api/v1/workers/{worker_id}/poll`: leases up to `maxTickets`, waiting up to `waitMs`.
    public func poll(workerId: String, maxTickets: Int = 1, waitMs: Int64 = 0) async throws -> [LeaseGrant] {
        let body = try JSONBody.encode(PollBody(maxTickets: maxTickets, waitMs: waitMs))
        let response = try await send(
            "POST",
            "/api/v1/workers/\(Self.segment(workerId))/poll",
            body: body,
            extraTimeoutMs: max(0, waitMs)
        )
        return try JSONBody.decode(PollAnswer.self, from: response.body, status: response.status).tickets
    }

    /// `POST /api/v1/tickets/{ticket_id}/heartbeat`: extends the lease; returns its new expiry
    /// (when the server sent it).
    @discardableResult
    public func heartbeat(
        ticketId: String,
        workerId: String,
        fencingToken: Int64,
        leaseSecret: String?,
        traceparent: String? = nil
    ) async throws -> EpochMillis? {
        let body = try JSONBody.encode(Fenced(workerId: workerId, fencingToken: fencingToken, leaseSecret: leaseSecret))
        let response = try await send(
            "POST",
            "/api/v1/tickets/\(Self.segment(ticketId))/heartbeat",
            body: body,
            traceparent: traceparent
        )
        return JSONBody.decode(response.body)?.member("lease_expires_at")?.integer
    }

    /// `POST /api/v1/tickets/{ticket_id}/complete`.
    public func complete(
        ticketId: String,
        workerId: String,
        fencingToken: Int64,
        leaseSecret: String?,
        output: [String: String] = [:],
        metadata: [String: String] = [:],
        logs: [String] = [],
        actualDurationMs: Int64? = nil,
        traceparent: String? = nil
    ) async throws {
        let body = try JSONBody.encode(
            Completion(
                workerId: workerId,
                fencingToken: fencingToken,
                leaseSecret: leaseSecret,
                output: output,
                metadata: metadata,
                logs: logs,
                actualDurationMs: actualDurationMs
            )
        )
        _ = try await send(
            "POST",
            "/api/v1/tickets/\(Self.segment(ticketId))/complete",
            body: body,
            traceparent: traceparent
        )
    }

    /// `POST /api/v1/tickets/{ticket_id}/fail`.
    public func fail(
        ticketId: String,
        workerId: String,
        fencingToken: Int64,
        leaseSecret: String?,
        errorMessage: String,
        retryable: Bool,
        output: [String: String] = [:],
        logs: [String] = [],
        actualDurationMs: Int64? = nil,
        traceparent: String? = nil
    ) async throws {
        let body = try JSONBody.encode(
            Failure(
                workerId: workerId,
                fencingToken: fencingToken,
                leaseSecret: leaseSecret,
                errorMessage: errorMessage,
                retryable: retryable,
                output: output,
                logs: logs,
                actualDurationMs: actualDurationMs
            )
        )
        _ = try await send(
            "POST",
            "/api/v1/tickets/\(Self.segment(ticketId))/fail",
            body: body,
            traceparent: traceparent
        )
    }
}

// MARK: - Bodies

private struct Registration: Encodable {
    var workerId: String
    var capabilities: [String]
    var labels: [String: String]
    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case capabilities, labels
    }
}

private struct PollBody: Encodable {
    var maxTickets: Int
    var waitMs: Int64
    enum CodingKeys: String, CodingKey {
        case maxTickets = "max_tickets"
        case waitMs = "wait_ms"
    }
}

private struct PollAnswer: Decodable {
    var tickets: [LeaseGrant]
}

private struct Fenced: Encodable {
    var workerId: String
    var fencingToken: Int64
    var leaseSecret: String?
    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case fencingToken = "fencing_token"
        case leaseSecret = "lease_secret"
    }
}

private struct Completion: Encodable {
    var workerId: String
    var fencingToken: Int64
    var leaseSecret: String?
    var output: [String: String]
    var metadata: [String: String]
    var logs: [String]
    var actualDurationMs: Int64?
    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case fencingToken = "fencing_token"
        case leaseSecret = "lease_secret"
        case output, metadata, logs
        case actualDurationMs = "actual_duration_ms"
    }
}

private struct Failure: Encodable {
    var workerId: String
    var fencingToken: Int64
    var leaseSecret: String?
    var errorMessage: String
    var retryable: Bool
    var output: [String: String]
    var logs: [String]
    var actualDurationMs: Int64?
    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case fencingToken = "fencing_token"
        case leaseSecret = "lease_secret"
        case errorMessage = "error_message"
        case retryable, output, logs
        case actualDurationMs = "actual_duration_ms"
    }
}
