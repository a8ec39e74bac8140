import Logging
import OrchestratorCore
import OrchestratorStore
import Synchronization
import Tracing

/// The engine's single writer: applies commands to the workflows it holds in memory, commits each
/// batch of transitions in one store transaction, and only then answers, dispatches and arms
/// timers. Confined to one task; nothing here is shared.
final class EngineLoop {
    struct Cached {
        var state: WorkflowState
        var index: WorkflowIndex
        var version: Int64
    }

    struct Waiter {
        var request: PollRequest
        var capabilities: [String]
        var deadline: EpochMillis
        var reply: Reply<[LeaseGrant]>
    }

    /// Transitions gathered for the current transaction.
    struct Batch {
        var commits: [WorkflowCommit] = []
        var effects: [(workflowId: String, effects: TransitionEffects)] = []
        /// Answers given once the batch is durable, with the workflows each depends on.
        var replies: [PendingReply] = []
        var touched: Set<String> = []
        /// Decision ids and workflow ids created in this batch.
        var newDecisions: [String: String] = [:]
        var newWorkflowIds: Set<String> = []
        /// Timers fired into this batch (``tick()`` bounds them).
        var firedTimers = 0

        var isEmpty: Bool { commits.isEmpty && replies.isEmpty }

        /// Takes out everything of one workflow; the replies that depend on it fail with `error`.
        mutating func remove(workflow workflowId: String, failing error: any Error) {
            commits.removeAll { $0.state.workflowId == workflowId }
            effects.removeAll { $0.workflowId == workflowId }
            let (failed, kept) = (
                replies.filter { $0.workflows.contains(workflowId) },
                replies.filter { !$0.workflows.contains(workflowId) }
            )
            replies = kept
            for reply in failed { reply.fail(error) }
            touched.remove(workflowId)
            newDecisions = newDecisions.filter { $0.value != workflowId }
            newWorkflowIds.remove(workflowId)
        }

        /// Appends a later batch (its commits apply on top of this one's).
        mutating func append(_ later: Batch) {
            commits += later.commits
            effects += later.effects
            replies += later.replies
            touched.formUnion(later.touched)
            newDecisions.merge(later.newDecisions) { first, _ in first }
            newWorkflowIds.formUnion(later.newWorkflowIds)
            firedTimers += later.firedTimers
        }
    }

    /// An answer waiting for its batch to be durable.
    struct PendingReply {
        var workflows: [String]
        var succeed: () -> Void
        /// Receives the store's error as is.
        var fail: (any Error) -> Void
    }

    let store: any WorkflowStore
    /// The same store when several replicas share it: workflows are then claimed before use.
    let shared: (any SharedWorkflowStore)?
    let machine: WorkflowStateMachine
    let configuration: EngineConfiguration
    let clock: any WallClock
    let logger: Logger
    let metrics: EngineMetrics
    let traces: WorkflowTraces
    var lifecycle: LifecycleLog { LifecycleLog(logger: logger) }
    let outboxSignal: AsyncStream<Void>.Continuation
    let writeHealth: WriteHealth

    var cache: [String: Cached] = [:]
    /// Ticket id → workflow id for every ticket of a cached workflow.
    var owner: [String: String] = [:]
    var ready = ReadyQueue()
    var timers = TimerQueue()
    var waiters: [Waiter] = []
    var workers: [String: WorkerRecord] = [:]
    var batch = Batch()
    /// Workflows dropped from memory after a failed commit whose reload failed too (the store was
    /// down): read again by ``maintain()``.
    var pendingReload: Set<String> = []
    /// The batch being written, with the task writing it (its error, if it failed).
    var inFlight: InFlight?

    struct InFlight {
        var batch: Batch
        var done: DoneFlag
        var task: Task<(any Error)?, Never>
        var isDone: Bool { done.value }
    }

    /// Set by the commit task when the write has finished.
    final class DoneFlag: Sendable {
        private let flag = Mutex(false)
        var value: Bool { flag.withLock { $0 } }
        func set() { flag.withLock { $0 = true } }
    }

    /// Workflows this replica created since an ownership check began (`nil`: none running). The
    /// owned ids are read outside the loop; one created meanwhile may be missing from them.
    var createdSinceOwnershipCheck: Set<String>?

    /// The command queue, to wake the loop when a commit finishes.
    var queue: CommandQueue?

    init(
        store: any WorkflowStore,
        configuration: EngineConfiguration,
        clock: any WallClock,
        logger: Logger,
        metrics: EngineMetrics,
        traces: WorkflowTraces = WorkflowTraces(),
        outboxSignal: AsyncStream<Void>.Continuation,
        writeHealth: WriteHealth = WriteHealth()
    ) {
        self.store = store
        self.shared = store as? any SharedWorkflowStore
        self.machine = WorkflowStateMachine(policies: configuration.policies)
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.traces = traces
        self.outboxSignal = outboxSignal
        self.writeHealth = writeHealth
    }

    var now: EpochMillis { clock.nowMillis() }

    // MARK: - Start-up

    /// Loads every active workflow, the ready tickets, the pending timers and the workers.
    func bootstrap() async throws -> [String] {
        if let shared {
            // Only the workflows nobody else runs: orphans, and those an earlier process left.
            while true {
                let claimed = try await shared.claimOrphans(limit: Self.claimBatch)
                for workflow in claimed { adopt(claimed: workflow) }
                if claimed.count < Self.claimBatch { break }
            }
        } else {
            for stored in try await store.activeWorkflows() {
                adopt(Cached(state: stored.state, index: WorkflowIndex(stored.state), version: stored.version))
            }
            for spec in try await store.timers() where cache[spec.workflowId] != nil {
                timers.schedule(spec)
            }
        }
        for worker in try await store.workers() { workers[worker.workerId] = worker }
        updateLoad()
        logger.info(
            "engine state loaded",
            metadata: [
                "active_workflows": "\(cache.count)", "ready_tickets": "\(ready.count)", "timers": "\(timers.count)",
            ]
        )
        return cache.values.filter { $0.state.status == .WAITING_FOR_PLAN }.map(\.state.workflowId)
    }

    /// Most workflows claimed by one statement.
    static let claimBatch = 200

    /// Puts a claimed workflow in memory with its timers, unless it is there already or finished.
    @discardableResult
    func adopt(claimed: ClaimedWorkflow) -> Cached {
        let stored = claimed.workflow
        let id = stored.state.workflowId
        pendingReload.remove(id)
        createdSinceOwnershipCheck?.insert(id)
        if let entry = cache[id] { return entry }
        let entry = Cached(state: stored.state, index: WorkflowIndex(stored.state), version: stored.version)
        guard !stored.state.status.isTerminal else { return entry }
        adopt(entry)
        for spec in claimed.timers { timers.schedule(spec) }
        return entry
    }

    /// Puts a workflow in memory and indexes its tickets.
    func adopt(_ entry: Cached) {
        let id = entry.state.workflowId
        cache[id] = entry
        for record in entry.state.tickets {
            owner[record.ticketId] = id
            if record.phase == .READY { ready.insert(readyEntry(record, workflowId: id)) }
        }
    }

    func readyEntry(_ record: TicketRecord, workflowId: String) -> ReadyQueue.Entry {
        ReadyQueue.Entry(
            ticketId: record.ticketId,
            workflowId: workflowId,
            score: record.score,
            deadline: record.ticket.sla.deadline,
            capabilities: record.ticket.requiredCapabilities
        )
    }

    // MARK: - The loop

    func run(queue: CommandQueue) async {
        self.queue = queue
        var wakeups = queue.signal.makeAsyncIterator()
        while !Task.isCancelled {
            let commands = queue.drain(max: configuration.maxBatch)
            for command in commands { await handle(command) }
            serveWaiters()
            // Pipelined group commit: commands keep accumulating in the next batch while one
            // batch is being written; when that write is done it is settled (answers, dispatch,
            // timers) and the accumulated batch starts at once.
            if inFlight?.isDone == true { await finishCommit() }
            if inFlight == nil { startCommit() }
            let idle = commands.isEmpty && !hasServableWaiters
            if idle && inFlight?.isDone != true {
                // Sleep until a command arrives or the write in flight finishes.
                if await wakeups.next() == nil { break }
            }
        }
        await commitBatch()
        // Nobody will serve the long polls any more: answer them empty.
        for waiter in waiters { waiter.reply.succeed([]) }
        waiters = []
    }

    var hasServableWaiters: Bool { !waiters.isEmpty && !ready.isEmpty && batch.commits.isEmpty && canServeAny }

    var canServeAny: Bool {
        waiters.contains { ready.hasMatch(capabilities: $0.capabilities) }
    }

    // MARK: - Transitions

    /// Applies an event to a workflow and queues its commit. Throws the refusal, leaving the
    /// workflow unchanged.
    @discardableResult
    func transition(
        _ workflowId: String,
        _ event: WorkflowEvent,
        fired: [String] = [],
        decision: ConsolidatedDecision? = nil
    ) async throws -> (state: WorkflowState, effects: TransitionEffects) {
        guard var entry = try await cached(workflowId) else {
            throw EngineError(.notFound, "no workflow \(workflowId)")
        }
        let wasCached = cache.removeValue(forKey: workflowId) != nil
        let timed = TimedEvent(at: now, event: event)
        let effects: TransitionEffects
        do {
            effects = try machine.apply(timed, to: &entry.state, index: &entry.index)
        } catch {
            if wasCached { cache[workflowId] = entry }
            throw EngineError.from(error)
        }
        record(entry, event: timed, effects: effects, fired: fired)
        entry.version += 1
        cache[workflowId] = entry
        return (entry.state, effects)
    }

    func record(_ entry: Cached, event: TimedEvent, effects: TransitionEffects, fired: [String]) {
        let id = entry.state.workflowId
        batch.commits.append(
            WorkflowCommit(
                state: entry.state,
                expectedVersion: entry.version,
                changedTickets: effects.changedTickets,
                decision: nil,
                event: event,
                timers: effects.timers,
                outbox: effects.outbox,
                incidents: effects.incidents,
                audit: effects.audit,
                firedTimers: fired
            )
        )
        // Encoded here, while the previous batch is being written, not on the store's serial path.
        batch.commits[batch.commits.count - 1].encoded = try? EncodedCommit(batch.commits[batch.commits.count - 1])
        batch.effects.append((id, effects))
        batch.touched.insert(id)
        metrics.observe(event: event, state: entry.state, index: entry.index, effects: effects)
        if let timings = effects.preparation {
            if !entry.state.tickets.isEmpty { metrics.generated(nanoseconds: timings.totalNanos) }
            // Right after the transition that prepared the plan: the C1/C2 spans end now.
            if traces.isEnabled {
                traces.prepared(
                    entry.state,
                    key: entry.state.decisionId,
                    timings: timings,
                    endedAt: DefaultTracerClock.now
                )
            }
        }
        if traces.isEnabled { traceAttempt(event.event) }
    }

    /// Ends the span of a lease when its attempt is reported or lost.
    func traceAttempt(_ event: WorkflowEvent) {
        switch event {
        case .completed(let ticketId, _, _):
            traces.attemptEnded(ticketId: ticketId, outcome: "completed")
        case .failed(let ticketId, _, let error, let retryable, _):
            traces.attemptEnded(ticketId: ticketId, outcome: retryable ? "failed" : "failed_final", error: error)
        case .leaseExpired(let ticketId, _):
            traces.attemptEnded(ticketId: ticketId, outcome: "lease_expired", error: "the lease expired")
        default:
            break
        }
    }

    /// A workflow to change: from memory, else from the store. With a shared store the workflow is
    /// claimed first (when its owner is gone); one another live replica owns is refused.
    func cached(_ workflowId: String) async throws -> Cached? {
        if let entry = cache[workflowId] { return entry }
        if pendingReload.contains(workflowId) {
            await retryReloads()
            if let entry = cache[workflowId] { return entry }
        }
        guard let shared else { return try await readable(workflowId) }
        switch try await shared.claim(workflowId) {
        case .claimed(let claimed):
            metrics.claimed(1)
            return adopt(claimed: claimed)
        case .ownedBy(let replica):
            throw EngineError(
                .conflict,
                "workflow \(workflowId) is run by replica \(replica); send this request to that replica",
                owner: replica
            )
        case .notFound:
            return nil
        }
    }

    /// A workflow to read: from memory, else as stored.
    func readable(_ workflowId: String) async throws -> Cached? {
        if let entry = cache[workflowId] { return entry }
        guard let stored = try await store.workflow(workflowId) else { return nil }
        return Cached(state: stored.state, index: WorkflowIndex(stored.state), version: stored.version)
    }

    // MARK: - Commit

    /// The load gauges: cached workflows, ready tickets, live leases, queued commands.
    func updateLoad() {
        metrics.setLoad(active: cache.count, ready: ready.count, leases: timers.leases, queued: queue?.depth ?? 0)
        if shared != nil { metrics.setOwned(cache.count) }
    }

    /// Writes the batch built so far and waits until it is durable (and answered).
    func commitBatch() async {
        await finishCommit()
        startCommit()
        await finishCommit()
    }

    /// Starts writing the current batch in the background; at most one batch is in flight. The
    /// loop goes on applying commands on top of it in memory; nothing of the new batch is
    /// answered, dispatched or armed before both are durable.
    func startCommit() {
        guard !batch.isEmpty else { return }
        let current = batch
        batch = Batch()
        metrics.committing(transitions: current.commits.count)
        let store = self.store
        let commits = current.commits
        let done = DoneFlag()
        let queue = self.queue
        let metrics = self.metrics
        let span: (any Span)? =
            traces.isEnabled && !commits.isEmpty ? Self.commitSpan(commits, store: store, traces: traces) : nil
        inFlight = InFlight(
            batch: current,
            done: done,
            task: Task {
                var failure: (any Error)?
                let started = ContinuousClock.now
                do {
                    if !commits.isEmpty { try await store.commit(commits) }
                } catch {
                    failure = error
                    span?.recordError(error)
                    span?.setStatus(SpanStatus(code: .error))
                }
                span?.end()
                if !commits.isEmpty { metrics.committed(in: ContinuousClock.now - started, failed: failure != nil) }
                done.set()
                queue?.poke()
                return failure
            }
        )
    }

    /// The span of one group commit: a root span (a commit serves many workflows), linked to the
    /// workflows' spans (at most 32).
    static func commitSpan(_ commits: [WorkflowCommit], store: any WorkflowStore, traces: WorkflowTraces) -> any Span {
        let span = startSpan("store commit", context: .topLevel, ofKind: .client)
        span.attributes["db.system"] = store.databaseSystem
        span.attributes["db.operation.name"] = "commit"
        span.attributes["orchestrator.transitions"] = commits.count
        var linked: Set<String> = []
        for commit in commits where linked.count < 32 && linked.insert(commit.state.workflowId).inserted {
            guard let spanId = commit.state.spanId, TraceContext.isSpanHex(spanId) else { continue }
            span.addLink(SpanLink(context: traces.parentContext(commit.state), attributes: [:]))
        }
        return span
    }

    /// Waits for the batch in flight, then applies its effects and answers its commands. When it
    /// failed, the batch built on top of it is dropped too, and the workflows both touched are
    /// read again from the store.
    func finishCommit() async {
        guard let pending = inFlight else { return }
        inFlight = nil
        let committed = pending.batch
        if let error = await pending.task.value {
            if let culprit = culprit(of: error, in: committed) {
                // One workflow was refused (another replica owns it, or created the same decision):
                // drop it, and write the rest again with the batch built on top.
                logger.warning(
                    "commit refused for one workflow; dropping it and writing the rest again",
                    metadata: ["workflow_id": "\(culprit)", "error": "\(error)"]
                )
                var retry = committed
                retry.remove(workflow: culprit, failing: error)
                batch.remove(workflow: culprit, failing: error)
                retry.append(batch)
                batch = retry
                evict(culprit)
                metrics.lost(1)
                return
            }
            logger.error("commit failed; reloading affected workflows", metadata: ["error": "\(error)"])
            writeHealth.failed(error)
            let dropped = batch
            batch = Batch()
            await reload(committed.touched.union(dropped.touched))
            for reply in committed.replies + dropped.replies { reply.fail(error) }
            return
        }
        if !committed.commits.isEmpty { writeHealth.succeeded() }
        if createdSinceOwnershipCheck != nil { createdSinceOwnershipCheck!.formUnion(committed.newWorkflowIds) }
        for (workflowId, effects) in committed.effects { applyCommitted(workflowId, effects) }
        // `commits` and `effects` are appended together (``record``) and removed together.
        for (commit, (_, effects)) in zip(committed.commits, committed.effects) {
            lifecycle.committed(commit, effects)
            if effects.finished && traces.isEnabled {
                traces.finishWorkflow(
                    commit.state,
                    reason: LifecycleLog.failureReason(commit.state, cause: commit.event.event)
                )
            }
        }
        for reply in committed.replies { reply.succeed() }
        if committed.commits.contains(where: { !$0.outbox.isEmpty }) { outboxSignal.yield() }
        updateLoad()
    }

    /// Effects that only take hold once durable: dispatch index, timers, eviction of finished workflows.
    func applyCommitted(_ workflowId: String, _ effects: TransitionEffects) {
        guard let entry = cache[workflowId] else { return }
        for change in effects.timers { timers.apply(change) }
        for ticketId in effects.withdrawn { ready.remove(ticketId) }
        for i in effects.changedTickets where i < entry.state.tickets.count {
            owner[entry.state.tickets[i].ticketId] = workflowId
        }
        for ticketId in effects.released {
            guard let i = entry.index.position[ticketId], entry.state.tickets[i].phase == .READY else { continue }
            ready.insert(readyEntry(entry.state.tickets[i], workflowId: workflowId))
        }
        // A workflow the next batch changed again stays until that batch is settled too.
        if entry.state.status.isTerminal && !batch.touched.contains(workflowId) {
            evict(workflowId)
        }
    }

    func evict(_ workflowId: String) {
        guard let entry = cache.removeValue(forKey: workflowId) else { return }
        for record in entry.state.tickets { owner.removeValue(forKey: record.ticketId) }
        ready.removeAll(workflowId: workflowId)
        timers.removeAll(workflowId: workflowId)
    }

    /// The one workflow a refused commit names, when the refusal is about that workflow alone.
    func culprit(of error: any Error, in failed: Batch) -> String? {
        switch error as? StoreError {
        case .notOwner(let workflowId, _), .versionConflict(let workflowId):
            return failed.touched.contains(workflowId) ? workflowId : nil
        case .duplicateDecision(let decisionId, _):
            return failed.newDecisions[decisionId]
        case .corrupt, nil:
            return nil
        }
    }

    /// After a failed commit: drop what memory says about the touched workflows and read them again
    /// (with a shared store, only those this replica still owns). Those that cannot be read now
    /// are read again by ``maintain()``.
    func reload(_ workflowIds: Set<String>) async {
        for id in workflowIds { evict(id) }
        pendingReload.formUnion(workflowIds)
        await retryReloads()
    }

    /// Reads the workflows of ``pendingReload`` again; those still unreadable stay there.
    func retryReloads() async {
        guard !pendingReload.isEmpty else { return }
        if let shared {
            for id in pendingReload.sorted() {
                do {
                    switch try await shared.claim(id) {
                    case .claimed(let claimed): adopt(claimed: claimed)
                    case .ownedBy, .notFound: pendingReload.remove(id)
                    }
                } catch {
                    logger.warning(
                        "reload failed; will retry",
                        metadata: ["workflow_id": "\(id)", "error": "\(error)"]
                    )
                    return
                }
            }
            return
        }
        let ids = pendingReload
        do {
            var loaded: [Cached] = []
            for id in ids.sorted() {
                if let stored = try await store.workflow(id) {
                    loaded.append(
                        Cached(state: stored.state, index: WorkflowIndex(stored.state), version: stored.version)
                    )
                }
            }
            let specs = try await store.timers()
            pendingReload.subtract(ids)
            for entry in loaded where cache[entry.state.workflowId] == nil && !entry.state.status.isTerminal {
                adopt(entry)
            }
            for spec in specs where ids.contains(spec.workflowId) && cache[spec.workflowId] != nil {
                timers.schedule(spec)
            }
        } catch {
            logger.warning("reload failed; will retry", metadata: ["error": "\(error)"])
        }
    }
}
