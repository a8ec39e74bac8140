/// The lifecycle of a workflow (one per decision).
public enum WorkflowStatus: String, Sendable, Codable, CaseIterable {
    /// The decision arrived without its plan; waiting for it on the plan ledger.
    case WAITING_FOR_PLAN
    /// Validated and ticketed, parked until an operator approves or rejects it.
    case AWAITING_APPROVAL
    /// Tickets are being released, leased and completed.
    case RUNNING
    /// A ticket failed for good; compensation tickets are undoing its completed predecessors.
    case COMPENSATING
    /// Every ticket completed.
    case COMPLETED
    /// Some tickets completed, others failed or were skipped.
    case PARTIAL
    /// Nothing of value remains: validation failed, or no ticket completed (or all were compensated).
    case FAILED
    /// Cancelled by an operator.
    case CANCELLED
    /// The decision was `reject`, or an operator rejected it.
    case REJECTED

    /// Whether no further event changes the workflow.
    public var isTerminal: Bool {
        switch self {
        case .COMPLETED, .PARTIAL, .FAILED, .CANCELLED, .REJECTED: return true
        default: return false
        }
    }
}

/// Where a ticket is inside the engine (finer than its wire status).
public enum TicketPhase: String, Sendable, Codable, CaseIterable {
    /// Waiting for dependencies (or for approval).
    case WAITING
    /// Released: its dependencies are done and a worker may lease it.
    case READY
    /// Held by a worker under a lease.
    case LEASED
    /// Failed an attempt; waiting out the retry backoff.
    case RETRY_WAIT
    case COMPLETED
    /// Failed with no retries left.
    case FAILED
    /// Never run because a dependency failed.
    case SKIPPED
    /// Stopped by a cancellation.
    case CANCELLED

    public var isTerminal: Bool {
        switch self {
        case .COMPLETED, .FAILED, .SKIPPED, .CANCELLED: return true
        default: return false
        }
    }
}

/// Progress of the compensation of a completed ticket.
public enum CompensationState: String, Sendable, Codable {
    case none, pending, done, failed
}
