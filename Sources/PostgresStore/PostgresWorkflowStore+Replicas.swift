import Logging
import OrchestratorCore
import OrchestratorStore
import PostgresNIO
import Synchronization

/// Several replicas on one database: heartbeats, workflow ownership and wake-ups.
///
/// - A replica registers in `replicas` with a random incarnation and renews `alive_until` (the
///   database's clock plus ``PostgresStoreConfiguration/ownershipTtlMs``) every third of the TTL.
/// - `workflows.owner` is the owning replica. Commits of existing workflows require
///   `owner = this replica` (fencing); new workflows are inserted owned by their creator.
/// - A workflow is an orphan when it has no owner, or its owner has no live `replicas` row.
///   Orphans are claimed with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take disjoint sets.
/// - `LISTEN`/`NOTIFY` on one channel per schema carries `released`, `forwarded` and `plan <id>`
///   wake-ups.
/// - `forwarded_results` holds unfenced results (from the bus) that a replica consumed for a
///   workflow another one runs, until the owner applies them.
extension PostgresWorkflowStore: SharedWorkflowStore {
    public var replicaId: String { configuration.replicaId }
    public var ownershipTtlMs: Int64 { configuration.ownershipTtlMs }

    /// The notification channel: one per schema, so that stores in different schemas of one
    /// database do not wake each other.
    var channel: String { "orchestrator" + (configuration.schema.map { "_" + $0 } ?? "") }

    public func heartbeat() async throws -> HeartbeatOutcome {
        if !registered.withLock({ $0 }) {
            try await register()
            registered.withLock { $0 = true }
            return .renewed
        }
        let rows = try await rows(
            SQL.heartbeat,
            binds(replicaId, incarnation, ownershipTtlMs),
            doing: "renewing the heartbeat of replica \(replicaId)"
        )
        guard let row = rows.first else { return .replaced }
        let (renewed, wasAlive) = try row.decode((Bool, Bool).self)
        guard renewed else { return .replaced }
        return wasAlive ? .renewed : .expired
    }

    /// Registers this process under its replica id, unless another live process holds it, and
    /// gives back what an earlier process of the same id left owned.
    private func register() async throws {
        let heldUntil: Int64? = try await transaction(doing: "registering replica \(replicaId)") { [self] connection in
            let registered = try await execute(connection, SQL.register, binds(replicaId, incarnation, ownershipTtlMs))
            guard registered.isEmpty else {
                try await execute(connection, SQL.releaseOwned, binds(replicaId))
                return nil
            }
            let holder = try await execute(connection, SQL.aliveUntil, binds(replicaId)).first
            return try holder?.decode(Int64.self) ?? 0
        }
        if let heldUntil {
            throw PostgresStoreError(
                .transient,
                "replica id '\(replicaId)' is held by another live process (its heartbeat runs until \(heldUntil)); "
                    + "every replica needs its own --replica-id"
            )
        }
        logger.info("replica registered", metadata: ["replica_id": "\(replicaId)", "ttl_ms": "\(ownershipTtlMs)"])
    }

    public func claimOrphans(limit: Int) async throws -> [ClaimedWorkflow] {
        let ids = try await rows(
            SQL.claimOrphans,
            binds(replicaId, Int64(max(1, limit))),
            idempotent: false,
            doing: "claiming orphaned workflows"
        ).map { try $0.decode(String.self) }
        guard !ids.isEmpty else { return [] }
        return try await claimed(ids)
    }

    public func claim(_ workflowId: String) async throws -> ClaimOutcome {
        let taken = try await rows(
            SQL.claimOne,
            binds(replicaId, workflowId),
            idempotent: false,
            doing: "claiming workflow \(workflowId)"
        )
        if !taken.isEmpty {
            guard let claimed = try await claimed([workflowId]).first else { return .notFound }
            return .claimed(claimed)
        }
        let owner = try await rows(SQL.owner, binds(workflowId), doing: "reading the owner of \(workflowId)").first
        guard let owner else { return .notFound }
        return .ownedBy(try owner.decode(String?.self) ?? "")
    }

    /// The claimed workflows (with tickets) and their timers.
    private func claimed(_ ids: [String]) async throws -> [ClaimedWorkflow] {
        let workflows = try await workflows(ids)
        var timersByWorkflow: [String: [TimerSpec]] = [:]
        for spec in try await timers(ofWorkflows: ids) { timersByWorkflow[spec.workflowId, default: []].append(spec) }
        return workflows.map { ClaimedWorkflow(workflow: $0, timers: timersByWorkflow[$0.state.workflowId] ?? []) }
    }

    public func ownedWorkflowIds() async throws -> Set<String> {
        let rows = try await rows(SQL.owned, binds(replicaId), doing: "reading the workflows of \(replicaId)")
        return Set(try rows.map { try $0.decode(String.self) })
    }

    public func releaseAll() async throws {
        try await transaction(doing: "releasing the workflows of \(replicaId)") { [self] connection in
            try await execute(connection, SQL.releaseOwned, binds(replicaId))
            try await execute(connection, SQL.unregister, binds(replicaId, incarnation))
            try await execute(connection, "SELECT pg_notify($1, 'released')", binds(channel))
        }
        registered.withLock { $0 = false }
        logger.info("replica released its workflows", metadata: ["replica_id": "\(replicaId)"])
    }

    public func replicas() async throws -> [ReplicaRecord] {
        try await rows(SQL.replicas, doing: "listing the replicas").map { row in
            let (id, startedAt, aliveUntil, alive, owned) = try row.decode((String, Int64, Int64, Bool, Int).self)
            return ReplicaRecord(
                replicaId: id,
                startedAt: startedAt,
                aliveUntil: aliveUntil,
                alive: alive,
                ownedWorkflows: owned
            )
        }
    }

    public func forward(_ result: ExecutionResult, workflowId: String) async throws {
        _ = try await rows(
            SQL.forward,
            binds(workflowId, result.ticketId, try json(result), replicaId),
            idempotent: false,
            doing: "forwarding the result of ticket \(result.ticketId)"
        )
        _ = try? await rows("SELECT pg_notify($1, 'forwarded')", binds(channel), doing: "notifying a forwarded result")
    }

    public func forwardedResults(limit: Int) async throws -> [ForwardedResult] {
        let rows = try await rows(
            SQL.forwardedResults,
            binds(replicaId, Int64(max(1, limit))),
            doing: "reading forwarded results"
        )
        return try rows.map { row in
            let (id, workflowId, text) = try row.decode((Int64, String, String).self)
            let result = try decode(ExecutionResult.self, text, table: "forwarded_results", key: "\(id)")
            return ForwardedResult(id: id, workflowId: workflowId, result: result)
        }
    }

    public func deleteForwardedResult(_ id: Int64) async throws {
        _ = try await rows(SQL.deleteForwarded, binds(id), doing: "removing forwarded result \(id)")
    }

    /// Tells the other replicas that a plan was saved (the owner of a workflow waiting for it
    /// attaches it).
    func notifyPlan(_ planId: String) async throws {
        _ = try await rows(
            "SELECT pg_notify($1, $2)",
            binds(channel, "plan " + planId),
            doing: "notifying plan \(planId)"
        )
    }

    /// Listens on the store's channel on a connection of its own until the stream's consumer stops;
    /// yields ``StoreNotification/resync`` each time it starts listening (notifications sent before
    /// were missed), and reconnects with backoff after a failure.
    public func notifications() -> AsyncStream<StoreNotification> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreNotification.self)
        let task = Task { [configuration, logger, channel] in
            var failures = 0
            while !Task.isCancelled {
                do {
                    let connection = try await Self.connect(configuration, logger: logger)
                    do {
                        try await connection.listen(on: channel) { notifications in
                            // Whatever was sent before this connection listened is lost: say so.
                            continuation.yield(.resync)
                            failures = 0
                            for try await notification in notifications {
                                if let parsed = StoreNotification(payload: notification.payload) {
                                    continuation.yield(parsed)
                                }
                            }
                        }
                        try? await connection.close()
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                } catch {
                    if Task.isCancelled { break }
                    failures += 1
                    let failure = PostgresStoreError.mapping(
                        error,
                        doing: "listening for notifications",
                        endpoint: configuration.endpoint
                    )
                    logger.warning(
                        "notification listener lost its connection; reconnecting",
                        metadata: ["error": "\(failure)", "attempt": "\(failures)"]
                    )
                }
                try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 6))))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

extension StoreNotification {
    init?(payload: String) {
        switch payload {
        case "outbox": self = .outbox
        case "released": self = .released
        case "forwarded": self = .forwarded
        default:
            guard payload.hasPrefix("plan ") else { return nil }
            self = .plan(String(payload.dropFirst(5)))
        }
    }
}

/// Statements of replica membership and ownership. Times come from the database's clock, so that
/// replicas' clocks need not agree.
private enum SQL {
    static let now = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"
    /// A workflow row `w` whose owner is not a live replica.
    static let orphan = """
        (w.owner IS NULL OR NOT EXISTS (
            SELECT 1 FROM replicas r WHERE r.replica_id = w.owner AND r.alive_until >= \(now)))
        """
    /// Takes the replica id when it is free or its holder's heartbeat expired; no row when taken.
    static let register = """
        INSERT INTO replicas (replica_id, incarnation, started_at, alive_until)
        VALUES ($1, $2, \(now), \(now) + $3)
        ON CONFLICT (replica_id) DO UPDATE SET incarnation = EXCLUDED.incarnation,
            started_at = EXCLUDED.started_at, alive_until = EXCLUDED.alive_until
        WHERE replicas.alive_until < EXCLUDED.started_at
        RETURNING 1
        """
    static let aliveUntil = "SELECT alive_until FROM replicas WHERE replica_id = $1"
    /// Renews this incarnation's row: `(renewed, was alive)`; no row when the row is gone.
    static let heartbeat = """
        WITH previous AS (SELECT incarnation, alive_until FROM replicas WHERE replica_id = $1 FOR UPDATE)
        UPDATE replicas r SET alive_until = CASE WHEN p.incarnation = $2 THEN \(now) + $3 ELSE r.alive_until END
        FROM previous p WHERE r.replica_id = $1
        RETURNING p.incarnation = $2, p.alive_until >= \(now)
        """
    static let unregister = "DELETE FROM replicas WHERE replica_id = $1 AND incarnation = $2"
    static let releaseOwned = "UPDATE workflows SET owner = NULL WHERE owner = $1"
    /// At most `$2`, and at most a fair share: the orphans divided by the live replicas (rounded
    /// up), so that the survivors of a dead replica split its workflows instead of the first one
    /// to look taking them all.
    static let claimOrphans = """
        WITH share AS (
            SELECT CEIL((SELECT COUNT(*) FROM workflows w
                    WHERE w.status IN (\(WorkflowStatusSQL.active)) AND \(orphan))::NUMERIC
                / GREATEST(1, (SELECT COUNT(*) FROM replicas WHERE alive_until >= \(now))))::BIGINT AS size
        )
        UPDATE workflows SET owner = $1
        WHERE workflow_id IN (
            SELECT w.workflow_id FROM workflows w
            WHERE w.status IN (\(WorkflowStatusSQL.active)) AND \(orphan)
            ORDER BY w.created_at LIMIT LEAST($2, (SELECT size FROM share))
            FOR UPDATE OF w SKIP LOCKED
        )
        RETURNING workflow_id
        """
    static let claimOne = """
        UPDATE workflows w SET owner = $1
        WHERE w.workflow_id = $2 AND (w.owner = $1 OR \(orphan))
        RETURNING w.workflow_id
        """
    static let owner = "SELECT owner FROM workflows WHERE workflow_id = $1"
    static let forward = """
        INSERT INTO forwarded_results (workflow_id, ticket_id, result, forwarded_by, created_at)
        VALUES ($1, $2, $3, $4, \(now))
        """
    static let forwardedResults = """
        SELECT f.id, f.workflow_id, f.result FROM forwarded_results f
        JOIN workflows w ON w.workflow_id = f.workflow_id
        WHERE w.owner = $1 ORDER BY f.id LIMIT $2
        """
    static let deleteForwarded = "DELETE FROM forwarded_results WHERE id = $1"
    static let owned = "SELECT workflow_id FROM workflows WHERE owner = $1 AND status IN (\(WorkflowStatusSQL.active))"
    static let replicas = """
        SELECT r.replica_id, r.started_at, r.alive_until, r.alive_until >= \(now),
            (SELECT COUNT(*) FROM workflows w WHERE w.owner = r.replica_id
                AND w.status IN (\(WorkflowStatusSQL.active)))::INTEGER
        FROM replicas r ORDER BY r.replica_id
        """
}
