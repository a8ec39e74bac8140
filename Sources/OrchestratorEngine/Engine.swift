import Logging
import OrchestratorCore
import OrchestratorStore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The durable Flow C engine: one workflow per decision, driven by a single writer loop over a
/// ``WorkflowStore``. Run it as a `Service`; call its methods from any task.
public final class Engine: Service, Sendable {
    public let store: any WorkflowStore
    public let configuration: EngineConfiguration
    /// Live feed of relayed outbox messages (server-sent events).
    public let feed = LiveFeed()
    let clock: any WallClock
    let logger: Logger
    let queue = CommandQueue()
    let sinks: [any OutboxSink]
    let outboxSignal: AsyncStream<Void>
    let outboxWake: AsyncStream<Void>.Continuation
    let readyState = ReadyFlag()
    /// The workflow and ticket spans (inert without a bootstrapped tracer).
    let traces = WorkflowTraces()
    let writeHealth = WriteHealth()
    /// Set when graceful shutdown begins: polls are answered at once from then on.
    let longPollsEnded = ReadyFlag()

    /// - Parameters:
    ///   - sinks: where outbox messages go besides the live feed (e.g. a ``JSONLinesSink``).
    public init(
        store: any WorkflowStore,
        configuration: EngineConfiguration = EngineConfiguration(),
        clock: any WallClock = SystemClock(),
        sinks: [any OutboxSink] = [],
        logger: Logger
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.sinks = sinks
        self.logger = logger
        (outboxSignal, outboxWake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Whether the engine has loaded its state and is taking commands.
    public var isRunning: Bool { readyState.value }

    /// Why the store refuses writes, from the last commit or write probe that failed; `nil` once one
    /// succeeds again.
    public var writeProblem: String? { writeHealth.current }

    /// Runs until cancelled or until graceful shutdown: loads state, then runs the command loop,
    /// the timer ticker and the outbox relay.
    public func run() async throws {
        _ = try await store.migrate()
        let shared = store as? any SharedWorkflowStore
        if let shared { try await register(shared) }
        let loop = EngineLoop(
            store: store,
            configuration: configuration,
            clock: clock,
            logger: logger,
            metrics: EngineMetrics(),
            traces: traces,
            outboxSignal: outboxWake,
            writeHealth: writeHealth
        )
        let waiting = try await loop.bootstrap()
        await loop.attachWaitingPlans(waiting)
        let relay = OutboxRelay(
            store: store,
            sinks: sinks + [feed],
            batchSize: configuration.relayBatch,
            logger: logger
        )
        readyState.set(true)
        defer { readyState.set(false) }
        let tick = configuration.tickIntervalMs
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await relay.run(signal: self.outboxSignal) }
                if let shared {
                    let claimNow = Flag()
                    group.addTask { await self.listen(shared, claimNow: claimNow) }
                    group.addTask {
                        if await !self.maintain(shared, claimNow: claimNow) {
                            // Another process took this replica id: this one owns nothing any more.
                            self.replaced.set()
                            self.shutdown()
                        }
                    }
                } else {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .seconds(1))
                            guard self.queue.enqueue(.maintain) else { return }
                        }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(tick))
                        guard self.queue.enqueue(.tick) else { return }
                    }
                }
                // The loop runs in this task: it alone owns the engine's in-memory state.
                await loop.run(queue: self.queue)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
        shutdown()
        // Deliver what is already committed before returning.
        _ = try? await relay.relayAll()
        if replaced.value {
            throw EngineError(
                .unavailable,
                "another process registered with replica id \(shared?.replicaId ?? "?") while this one's heartbeat had "
                    + "expired; stopping"
            )
        }
        if let shared {
            // Give the workflows back so that the other replicas take them over at once.
            do {
                try await shared.releaseAll()
            } catch {
                logger.warning("could not release this replica's workflows", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Set when another process took over this replica's id.
    let replaced = Flag()

    /// A flag shared between tasks.
    final class Flag: Sendable {
        private let state = Mutex(false)
        var value: Bool { state.withLock { $0 } }
        func set() { state.withLock { $0 = true } }
        /// Returns whether it was set, and clears it.
        func take() -> Bool {
            state.withLock { value in
                defer { value = false }
                return value
            }
        }
    }

    /// Registers this replica, waiting while another live process still holds its id (for
    /// instance the previous process of a replica restarted after a crash, until its heartbeat
    /// expires).
    func register(_ shared: any SharedWorkflowStore) async throws {
        var attempt = 0
        while true {
            do {
                _ = try await shared.heartbeat()
                return
            } catch {
                try Task.checkCancellation()
                attempt += 1
                logger.warning(
                    "replica cannot register yet; retrying",
                    metadata: ["replica_id": "\(shared.replicaId)", "error": "\(error)", "attempt": "\(attempt)"]
                )
                try await Task.sleep(for: .milliseconds(max(100, shared.ownershipTtlMs / 3)))
            }
        }
    }

    /// Keeps this replica's ownership alive and takes over orphaned workflows: every third of the
    /// ownership TTL (or at once when `claimNow` is set by a notification), renews the heartbeat,
    /// claims orphans, and asks the loop to retry pending reloads. Returns `false` when this
    /// process was replaced, `true` when cancelled.
    func maintain(_ shared: any SharedWorkflowStore, claimNow: Flag) async -> Bool {
        let interval = max(100, shared.ownershipTtlMs / 3)
        while !Task.isCancelled {
            do {
                let outcome = try await shared.heartbeat()
                EngineMetrics.heartbeat("\(outcome)", at: clock.nowMillis())
                switch outcome {
                case .renewed:
                    break
                case .expired:
                    logger.warning("this replica's heartbeat had expired; checking which workflows it still owns")
                    // The read may miss workflows committed while it runs: the loop counts those as
                    // its own from this mark on.
                    guard queue.enqueue(.beginOwnershipCheck) else { return true }
                    guard queue.enqueue(.verifyOwnership(try await shared.ownedWorkflowIds())) else { return true }
                case .replaced:
                    logger.critical(
                        "another process registered with this replica id; stopping",
                        metadata: ["replica_id": "\(shared.replicaId)"]
                    )
                    return false
                }
                // A fair share per round; the pause lets the other replicas take theirs.
                while !Task.isCancelled {
                    let claimed = try await shared.claimOrphans(limit: EngineLoop.claimBatch)
                    if claimed.isEmpty { break }
                    logger.info(
                        "replica takeover: claimed orphaned workflows",
                        metadata: [
                            "count": "\(claimed.count)",
                            "workflow_ids": .array(claimed.prefix(50).map { .string($0.workflow.state.workflowId) }),
                        ]
                    )
                    guard queue.enqueue(.adopt(claimed)) else { return true }
                    try? await Task.sleep(for: .milliseconds(200))
                }
                try await applyForwarded(shared)
            } catch {
                EngineMetrics.heartbeat("error", at: clock.nowMillis())
                logger.warning("replica maintenance failed; retrying", metadata: ["error": "\(error)"])
            }
            guard queue.enqueue(.maintain) else { return true }
            // Rows other replicas committed (or a dead one left) are relayed by whoever relays next.
            outboxWake.yield()
            var waited: Int64 = 0
            while waited < interval && !claimNow.take() && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(min(100, interval)))
                waited += 100
            }
        }
        return true
    }

    /// Applies the results other replicas forwarded to workflows this one runs; each is removed once
    /// applied, or once refused for good (stale, duplicate, unknown ticket). One the store cannot
    /// take now, or whose workflow moved to another replica meanwhile, stays for the next round.
    func applyForwarded(_ shared: any SharedWorkflowStore) async throws {
        for forwarded in try await shared.forwardedResults(limit: 500) {
            if let report = TicketReport(unfenced: forwarded.result) {
                do {
                    _ = try await self.report(report)
                } catch let error as EngineError where error.owner == nil && error.code != .unavailable {
                    logger.notice(
                        "forwarded result refused",
                        metadata: ["ticket_id": "\(forwarded.result.ticketId)", "reason": "\(error.message)"]
                    )
                } catch {
                    continue
                }
            }
            try await shared.deleteForwardedResult(forwarded.id)
        }
    }

    /// Turns the other replicas' notifications into work: claims when workflows were released,
    /// attaches plans saved elsewhere.
    func listen(_ shared: any SharedWorkflowStore, claimNow: Flag) async {
        for await notification in shared.notifications() {
            switch notification {
            case .released, .forwarded:
                claimNow.set()
            case .plan(let planId):
                guard queue.enqueue(.planSaved(planId)) else { return }
            case .resync:
                claimNow.set()
                guard queue.enqueue(.planSaved(nil)) else { return }
            case .outbox:
                outboxWake.yield()
            }
        }
    }

    /// The first step of a graceful shutdown: answers every parked long poll now (with no ticket)
    /// and every later poll at once, so that the HTTP listeners, which wait for their requests to
    /// finish, are not held up to a whole poll wait by workers. The engine itself goes on until it
    /// is shut down.
    public func endLongPolls() {
        longPollsEnded.set(true)
        _ = queue.enqueue(.endLongPolls)
    }

    /// Stops taking commands; queued ones fail as unavailable.
    func shutdown() {
        for command in queue.close() { command.fail(EngineError(.unavailable, "the engine is shutting down")) }
        outboxWake.finish()
    }

    // MARK: - Commands

    /// Sends a command and waits for its answer. Errors that are not the engine's own come from the
    /// store (a full disk, a lost database): they reach the caller as unavailable, with the reason.
    func send<T: Sendable>(_ make: (Reply<T>) -> EngineCommand) async throws -> T {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let command = make(Reply(continuation: continuation))
                if !queue.enqueue(command) {
                    continuation.resume(throwing: EngineError(.unavailable, "the engine is not running"))
                }
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.unavailable, "the store failed: \(error)")
        }
    }

    /// Accepts a decision (idempotent by `decision_id`).
    public func submit(decision: ConsolidatedDecision) async throws -> SubmitOutcome {
        guard traces.isEnabled else { return try await send { .submitDecision(decision, $0) } }
        var decision = decision
        let key = decision.decisionId
        if let ids = traces.startWorkflow(key: key, traceId: decision.traceId, spanId: decision.spanId) {
            (decision.traceId, decision.spanId) = (ids.traceId, ids.spanId)
        }
        // A decision's submission always answers an outcome.
        return try await traced(key: key) { [decision] in try await send { .submitDecision(decision, $0) } }!
    }

    /// Sends a submission whose workflow span was started under `key`, and settles the span.
    private func traced(key: String, _ body: () async throws -> SubmitOutcome?) async throws -> SubmitOutcome? {
        do {
            let outcome = try await body()
            traces.settleWorkflow(key: key, workflowId: outcome?.workflowId, created: outcome?.created ?? false)
            return outcome
        } catch {
            traces.settleWorkflow(key: key, workflowId: nil, created: false, error: error)
            throw error
        }
    }

    /// Keeps a plan in the ledger, hands it to decisions waiting for it, and with `start` runs it
    /// as its own workflow (decision id `plan-<plan_id>`).
    public func submit(plan: CognitivePlan, start: Bool) async throws -> SubmitOutcome? {
        guard traces.isEnabled && start else { return try await send { .submitPlan(plan, start: start, $0) } }
        var plan = plan
        let key = "plan-" + plan.planId
        if let ids = traces.startWorkflow(key: key, traceId: plan.traceId, spanId: plan.spanId) {
            (plan.traceId, plan.spanId) = (ids.traceId, ids.spanId)
        }
        return try await traced(key: key) { [plan] in try await send { .submitPlan(plan, start: start, $0) } }
    }

    public func perform(_ action: OperatorAction, on workflowId: String) async throws -> WorkflowState {
        try await send { .operatorAction(workflowId: workflowId, action, $0) }
    }

    public func register(_ registration: WorkerRegistration) async throws -> WorkerRecordSnapshot {
        try await send { .registerWorker(registration, $0) }
    }

    /// Leases up to `maxTickets` tickets, waiting up to `waitMs` for one to become ready.
    public func poll(_ request: PollRequest) async throws -> [LeaseGrant] {
        var bounded = request
        bounded.maxTickets = min(max(1, request.maxTickets), configuration.maxTicketsPerPoll)
        bounded.waitMs = longPollsEnded.value ? 0 : min(max(0, request.waitMs), configuration.maxPollWaitMs)
        return try await send { .poll(bounded, $0) }
    }

    /// A heartbeat, completion or failure.
    public func report(_ report: TicketReport) async throws -> TicketRecord {
        try await send { .report(report, $0) }
    }

    /// The current state of a workflow (from memory when active).
    public func workflow(_ workflowId: String) async throws -> WorkflowState? {
        try await send { .snapshot(workflowId: workflowId, $0) }
    }
}

extension EngineCommand {
    func fail(_ error: any Error) {
        switch self {
        case .submitDecision(_, let reply): reply.fail(error)
        case .submitPlan(_, _, let reply): reply.fail(error)
        case .operatorAction(_, _, let reply): reply.fail(error)
        case .poll(_, let reply): reply.fail(error)
        case .report(_, let reply): reply.fail(error)
        case .registerWorker(_, let reply): reply.fail(error)
        case .snapshot(_, let reply): reply.fail(error)
        case .tick, .adopt, .verifyOwnership, .beginOwnershipCheck, .planSaved, .maintain, .endLongPolls: break
        }
    }
}

/// The wall clock.
public struct SystemClock: WallClock {
    public init() {}
    public func nowMillis() -> EpochMillis {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return EpochMillis(spec.tv_sec) * 1000 + EpochMillis(spec.tv_nsec) / 1_000_000
    }
}
