import OrchestratorCore

/// A ticket handed to a worker: the ticket and the lease it must report under.
public struct LeaseGrant: Sendable, Equatable, Codable {
    public var workflowId: String
    public var ticket: ExecutionTicket
    /// The fencing token: every heartbeat and report must carry it.
    public var fencingToken: Int64
    public var leaseExpiresAt: EpochMillis
    /// How often the worker should heartbeat.
    public var heartbeatIntervalMs: Int64
    /// The lease secret (`lease_secret`), set by the REST API on the grants it hands out: reports
    /// over the API must present it. `nil` for in-process workers.
    public var leaseSecret: String?
    /// The W3C `traceparent` of this attempt's span when tracing is on: the worker continues the
    /// trace from it and sends it (or its own span's) back with its report.
    public var traceparent: String?

    public init(
        workflowId: String,
        ticket: ExecutionTicket,
        fencingToken: Int64,
        leaseExpiresAt: EpochMillis,
        heartbeatIntervalMs: Int64
    ) {
        self.workflowId = workflowId
        self.ticket = ticket
        self.fencingToken = fencingToken
        self.leaseExpiresAt = leaseExpiresAt
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case ticket
        case fencingToken = "fencing_token"
        case leaseExpiresAt = "lease_expires_at"
        case heartbeatIntervalMs = "heartbeat_interval_ms"
        case leaseSecret = "lease_secret"
        case traceparent
    }
}

/// The outcome of submitting a decision or a plan.
public struct SubmitOutcome: Sendable, Equatable, Codable {
    public var workflowId: String
    /// False when the decision had already been accepted (idempotent intake).
    public var created: Bool
    public var status: WorkflowStatus
    public var validation: ValidationReport?

    public init(workflowId: String, created: Bool, status: WorkflowStatus, validation: ValidationReport?) {
        self.workflowId = workflowId
        self.created = created
        self.status = status
        self.validation = validation
    }

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case created, status, validation
    }
}
