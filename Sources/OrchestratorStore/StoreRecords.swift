import OrchestratorCore

/// A workflow as stored: its state and optimistic-concurrency version.
public struct StoredWorkflow: Sendable {
    public var state: WorkflowState
    public var version: Int64
    public init(state: WorkflowState, version: Int64) {
        self.state = state
        self.version = version
    }
}

/// One transition to persist.
///
/// A commit never holds the workflow's whole ticket list (except for a new workflow, whose tickets
/// are all written): only the records it writes. Keeping the list would make the engine copy it on
/// the workflow's next change while the commit is still pending, which costs the plan's size on
/// every transition.
public struct WorkflowCommit: Sendable {
    /// The state after the transition, without its tickets (see ``ticket(at:)``).
    public var state: WorkflowState
    /// How many tickets the workflow has after the transition.
    public var ticketCount: Int
    /// The version read before the transition (0 for a new workflow); the stored version becomes
    /// `expectedVersion + 1`.
    public var expectedVersion: Int64
    /// Positions of the tickets to write (all of them for a new workflow).
    public var changedTickets: Set<Int>
    /// Every ticket of a new workflow, in order.
    var allTickets: [TicketRecord]
    /// The records at ``changedTickets`` of an existing workflow.
    var changedRecords: [Int: TicketRecord]
    /// The decision, for a new workflow.
    public var decision: ConsolidatedDecision?
    /// The event applied, appended to the history as entry number `state.eventCount`.
    public var event: TimedEvent
    public var timers: [TimerChange]
    public var outbox: [OutboxMessage]
    public var incidents: [OrchestrationIncident]
    /// A C1 result to audit.
    public var audit: ValidationReport?
    /// Timers that fired and are consumed by this commit (deleted unless rescheduled).
    public var firedTimers: [String]
    /// The JSON texts of the state, the changed tickets and the event, when the engine already
    /// encoded them (it does so while the previous batch is being written, to keep that work off
    /// the store's serial path). A store may use them instead of encoding; they are exactly
    /// ``EncodedCommit/init(_:)`` of this commit.
    public var encoded: EncodedCommit?

    /// - Parameter state: the full state after the transition; the commit keeps it without its
    ///   tickets, and of those only the ones it writes.
    public init(
        state: WorkflowState,
        expectedVersion: Int64,
        changedTickets: Set<Int>,
        decision: ConsolidatedDecision? = nil,
        event: TimedEvent,
        timers: [TimerChange] = [],
        outbox: [OutboxMessage] = [],
        incidents: [OrchestrationIncident] = [],
        audit: ValidationReport? = nil,
        firedTimers: [String] = [],
        encoded: EncodedCommit? = nil
    ) {
        var bare = state
        bare.tickets = []
        self.state = bare
        self.ticketCount = state.tickets.count
        self.expectedVersion = expectedVersion
        self.changedTickets = changedTickets
        if expectedVersion == 0 {
            allTickets = state.tickets
            changedRecords = [:]
        } else {
            allTickets = []
            var records: [Int: TicketRecord] = [:]
            for position in changedTickets where state.tickets.indices.contains(position) {
                records[position] = state.tickets[position]
            }
            changedRecords = records
        }
        self.decision = decision
        self.event = event
        self.timers = timers
        self.outbox = outbox
        self.incidents = incidents
        self.audit = audit
        self.firedTimers = firedTimers
        self.encoded = encoded
    }

    /// The tickets the commit writes: every ticket of a new workflow, else the changed ones.
    public var ticketPositions: [Int] {
        expectedVersion == 0 ? Array(0..<ticketCount) : changedTickets.sorted()
    }

    /// The record the commit writes at `position`; a position the commit does not carry is a
    /// contradiction of the caller's.
    public func ticket(at position: Int) throws(InvalidCommitError) -> TicketRecord {
        if expectedVersion == 0, allTickets.indices.contains(position) { return allTickets[position] }
        if expectedVersion != 0, let record = changedRecords[position] { return record }
        throw InvalidCommitError(
            workflowId: state.workflowId,
            message: "changed ticket position \(position) is outside the \(ticketCount) tickets"
        )
    }
}

/// The JSON texts a store writes for a commit (compact, from ``StreamingJSONEncoder``).
public struct EncodedCommit: Sendable, Equatable {
    /// The workflow state without its tickets (they have rows of their own).
    public var state: String
    /// Ticket records by position, for ``WorkflowCommit/ticketPositions``; empty for a commit that
    /// writes more than ``maxEncodedTickets`` (the store encodes those one at a time as it writes
    /// them, so that a huge new workflow is never held in memory twice).
    public var tickets: [Int: String]
    /// The history entry's event.
    public var event: String

    /// Most ticket records encoded ahead of the write.
    public static let maxEncodedTickets = 256

    public init(state: String, tickets: [Int: String], event: String) {
        self.state = state
        self.tickets = tickets
        self.event = event
    }

    /// Encodes a commit's state (without tickets), its written tickets and its event.
    public init(_ commit: WorkflowCommit) throws {
        let encoder = StreamingJSONEncoder()
        state = try encoder.string(commit.state)
        var tickets: [Int: String] = [:]
        let positions = commit.ticketPositions
        if positions.count <= Self.maxEncodedTickets {
            for position in positions {
                guard let record = try? commit.ticket(at: position) else { continue }
                tickets[position] = try encoder.string(record)
            }
        }
        self.tickets = tickets
        event = try encoder.string(commit.event)
    }
}

/// One history entry.
public struct HistoryEntry: Sendable, Equatable, Codable {
    public var sequence: Int
    public var event: TimedEvent
    public init(sequence: Int, event: TimedEvent) {
        self.sequence = sequence
        self.event = event
    }
}

/// An outbox row.
public struct StoredOutboxMessage: Sendable, Equatable {
    public var sequence: Int64
    public var message: OutboxMessage
    public init(sequence: Int64, message: OutboxMessage) {
        self.sequence = sequence
        self.message = message
    }
}

/// Filters for listing workflows.
public struct WorkflowFilter: Sendable, Equatable {
    public var status: WorkflowStatus?
    public var planId: String?
    public var decisionId: String?
    public var limit: Int
    public var offset: Int
    public init(
        status: WorkflowStatus? = nil,
        planId: String? = nil,
        decisionId: String? = nil,
        limit: Int = 50,
        offset: Int = 0
    ) {
        self.status = status
        self.planId = planId
        self.decisionId = decisionId
        self.limit = limit
        self.offset = offset
    }
}

/// A workflow in a listing.
public struct WorkflowSummary: Sendable, Equatable, Codable {
    public var workflowId: String
    public var decisionId: String
    public var planId: String
    public var status: WorkflowStatus
    public var riskBand: RiskBand?
    public var ticketCount: Int
    public var createdAt: EpochMillis
    public var updatedAt: EpochMillis
    public var completedAt: EpochMillis?

    public init(_ state: WorkflowState) {
        workflowId = state.workflowId
        decisionId = state.decisionId
        planId = state.planId
        status = state.status
        riskBand = state.riskBand
        ticketCount = state.tickets.count
        createdAt = state.createdAt
        updatedAt = state.updatedAt
        completedAt = state.completedAt
    }

    public init(
        workflowId: String,
        decisionId: String,
        planId: String,
        status: WorkflowStatus,
        riskBand: RiskBand?,
        ticketCount: Int,
        createdAt: EpochMillis,
        updatedAt: EpochMillis,
        completedAt: EpochMillis?
    ) {
        self.workflowId = workflowId
        self.decisionId = decisionId
        self.planId = planId
        self.status = status
        self.riskBand = riskBand
        self.ticketCount = ticketCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.completedAt = completedAt
    }

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case decisionId = "decision_id"
        case planId = "plan_id"
        case status
        case riskBand = "risk_band"
        case ticketCount = "ticket_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case completedAt = "completed_at"
    }
}

/// Filters for listing incidents.
public struct IncidentFilter: Sendable, Equatable {
    public var workflowId: String?
    public var type: IncidentType?
    public var limit: Int
    public var offset: Int
    public init(workflowId: String? = nil, type: IncidentType? = nil, limit: Int = 100, offset: Int = 0) {
        self.workflowId = workflowId
        self.type = type
        self.limit = limit
        self.offset = offset
    }
}

/// A stored C1 result.
public struct AuditRecord: Sendable, Equatable, Codable {
    public var workflowId: String
    public var decisionId: String
    public var planId: String
    public var report: ValidationReport
    public init(workflowId: String, decisionId: String, planId: String, report: ValidationReport) {
        self.workflowId = workflowId
        self.decisionId = decisionId
        self.planId = planId
        self.report = report
    }

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case decisionId = "decision_id"
        case planId = "plan_id"
        case report
    }
}

/// A registered worker.
public struct WorkerRecord: Sendable, Equatable, Codable {
    public var workerId: String
    public var capabilities: [String]
    public var labels: [String: String]
    public var registeredAt: EpochMillis
    public var lastSeenAt: EpochMillis
    public init(
        workerId: String,
        capabilities: [String],
        labels: [String: String] = [:],
        registeredAt: EpochMillis,
        lastSeenAt: EpochMillis
    ) {
        self.workerId = workerId
        self.capabilities = capabilities
        self.labels = labels
        self.registeredAt = registeredAt
        self.lastSeenAt = lastSeenAt
    }

    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case capabilities, labels
        case registeredAt = "registered_at"
        case lastSeenAt = "last_seen_at"
    }
}

/// Store failures the engine handles.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case versionConflict(workflowId: String)
    case duplicateDecision(decisionId: String, workflowId: String)
    case corrupt(String)
    /// A shared store refused a commit of a workflow that another replica owns (or that nobody owns
    /// any more): this replica lost it, for instance after missing its heartbeats.
    case notOwner(workflowId: String, owner: String?)

    public var description: String {
        switch self {
        case .versionConflict(let id): return "workflow \(id) was changed concurrently"
        case .notOwner(let id, let owner):
            return "workflow \(id) is owned by \(owner.map { "replica \($0)" } ?? "no replica"), not this one"
        case .duplicateDecision(let decisionId, let workflowId):
            return "decision \(decisionId) already started workflow \(workflowId)"
        case .corrupt(let message): return "stored data cannot be read: \(message)"
        }
    }
}
