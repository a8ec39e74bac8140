import OrchestratorCore

/// `POST /api/v1/workers/register`. The worker id obeys the ``Identifier`` limits, so that it
/// can always be named in a poll's path.
struct RegisterBody: Decodable {
    var workerId: String
    var capabilities: [String]
    var labels: [String: String]

    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case capabilities, labels
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workerId = try c.decode(String.self, forKey: .workerId)
        if let problem = Identifier.problem(workerId) {
            throw APIError.invalidField("worker_id", "worker_id: \(problem)")
        }
        capabilities = try c.decodeIfPresent([String].self, forKey: .capabilities) ?? []
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }
}

/// `POST /api/v1/workers/{worker_id}/poll`; every field has a default.
struct PollBody: Decodable {
    var maxTickets: Int
    var waitMs: Int64

    enum CodingKeys: String, CodingKey {
        case maxTickets = "max_tickets"
        case waitMs = "wait_ms"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxTickets = try c.decodeIfPresent(Int.self, forKey: .maxTickets) ?? 1
        waitMs = try c.decodeIfPresent(Int64.self, forKey: .waitMs) ?? 0
    }
}

/// The lease a report is made under: `worker_id`, `fencing_token` and `lease_secret`, all
/// required (the secret is checked by the route, naming the field when it is missing).
struct LeaseProof: Decodable {
    var workerId: String
    var fencingToken: Int64
    var leaseSecret: String?

    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case fencingToken = "fencing_token"
        case leaseSecret = "lease_secret"
    }
}

/// `POST /api/v1/tickets/{ticket_id}/complete`.
struct CompleteBody: Decodable {
    var lease: LeaseProof
    var output: [String: String]
    var metadata: [String: String]
    var logs: [String]
    var actualDurationMs: Int64?

    enum CodingKeys: String, CodingKey {
        case output, metadata, logs
        case actualDurationMs = "actual_duration_ms"
    }

    init(from decoder: any Decoder) throws {
        lease = try LeaseProof(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        output = try c.decodeIfPresent([String: JSONValue].self, forKey: .output)?.mapValues(\.mapText) ?? [:]
        metadata = try c.decodeIfPresent([String: JSONValue].self, forKey: .metadata)?.mapValues(\.mapText) ?? [:]
        logs = try c.decodeIfPresent([String].self, forKey: .logs) ?? []
        actualDurationMs = try c.decodeIfPresent(Int64.self, forKey: .actualDurationMs)
    }
}

/// `POST /api/v1/tickets/{ticket_id}/fail`.
struct FailBody: Decodable {
    var lease: LeaseProof
    var errorMessage: String
    var retryable: Bool
    var output: [String: String]
    var logs: [String]
    var actualDurationMs: Int64?

    enum CodingKeys: String, CodingKey {
        case errorMessage = "error_message"
        case retryable, output, logs
        case actualDurationMs = "actual_duration_ms"
    }

    init(from decoder: any Decoder) throws {
        lease = try LeaseProof(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        errorMessage = try c.decode(String.self, forKey: .errorMessage)
        retryable = try c.decodeIfPresent(Bool.self, forKey: .retryable) ?? true
        output = try c.decodeIfPresent([String: JSONValue].self, forKey: .output)?.mapValues(\.mapText) ?? [:]
        logs = try c.decodeIfPresent([String].self, forKey: .logs) ?? []
        actualDurationMs = try c.decodeIfPresent(Int64.self, forKey: .actualDurationMs)
    }
}
