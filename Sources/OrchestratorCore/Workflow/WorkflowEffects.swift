/// Where an outbox message goes; the relay maps each to a configured topic name.
public enum OutboxTopic: String, Sendable, Codable, CaseIterable {
    /// `execution.tickets` (key `plan_id`).
    case tickets
    /// `orchestration.incidents` (key `incident_id`).
    case incidents
    /// `telemetry.orchestration` (key `workflow_id`): the final frame.
    case telemetryFrames = "telemetry_frames"
    /// `telemetry-flow-c` (key `workflow_id`): step and ticket events.
    case telemetryEvents = "telemetry_events"
}

/// A message to publish, written to the outbox in the same transaction as the state change.
public struct OutboxMessage: Sendable, Equatable, Codable {
    public var topic: OutboxTopic
    public var key: String
    /// The message value: the contract's JSON.
    public var payload: String
    /// Headers, e.g. W3C `traceparent`.
    public var headers: [String: String]
    public var workflowId: String
    public var createdAt: EpochMillis

    public init(
        topic: OutboxTopic,
        key: String,
        payload: String,
        headers: [String: String] = [:],
        workflowId: String,
        createdAt: EpochMillis
    ) {
        self.topic = topic
        self.key = key
        self.payload = payload
        self.headers = headers
        self.workflowId = workflowId
        self.createdAt = createdAt
    }
}

/// Kinds of durable timers.
public enum TimerKind: String, Sendable, Codable, CaseIterable {
    case leaseExpiry = "lease"
    case slaDeadline = "sla"
    case retry
}

/// A durable timer. One timer per (workflow, ticket, kind): scheduling again replaces it.
public struct TimerSpec: Sendable, Equatable, Codable {
    public var workflowId: String
    public var ticketId: String
    public var kind: TimerKind
    public var fireAt: EpochMillis
    /// Lease epoch (lease timers) or retry count (retry timers) the timer was set for.
    public var token: Int64

    public init(workflowId: String, ticketId: String, kind: TimerKind, fireAt: EpochMillis, token: Int64) {
        self.workflowId = workflowId
        self.ticketId = ticketId
        self.kind = kind
        self.fireAt = fireAt
        self.token = token
    }

    /// The timer's unique key.
    public var key: String { "\(kind.rawValue):\(workflowId):\(ticketId)" }

    /// The event the timer delivers when it fires.
    public var event: WorkflowEvent {
        switch kind {
        case .leaseExpiry: return .leaseExpired(ticketId: ticketId, leaseEpoch: token)
        case .slaDeadline: return .slaDeadlinePassed(ticketId: ticketId)
        case .retry: return .retryDue(ticketId: ticketId, retryCount: Int(token))
        }
    }
}

/// Timer changes of a transition.
public enum TimerChange: Sendable, Equatable {
    case schedule(TimerSpec)
    case cancel(key: String)
}

/// Everything a transition asks the shell to do, persisted in one transaction with the state.
public struct TransitionEffects: Sendable {
    /// Indices of tickets whose record changed (to persist).
    public var changedTickets: Set<Int> = []
    public var timers: [TimerChange] = []
    public var outbox: [OutboxMessage] = []
    public var incidents: [OrchestrationIncident] = []
    /// Tickets that became READY (for the dispatch index).
    public var released: [String] = []
    /// Tickets that left READY without being leased through the index (cancelled, skipped).
    public var withdrawn: [String] = []
    /// Whether the workflow reached a terminal status in this transition.
    public var finished: Bool = false
    /// The complete C1 report of a validation in this transition, to audit (the state keeps it
    /// bounded: ``ValidationReport/bounded(_:)``).
    public var audit: ValidationReport?
    /// How long C1 and C2 took when this transition prepared a plan (for tracing only).
    public var preparation: PreparationTimings?

    public init() {}
}

/// Why an event was refused; the state is unchanged and nothing is recorded.
public struct TransitionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        /// A report whose fencing token is not the current lease's (late worker, duplicate report).
        case staleLease = "stale_lease"
        /// The ticket is not in a state that accepts the event (e.g. already completed).
        case invalidState = "invalid_state"
        case unknownTicket = "unknown_ticket"
        /// The workflow is not in a state that accepts the event.
        case invalidWorkflowState = "invalid_workflow_state"
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
