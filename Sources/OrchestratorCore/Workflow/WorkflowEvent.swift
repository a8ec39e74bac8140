/// An input to a workflow. Events are recorded in the workflow's append-only history exactly as
/// applied, so that replaying them through ``WorkflowStateMachine`` rebuilds the state.
public enum WorkflowEvent: Sendable, Equatable, Codable {
    /// A decision was accepted (its plan may still be missing).
    case decisionAccepted(DecisionAccepted)
    /// The plan of a waiting decision arrived.
    case planAttached(CognitivePlan)
    /// An operator approved a workflow parked in `AWAITING_APPROVAL`.
    case approved(by: String, note: String?)
    /// An operator rejected a parked workflow.
    case rejected(by: String, reason: String)
    /// A worker leased a ready ticket until `expiresAt`.
    case leased(ticketId: String, workerId: String, expiresAt: EpochMillis)
    /// The lease holder extended its lease.
    case heartbeat(ticketId: String, leaseEpoch: Int64, expiresAt: EpochMillis)
    /// A worker reported success. `leaseEpoch` is `nil` for unfenced reports (a result read from
    /// the bus, which carries no token): they are accepted only while the ticket is leased or ready.
    case completed(ticketId: String, leaseEpoch: Int64?, result: ExecutionResult)
    /// A worker reported failure; `retryable` false fails the ticket at once.
    case failed(ticketId: String, leaseEpoch: Int64?, error: String, retryable: Bool, result: ExecutionResult?)
    /// A lease timer fired.
    case leaseExpired(ticketId: String, leaseEpoch: Int64)
    /// A ticket's SLA deadline passed.
    case slaDeadlinePassed(ticketId: String)
    /// A retry backoff elapsed.
    case retryDue(ticketId: String, retryCount: Int)
    /// An operator cancelled the workflow.
    case cancelled(by: String, reason: String)

    /// The decision (and plan, when known) that starts a workflow.
    public struct DecisionAccepted: Sendable, Equatable, Codable {
        public var decision: ConsolidatedDecision
        /// The plan, from the decision or the plan ledger; `nil` to wait for it.
        public var plan: CognitivePlan?
        public init(decision: ConsolidatedDecision, plan: CognitivePlan?) {
            self.decision = decision
            self.plan = plan
        }
    }

    /// A short name for history listings and metrics.
    public var name: String {
        switch self {
        case .decisionAccepted: return "decision_accepted"
        case .planAttached: return "plan_attached"
        case .approved: return "approved"
        case .rejected: return "rejected"
        case .leased: return "ticket_leased"
        case .heartbeat: return "heartbeat"
        case .completed: return "ticket_completed"
        case .failed: return "ticket_failed"
        case .leaseExpired: return "lease_expired"
        case .slaDeadlinePassed: return "sla_deadline_passed"
        case .retryDue: return "retry_due"
        case .cancelled: return "cancelled"
        }
    }

    /// The ticket the event concerns, if any.
    public var ticketId: String? {
        switch self {
        case .leased(let id, _, _), .heartbeat(let id, _, _), .completed(let id, _, _), .failed(let id, _, _, _, _),
            .leaseExpired(let id, _), .slaDeadlinePassed(let id), .retryDue(let id, _):
            return id
        default:
            return nil
        }
    }
}

/// An event with the instant it was applied at (the state machine never reads a clock).
public struct TimedEvent: Sendable, Equatable, Codable {
    public var at: EpochMillis
    public var event: WorkflowEvent
    public init(at: EpochMillis, event: WorkflowEvent) {
        self.at = at
        self.event = event
    }
}
