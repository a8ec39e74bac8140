/// A ticket as the engine tracks it: the wire ticket plus the lease and retry bookkeeping.
public struct TicketRecord: Sendable, Equatable, Codable {
    /// The wire form, kept current (status, started/completed times, retry count, error).
    public var ticket: ExecutionTicket
    public var phase: TicketPhase
    /// Fencing token: increases with every lease; a report must carry the current one.
    public var leaseEpoch: Int64
    public var workerId: String?
    public var leaseExpiresAt: EpochMillis?
    /// When the current attempt started (its lease was granted).
    public var attemptStartedAt: EpochMillis?
    /// When the ticket was last released (became READY).
    public var releasedAt: EpochMillis?
    /// priority_score when released.
    public var score: Double
    public var slaViolated: Bool
    /// The last result reported by a worker.
    public var result: ExecutionResultPayload?
    /// Set on compensation tickets: the ticket they undo.
    public var compensates: String?
    public var compensation: CompensationState

    public init(ticket: ExecutionTicket, compensates: String? = nil) {
        self.ticket = ticket
        self.phase = .WAITING
        self.leaseEpoch = 0
        self.score = 0
        self.slaViolated = false
        self.compensates = compensates
        self.compensation = .none
    }

    public var ticketId: String { ticket.ticketId }
    public var isCompensation: Bool { compensates != nil }

    enum CodingKeys: String, CodingKey {
        case ticket, phase, score, result, compensates, compensation
        case leaseEpoch = "lease_epoch"
        case workerId = "worker_id"
        case leaseExpiresAt = "lease_expires_at"
        case attemptStartedAt = "attempt_started_at"
        case releasedAt = "released_at"
        case slaViolated = "sla_violated"
    }
}
