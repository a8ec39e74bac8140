import OrchestratorCore

/// A store that several orchestrator replicas use at once (PostgreSQL).
///
/// Work is shared by **workflow ownership**: every active workflow is owned by one replica, the
/// only one that applies its transitions, dispatches its tickets and fires its timers, from memory.
/// A replica is alive while it renews its heartbeat (``heartbeat()``); the workflows of a replica
/// whose heartbeat has expired, or that released them, are claimed by the others with row locks
/// that skip locked rows, so that two replicas never claim the same workflow. Every commit of an
/// existing workflow is fenced: it is refused with ``StoreError/notOwner(workflowId:owner:)``
/// unless this replica owns the workflow, and the workflow's `version` check still applies.
public protocol SharedWorkflowStore: WorkflowStore {
    /// This replica's identity (the `owner` of the workflows it owns).
    var replicaId: String { get }

    /// How long ownership survives without a heartbeat, in milliseconds.
    var ownershipTtlMs: Int64 { get }

    /// Records that this replica is alive for ``ownershipTtlMs`` more. The first call registers
    /// the replica: it fails while another live process holds the same replica id, and gives back
    /// the workflows an earlier process of this id left owned.
    func heartbeat() async throws -> HeartbeatOutcome

    /// Claims up to `limit` active workflows that have no live owner (never owned, released, or
    /// owned by a replica whose heartbeat expired), at most a fair share of them (the orphans
    /// divided by the live replicas), and returns them with their pending timers.
    func claimOrphans(limit: Int) async throws -> [ClaimedWorkflow]

    /// Claims one workflow when it has no live owner (see ``claimOrphans(limit:)``), or returns the
    /// replica that owns it.
    func claim(_ workflowId: String) async throws -> ClaimOutcome

    /// The ids of the workflows this replica owns.
    func ownedWorkflowIds() async throws -> Set<String>

    /// Gives every workflow this replica owns back (graceful shutdown), so that the others claim
    /// them at once instead of after ``ownershipTtlMs``.
    func releaseAll() async throws

    /// The other replicas' signals: new outbox rows, released workflows, plans saved.
    func notifications() -> AsyncStream<StoreNotification>

    /// The replicas known to the database.
    func replicas() async throws -> [ReplicaRecord]

    /// Keeps an unfenced result (from the bus) that this replica received for a workflow another
    /// replica runs, and wakes that replica, which applies it.
    func forward(_ result: ExecutionResult, workflowId: String) async throws

    /// Forwarded results of the workflows this replica owns, oldest first.
    func forwardedResults(limit: Int) async throws -> [ForwardedResult]

    /// Removes a forwarded result once applied (or refused for good).
    func deleteForwardedResult(_ id: Int64) async throws
}

/// A result waiting for the replica that owns its workflow.
public struct ForwardedResult: Sendable, Equatable {
    public var id: Int64
    public var workflowId: String
    public var result: ExecutionResult
    public init(id: Int64, workflowId: String, result: ExecutionResult) {
        self.id = id
        self.workflowId = workflowId
        self.result = result
    }
}

/// What a heartbeat found.
public enum HeartbeatOutcome: Sendable, Equatable {
    /// Alive, as before.
    case renewed
    /// The previous heartbeat had expired before this one: other replicas may have claimed some
    /// of this replica's workflows.
    case expired
    /// Another process registered with this replica id after this one's heartbeat expired: this
    /// process must stop (it owns nothing any more).
    case replaced
}

/// A workflow claimed by this replica, with its pending timers.
public struct ClaimedWorkflow: Sendable {
    public var workflow: StoredWorkflow
    public var timers: [TimerSpec]
    public init(workflow: StoredWorkflow, timers: [TimerSpec]) {
        self.workflow = workflow
        self.timers = timers
    }
}

/// What ``SharedWorkflowStore/claim(_:)`` found.
public enum ClaimOutcome: Sendable {
    case claimed(ClaimedWorkflow)
    /// Another live replica owns it.
    case ownedBy(String)
    case notFound
}

/// A wake-up from another replica.
public enum StoreNotification: Sendable, Equatable {
    /// Outbox rows were committed.
    case outbox
    /// Workflows were released (a replica stopped).
    case released
    /// A plan was saved to the ledger.
    case plan(String)
    /// A result was forwarded to the owner of its workflow.
    case forwarded
    /// The listener (re)started listening: notifications sent before may have been missed.
    case resync
}

/// One replica as recorded in the database.
public struct ReplicaRecord: Sendable, Codable, Equatable {
    public var replicaId: String
    public var startedAt: EpochMillis
    public var aliveUntil: EpochMillis
    public var alive: Bool
    public var ownedWorkflows: Int

    public init(replicaId: String, startedAt: EpochMillis, aliveUntil: EpochMillis, alive: Bool, ownedWorkflows: Int) {
        self.replicaId = replicaId
        self.startedAt = startedAt
        self.aliveUntil = aliveUntil
        self.alive = alive
        self.ownedWorkflows = ownedWorkflows
    }

    enum CodingKeys: String, CodingKey {
        case replicaId = "replica_id"
        case startedAt = "started_at"
        case aliveUntil = "alive_until"
        case alive
        case ownedWorkflows = "owned_workflows"
    }
}
