import OrchestratorCore

/// Durable storage of the orchestrator. Every workflow transition is written by ``commit(_:)`` in
/// one transaction together with its history entry, timer changes, outbox messages, incidents and
/// audit record; nothing is ever half-written.
///
/// Implementations: SQLite (`SQLiteStore`, embedded default, single node) and PostgreSQL
/// (`PostgresStore`, which is also a ``SharedWorkflowStore``: several replicas on one database).
/// The semantics below are what both must provide; the store contract test suite checks them.
public protocol WorkflowStore: Sendable {
    /// The database, as OpenTelemetry's `db.system` names it: `sqlite`, `postgresql`.
    var databaseSystem: String { get }

    /// Applies pending schema migrations; returns the versions applied.
    func migrate() async throws -> [Int]

    // MARK: Workflows

    /// Writes a batch of workflow commits in ONE transaction (group commit). Each commit's
    /// `expectedVersion` must match the stored version (0 for a new workflow), else the whole
    /// batch fails with ``StoreError/versionConflict(workflowId:)`` and nothing is written.
    /// A new workflow whose decision id is already taken fails with
    /// ``StoreError/duplicateDecision(decisionId:workflowId:)``.
    func commit(_ commits: [WorkflowCommit]) async throws

    /// A workflow's state and version.
    func workflow(_ workflowId: String) async throws -> StoredWorkflow?

    /// The workflow started by a decision, if any.
    func workflowId(forDecision decisionId: String) async throws -> String?

    /// Whether a workflow id is taken.
    func workflowExists(_ workflowId: String) async throws -> Bool

    /// Every workflow that is not terminal, with its state (loaded at start-up).
    func activeWorkflows() async throws -> [StoredWorkflow]

    /// Workflow summaries, newest first.
    func listWorkflows(_ filter: WorkflowFilter) async throws -> [WorkflowSummary]

    /// Ids of workflows waiting for a plan.
    func workflowsWaiting(forPlan planId: String) async throws -> [String]

    /// The decision a workflow was started from.
    func decision(ofWorkflow workflowId: String) async throws -> ConsolidatedDecision?

    /// History entries of a workflow in order, starting after sequence `after`.
    func history(_ workflowId: String, after: Int, limit: Int) async throws -> [HistoryEntry]

    // MARK: Tickets (read side)

    /// A ticket and the workflow it belongs to.
    func ticket(_ ticketId: String) async throws -> (workflowId: String, record: TicketRecord)?

    /// A plan's tickets in order, optionally filtered by wire status.
    func tickets(planId: String, status: TicketStatus?, limit: Int, offset: Int) async throws -> [TicketRecord]

    // MARK: Plan ledger

    /// Keeps a plan by `plan_id` (the latest version wins); returns whether it was new.
    @discardableResult
    func savePlan(_ plan: CognitivePlan, receivedAt: EpochMillis) async throws -> Bool

    /// A plan from the ledger.
    func plan(_ planId: String) async throws -> CognitivePlan?

    // MARK: Timers

    /// Every pending timer (loaded at start-up).
    func timers() async throws -> [TimerSpec]

    // MARK: Outbox

    /// Undelivered outbox messages in order, after sequence `after`.
    func outbox(after: Int64, limit: Int) async throws -> [StoredOutboxMessage]

    /// Removes delivered messages up to and including `sequence`.
    func acknowledgeOutbox(through sequence: Int64) async throws

    /// Hands the oldest undelivered messages (at most `limit`, in sequence order) to `deliver` and
    /// removes them once it returns; a `deliver` that throws leaves them in the outbox. Returns how
    /// many moved (0: none pending), or `nil` when another replica is relaying right now. The
    /// default reads with ``outbox(after:limit:)`` and acknowledges through the last sequence,
    /// which is right for a single writer; shared stores relay under a lock and delete exactly the
    /// delivered rows.
    func relayOutbox(
        limit: Int,
        _ deliver: @escaping @Sendable ([StoredOutboxMessage]) async throws -> Void
    ) async throws -> Int?

    /// Number of undelivered messages.
    func outboxCount() async throws -> Int

    // MARK: Incidents, audit, workers

    func incidents(_ filter: IncidentFilter) async throws -> [OrchestrationIncident]

    /// The C1 audit records of a workflow.
    func audits(_ workflowId: String) async throws -> [AuditRecord]

    func saveWorker(_ worker: WorkerRecord) async throws
    func workers() async throws -> [WorkerRecord]

    /// Counts by workflow status (for metrics and `/api/v1/flow-c/status`).
    func workflowCounts() async throws -> [WorkflowStatus: Int]

    /// Durations (ms) of finished workflows, most recent first, for latency figures.
    func recentDurations(limit: Int) async throws -> [Int64]

    // MARK: Dead letters

    /// Records a consumed message that was not accepted; returns its id. Idempotent by
    /// (`topic`, `partition`, `offset`): saving a position again returns the first entry's id and
    /// changes nothing (SQLite: `INSERT OR IGNORE` on a unique index; PostgreSQL: `ON CONFLICT DO
    /// NOTHING`). Implementations keep `letter.payload` as given (already cut to
    /// ``DeadLetter/maxStoredPayload``) and `payloadSize`.
    @discardableResult
    func saveDeadLetter(_ letter: DeadLetter) async throws -> Int64

    /// Dead letters oldest first (by id), optionally of one topic, paged.
    func deadLetters(_ filter: DeadLetterFilter) async throws -> [DeadLetter]

    /// A cheap round trip to the database (readiness).
    func ping() async throws

    /// The newest schema migration recorded in the database, and the newest this build knows
    /// (`orchestrator-dynamic doctor` reports whether they agree: a newer build may have migrated
    /// the database under an older replica).
    func schemaVersions() async throws -> SchemaVersions

    /// A small durable write, to learn whether the store takes writes again after one failed (a
    /// full disk, a read-only file system). The default is ``ping()``.
    func probeWrite() async throws

    /// The secret kept under `name`, shared by every process on this store: `proposed` is stored
    /// when there is none yet, and the stored one is returned either way (the first writer wins,
    /// so concurrent first starts agree). Used for the key of the lease secrets.
    func sharedSecret(_ name: String, proposed: [UInt8]) async throws -> [UInt8]
}

extension WorkflowStore {
    public var databaseSystem: String { "other_sql" }

    public func probeWrite() async throws {
        try await ping()
    }

    public func relayOutbox(
        limit: Int,
        _ deliver: @escaping @Sendable ([StoredOutboxMessage]) async throws -> Void
    ) async throws -> Int? {
        let batch = try await outbox(after: 0, limit: limit)
        guard let last = batch.last else { return 0 }
        try await deliver(batch)
        try await acknowledgeOutbox(through: last.sequence)
        return batch.count
    }
}

/// The newest schema version recorded in a database and the newest one this build knows.
public struct SchemaVersions: Sendable, Equatable {
    /// The highest version in `schema_migrations` (0 when none is recorded).
    public var database: Int
    /// The highest version among this build's migrations.
    public var build: Int

    public init(database: Int, build: Int) {
        self.database = database
        self.build = build
    }
}
