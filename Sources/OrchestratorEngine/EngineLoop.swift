import Logging
import OrchestratorCore
import OrchestratorStore
import Synchronization

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
        var onSuccess: [() -> Void] = []
        var onFailure: [(any Error) -> Void] = []
        var touched: Set<String> = []
        /// Decision ids and workflow ids created in this batch.
        var newDecisions: [String: String] = [:]
        var newWorkflowIds: Set<String> = []
    }

    let store: any WorkflowStore
    let machine: WorkflowStateMachine
    let configuration: EngineConfiguration
    let clock: any WallClock
    let logger: Logger
    let metrics: EngineMetrics
    let outboxSignal: AsyncStream<Void>.Continuation

    var cache: [String: Cached] = [:]
    /// Ticket id → workflow id for every ticket of a cached workflow.
    var owner: [String: String] = [:]
    var ready = ReadyQueue()
    var timers = TimerQueue()
    var waiters: [Waiter] = []
    var workers: [String: WorkerRecord] = [:]
    var batch = Batch()
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

    /// The command queue, to wake the loop when a commit finishes.
    var queue: CommandQueue?

    init(
        store: any WorkflowStore,
        configuration: EngineConfiguration,
        clock: any WallClock,
        logger: Logger,
        metrics: EngineMetrics,
        outboxSignal: AsyncStream<Void>.Continuation
    ) {
        self.store = store
        self.machine = WorkflowStateMachine(policies: configuration.policies)
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.outboxSignal = outboxSignal
    }

    var now: EpochMillis { clock.nowMillis() }

    // MARK: - Start-up

    /// Loads every active workflow, the ready tickets, the pending timers and the workers.
    func bootstrap() async throws -> [String] {
        for stored in try await store.activeWorkflows() {
            adopt(Cached(state: stored.state, index: WorkflowIndex(stored.state), version: stored.version))
        }
        for spec in try await store.timers() where cache[spec.workflowId] != nil {
            timers.schedule(spec)
        }
        for worker in try await store.workers() { workers[worker.workerId] = worker }
        metrics.setActive(cache.count)
        logger.info(
            "engine state loaded",
            metadata: [
                "active_workflows": "\(cache.count)", "ready_tickets": "\(ready.count)", "timers": "\(timers.count)",
            ]
        )
        return cache.values.filter { $0.state.status == .WAITING_FOR_PLAN }.map(\.state.workflowId)
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
        waiters.contains { waiter in
            ready.entries.contains { AllocationPolicy.matches(required: $0.capabilities, offered: waiter.capabilities) }
        }
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
        let audit: ValidationReport? =
            switch event.event {
            case .decisionAccepted, .planAttached: entry.state.validation
            default: nil
            }
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
                audit: audit,
                firedTimers: fired
            )
        )
        // Encoded here, while the previous batch is being written, not on the store's serial path.
        batch.commits[batch.commits.count - 1].encoded = try? EncodedCommit(batch.commits[batch.commits.count - 1])
        batch.effects.append((id, effects))
        batch.touched.insert(id)
        metrics.observe(event: event.event, state: entry.state, effects: effects)
    }

    /// A workflow from memory, or from the store when it is not active.
    func cached(_ workflowId: String) async throws -> Cached? {
        if let entry = cache[workflowId] { return entry }
        guard let stored = try await store.workflow(workflowId) else { return nil }
        return Cached(state: stored.state, index: WorkflowIndex(stored.state), version: stored.version)
    }

    // MARK: - Commit

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
        guard !batch.commits.isEmpty || !batch.onSuccess.isEmpty || !batch.onFailure.isEmpty else { return }
        let current = batch
        batch = Batch()
        metrics.committing(transitions: current.commits.count)
        let store = self.store
        let commits = current.commits
        let done = DoneFlag()
        let queue = self.queue
        inFlight = InFlight(
            batch: current,
            done: done,
            task: Task {
                var failure: (any Error)?
                do {
                    if !commits.isEmpty { try await store.commit(commits) }
                } catch {
                    failure = error
                }
                done.set()
                queue?.poke()
                return failure
            }
        )
    }

    /// Waits for the batch in flight, then applies its effects and answers its commands. When it
    /// failed, the batch built on top of it is dropped too, and the workflows both touched are
    /// read again from the store.
    func finishCommit() async {
        guard let pending = inFlight else { return }
        inFlight = nil
        let committed = pending.batch
        if let error = await pending.task.value {
            logger.error("commit failed; reloading affected workflows", metadata: ["error": "\(error)"])
            let dropped = batch
            batch = Batch()
            await reload(committed.touched.union(dropped.touched))
            for fail in committed.onFailure + dropped.onFailure {
                fail(EngineError(.unavailable, "the store could not commit the change: \(error)"))
            }
            return
        }
        for (workflowId, effects) in committed.effects { applyCommitted(workflowId, effects) }
        for succeed in committed.onSuccess { succeed() }
        if committed.commits.contains(where: { !$0.outbox.isEmpty }) { outboxSignal.yield() }
        metrics.setActive(cache.count)
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

    /// After a failed commit: drop what memory says about the touched workflows and read them again.
    func reload(_ workflowIds: Set<String>) async {
        for id in workflowIds {
            evict(id)
            do {
                if let stored = try await store.workflow(id), !stored.state.status.isTerminal {
                    adopt(Cached(state: stored.state, index: WorkflowIndex(stored.state), version: stored.version))
                }
            } catch {
                logger.error("reload failed", metadata: ["workflow_id": "\(id)", "error": "\(error)"])
            }
        }
        do {
            for spec in try await store.timers() where workflowIds.contains(spec.workflowId) { timers.schedule(spec) }
        } catch {
            logger.error("timer reload failed", metadata: ["error": "\(error)"])
        }
    }
}
