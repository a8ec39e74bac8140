import OrchestratorCore
import OrchestratorStore

extension EngineLoop {
    func handle(_ command: EngineCommand) async {
        switch command {
        case .submitDecision(let decision, let reply):
            await submit(decision, reply)
        case .submitPlan(let plan, let start, let reply):
            await submit(plan, start: start, reply)
        case .operatorAction(let workflowId, let action, let reply):
            do {
                let (state, _) = try await transition(workflowId, action.event)
                answer(after: state, reply, workflows: [workflowId])
            } catch {
                reply.fail(error)
            }
        case .poll(let request, let reply):
            poll(request, reply)
        case .report(let report, let reply):
            await apply(report, reply)
        case .registerWorker(let registration, let reply):
            await register(registration, reply)
        case .tick:
            await tick()
        case .adopt(let claimed):
            for workflow in claimed { adopt(claimed: workflow) }
            metrics.claimed(claimed.count)
        case .beginOwnershipCheck:
            createdSinceOwnershipCheck = []
        case .verifyOwnership(let owned):
            verify(owned: owned)
        case .planSaved(let planId):
            await attachSavedPlan(planId)
        case .endLongPolls:
            for waiter in waiters { waiter.reply.succeed([]) }
            waiters = []
        case .maintain:
            await probeWrites()
            await retryReloads()
        case .snapshot(let workflowId, let reply):
            do {
                // Answered once what it shows is durable: no reader sees a state a crash could undo.
                answer(after: try await readable(workflowId)?.state, reply, workflows: [workflowId])
            } catch {
                reply.fail(error)
            }
        }
    }

    /// Answers once the batch is durable; fails when the batch fails or when one of `workflows`
    /// is dropped from it.
    func answer<T: Sendable>(after value: T, _ reply: Reply<T>, workflows: [String]) {
        batch.replies.append(
            PendingReply(
                workflows: workflows,
                succeed: { reply.succeed(value) },
                fail: { reply.fail(Self.unavailable($0)) }
            )
        )
    }

    /// What a caller is told when the store refused or failed the commit of its change.
    static func unavailable(_ error: any Error) -> EngineError {
        EngineError(.unavailable, "the store could not commit the change: \(error)")
    }

    // MARK: - Intake

    func submit(_ decision: ConsolidatedDecision, _ reply: Reply<SubmitOutcome>) async {
        do {
            let outcome = try await accept(decision)
            answer(submission: outcome, of: decision.decisionId, reply, workflows: [outcome.workflowId]) {
                .submitDecision(decision, $0)
            }
        } catch {
            reply.fail(error)
        }
    }

    /// Answers a submission once durable. When another replica started a workflow for the same
    /// decision first, the command is taken again (`again`), and then finds that workflow.
    func answer<T: Sendable>(
        submission value: T,
        of decisionId: String,
        _ reply: Reply<T>,
        workflows: [String],
        again: @escaping @Sendable (Reply<T>) -> EngineCommand
    ) {
        let queue = self.queue
        batch.replies.append(
            PendingReply(
                workflows: workflows,
                succeed: { reply.succeed(value) },
                fail: { error in
                    if case .duplicateDecision(let duplicate, _) = error as? StoreError, duplicate == decisionId,
                        queue?.enqueue(again(reply)) == true
                    {
                        return
                    }
                    reply.fail(Self.unavailable(error))
                }
            )
        )
    }

    /// Starts a workflow for a decision, or returns the one it already started. The outcome is
    /// delivered after the commit when a workflow is created.
    func accept(_ decision: ConsolidatedDecision) async throws -> SubmitOutcome {
        guard !decision.decisionId.isEmpty else {
            throw EngineError(.invalid, "decision_id: required field is missing or empty")
        }
        if let existing = try await existingWorkflow(forDecision: decision.decisionId) {
            return existing
        }
        var plan = decision.cognitivePlan.plan
        if plan == nil, case .absent = decision.cognitivePlan, !decision.planId.isEmpty {
            plan = try await store.plan(decision.planId)
        }
        let workflowId = try await newWorkflowId(planId: decision.planId, decisionId: decision.decisionId)
        var state = WorkflowStateMachine.initialState(workflowId: workflowId, decision: decision, at: now)
        var index = WorkflowIndex()
        let event = WorkflowEvent.decisionAccepted(.init(decision: decision, plan: plan))
        let timed = TimedEvent(at: state.createdAt, event: event)
        let effects: TransitionEffects
        do {
            effects = try machine.apply(timed, to: &state, index: &index)
        } catch {
            throw EngineError.from(error)
        }
        var all = effects
        all.changedTickets = Set(state.tickets.indices)
        let entry = Cached(state: state, index: index, version: 0)
        cache[workflowId] = entry
        record(entry, event: timed, effects: all, fired: [])
        batch.commits[batch.commits.count - 1].decision = decision
        cache[workflowId]!.version = 1
        batch.newDecisions[decision.decisionId] = workflowId
        batch.newWorkflowIds.insert(workflowId)
        for record in state.tickets { owner[record.ticketId] = workflowId }
        return SubmitOutcome(workflowId: workflowId, created: true, status: state.status, validation: state.validation)
    }

    func existingWorkflow(forDecision decisionId: String) async throws -> SubmitOutcome? {
        let found: String?
        if let id = batch.newDecisions[decisionId] ?? inFlight?.batch.newDecisions[decisionId] {
            found = id
        } else {
            found = try await store.workflowId(forDecision: decisionId)
        }
        guard let workflowId = found, let entry = try await readable(workflowId) else { return nil }
        return SubmitOutcome(
            workflowId: workflowId,
            created: false,
            status: entry.state.status,
            validation: entry.state.validation
        )
    }

    /// `orch-<plan_id>`, or `orch-<plan_id>-<decision_id>` when another decision already used it.
    func newWorkflowId(planId: String, decisionId: String) async throws -> String {
        let base = TicketContext.workflowId(planId: planId.isEmpty ? decisionId : planId)
        if !batch.newWorkflowIds.contains(base), inFlight?.batch.newWorkflowIds.contains(base) != true,
            cache[base] == nil, try await !store.workflowExists(base)
        {
            return base
        }
        return base + "-" + decisionId
    }

    func submit(_ plan: CognitivePlan, start: Bool, _ reply: Reply<SubmitOutcome?>) async {
        do {
            guard !plan.planId.isEmpty else {
                throw EngineError(.invalid, "plan_id: required field is missing or empty")
            }
            do {
                try await store.savePlan(plan, receivedAt: now)
            } catch {
                writeHealth.failed(error)
                throw EngineError(.unavailable, "the store could not save the plan: \(error)")
            }
            metrics.planReceived()
            // Every workflow waiting for a plan is active, hence in memory (also those whose
            // creation is not yet durable).
            let waiting = cache.values.filter { $0.state.status == .WAITING_FOR_PLAN && $0.state.planId == plan.planId }
            for workflowId in waiting.map(\.state.workflowId).sorted() {
                _ = try? await transition(workflowId, .planAttached(plan))
            }
            guard start else {
                answer(after: SubmitOutcome?.none, reply, workflows: waiting.map(\.state.workflowId))
                return
            }
            var decision = ConsolidatedDecision(
                decisionId: "plan-" + plan.planId,
                planId: plan.planId,
                intentId: plan.intentId,
                finalDecision: plan.requiresApproval && plan.approvalStatus?.lowercased() != "approved"
                    ? .reviewRequired : .approve,
                plan: plan,
                createdAt: now,
                validUntil: plan.validUntil
            )
            decision.correlationId = plan.correlationId
            decision.traceId = plan.traceId
            decision.spanId = plan.spanId
            let outcome = try await accept(decision)
            answer(
                submission: outcome,
                of: decision.decisionId,
                reply,
                workflows: waiting.map(\.state.workflowId) + [outcome.workflowId]
            ) { .submitPlan(plan, start: start, $0) }
        } catch {
            reply.fail(error)
        }
    }

    /// A plan saved by another replica (`nil`: maybe several, after missed notifications): attaches
    /// it to the workflows here that wait for it.
    func attachSavedPlan(_ planId: String?) async {
        let waiting = cache.values.filter {
            $0.state.status == .WAITING_FOR_PLAN && (planId == nil || $0.state.planId == planId)
        }
        guard !waiting.isEmpty else { return }
        for workflowId in waiting.map(\.state.workflowId).sorted() {
            do {
                guard let planId = cache[workflowId]?.state.planId, let plan = try await store.plan(planId) else {
                    continue
                }
                try await transition(workflowId, .planAttached(plan))
            } catch {
                logger.warning(
                    "a plan saved by another replica could not be attached",
                    metadata: ["workflow_id": "\(workflowId)", "error": "\(error)"]
                )
            }
        }
    }

    /// Drops the workflows this replica no longer owns (another claimed them while its heartbeat
    /// had expired). Workflows whose creation is not yet durable are kept.
    func verify(owned: Set<String>) {
        let pending = batch.newWorkflowIds.union(inFlight?.batch.newWorkflowIds ?? [])
            .union(createdSinceOwnershipCheck ?? [])
        createdSinceOwnershipCheck = nil
        let lost = cache.keys.filter { !owned.contains($0) && !pending.contains($0) }
        for workflowId in lost { evict(workflowId) }
        if !lost.isEmpty {
            metrics.lost(lost.count)
            logger.warning("workflows lost to other replicas", metadata: ["count": "\(lost.count)"])
        }
    }

    /// Attaches ledger plans to workflows that were waiting for them when the process stopped.
    func attachWaitingPlans(_ workflowIds: [String]) async {
        for workflowId in workflowIds {
            guard let planId = cache[workflowId]?.state.planId,
                let plan = try? await store.plan(planId)
            else { continue }
            _ = try? await transition(workflowId, .planAttached(plan))
        }
        await commitBatch()
    }

    // MARK: - Workers

    func register(_ registration: WorkerRegistration, _ reply: Reply<WorkerRecordSnapshot>) async {
        guard !registration.workerId.isEmpty else {
            reply.fail(EngineError(.invalid, "worker_id: required field is missing or empty"))
            return
        }
        let at = now
        let record = WorkerRecord(
            workerId: registration.workerId,
            capabilities: registration.capabilities,
            labels: registration.labels,
            registeredAt: workers[registration.workerId]?.registeredAt ?? at,
            lastSeenAt: at
        )
        do {
            try await store.saveWorker(record)
            workers[record.workerId] = record
            let ttl = configuration.policies.execution.leaseTtlMs
            reply.succeed(
                WorkerRecordSnapshot(
                    workerId: record.workerId,
                    capabilities: record.capabilities,
                    leaseTtlMs: ttl,
                    heartbeatIntervalMs: Swift.max(1, ttl / 3)
                )
            )
        } catch {
            writeHealth.failed(error)
            reply.fail(EngineError(.unavailable, "could not store the worker: \(error)"))
        }
    }

    func poll(_ request: PollRequest, _ reply: Reply<[LeaseGrant]>) {
        guard let worker = workers[request.workerId] else {
            reply.fail(EngineError(.notFound, "worker \(request.workerId) is not registered"))
            return
        }
        let grants = lease(for: worker, max: request.maxTickets)
        if !grants.isEmpty || request.waitMs <= 0 {
            answer(after: grants, reply, workflows: grants.map(\.workflowId))
            return
        }
        waiters.append(
            Waiter(request: request, capabilities: worker.capabilities, deadline: now + request.waitMs, reply: reply)
        )
    }

    /// Leases up to `max` ready tickets to a worker (the commit follows with the batch).
    func lease(for worker: WorkerRecord, max: Int) -> [LeaseGrant] {
        var grants: [LeaseGrant] = []
        let ttl = configuration.policies.execution.leaseTtlMs
        while grants.count < max, let entry = ready.take(capabilities: worker.capabilities) {
            guard var cachedEntry = cache.removeValue(forKey: entry.workflowId) else { continue }
            let timed = TimedEvent(
                at: now,
                event: .leased(ticketId: entry.ticketId, workerId: worker.workerId, expiresAt: now + ttl)
            )
            do {
                let effects = try machine.apply(timed, to: &cachedEntry.state, index: &cachedEntry.index)
                record(cachedEntry, event: timed, effects: effects, fired: [])
                cachedEntry.version += 1
                let leased = cachedEntry.state.tickets[cachedEntry.index.position[entry.ticketId]!]
                var grant = LeaseGrant(
                    workflowId: entry.workflowId,
                    ticket: leased.ticket,
                    fencingToken: leased.leaseEpoch,
                    leaseExpiresAt: leased.leaseExpiresAt ?? timed.at + ttl,
                    heartbeatIntervalMs: Swift.max(1, ttl / 3)
                )
                if traces.isEnabled {
                    grant.traceparent = traces.leased(leased, workerId: worker.workerId, state: cachedEntry.state)
                }
                grants.append(grant)
            } catch {
                logger.warning("ready ticket could not be leased", metadata: ["ticket_id": "\(entry.ticketId)"])
            }
            cache[entry.workflowId] = cachedEntry
        }
        return grants
    }

    /// Hands newly ready tickets to workers that are long-polling.
    func serveWaiters() {
        guard !waiters.isEmpty, !ready.isEmpty else { return }
        var remaining: [Waiter] = []
        for waiter in waiters {
            guard let worker = workers[waiter.request.workerId] else {
                waiter.reply.succeed([])
                continue
            }
            let grants = ready.isEmpty ? [] : lease(for: worker, max: waiter.request.maxTickets)
            if grants.isEmpty {
                remaining.append(waiter)
            } else {
                answer(after: grants, waiter.reply, workflows: grants.map(\.workflowId))
            }
        }
        waiters = remaining
    }

    // MARK: - Reports

    func apply(_ report: TicketReport, _ reply: Reply<TicketRecord>) async {
        do {
            guard let workflowId = try await workflowOf(ticket: report.ticketId) else {
                throw EngineError(.notFound, "no ticket \(report.ticketId)")
            }
            if let workerId = report.workerId, report.fencingToken != nil, let entry = cache[workflowId],
                let i = entry.index.position[report.ticketId], entry.state.tickets[i].phase == .LEASED,
                let holder = entry.state.tickets[i].workerId, holder != workerId
            {
                throw EngineError(
                    .conflict,
                    "ticket \(report.ticketId) is leased to worker \(holder), not \(workerId)",
                    refusal: .staleLease
                )
            }
            let event: WorkflowEvent
            switch report.kind {
            case .heartbeat:
                guard let token = report.fencingToken else {
                    throw EngineError(.invalid, "fencing_token: required for a heartbeat")
                }
                event = .heartbeat(
                    ticketId: report.ticketId,
                    leaseEpoch: token,
                    expiresAt: now + configuration.policies.execution.leaseTtlMs
                )
            case .completed(let result):
                event = .completed(ticketId: report.ticketId, leaseEpoch: report.fencingToken, result: result)
            case .failed(let error, let retryable, let result):
                event = .failed(
                    ticketId: report.ticketId,
                    leaseEpoch: report.fencingToken,
                    error: error,
                    retryable: retryable,
                    result: result
                )
            }
            do {
                try await transition(workflowId, event)
            } catch let error as EngineError where error.owner != nil {
                // Another replica runs the workflow. An unfenced result (from the bus) is handed to
                // it durably; a fenced report goes back to the worker, whose lease is there.
                guard let shared, report.fencingToken == nil, let result = report.result,
                    let record = try await readable(workflowId)?.state.tickets.first(where: {
                        $0.ticketId == report.ticketId
                    })
                else { throw error }
                try await shared.forward(result, workflowId: workflowId)
                reply.succeed(record)
                return
            }
            guard let entry = cache[workflowId], let i = entry.index.position[report.ticketId] else {
                throw EngineError(.notFound, "no ticket \(report.ticketId)")
            }
            answer(after: entry.state.tickets[i], reply, workflows: [workflowId])
        } catch {
            reply.fail(error)
        }
    }

    func workflowOf(ticket ticketId: String) async throws -> String? {
        if let id = owner[ticketId] { return id }
        return try await store.ticket(ticketId)?.workflowId
    }

    /// After a failed write, one small write per maintenance round tells when the store takes
    /// writes again (readiness depends on it, so it must not wait for traffic).
    func probeWrites() async {
        guard writeHealth.current != nil else { return }
        do {
            try await store.probeWrite()
            writeHealth.succeeded()
            logger.notice("the store takes writes again")
        } catch {
            writeHealth.failed(error)
        }
    }

    // MARK: - Time

    func tick() async {
        let at = now
        // Fairness: a batch takes at most `max_batch` fired timers, however many ticks pass while
        // the previous batch is written, so that thousands of deadlines passing at once are applied
        // over several batches and every other command waits for at most one bounded commit.
        // Timers not taken now stay due for the next tick.
        let room = max(0, configuration.maxBatch - batch.firedTimers)
        for spec in timers.due(at: at, limit: room) where cache[spec.workflowId] != nil {
            do {
                batch.firedTimers += 1
                try await transition(spec.workflowId, spec.event, fired: [spec.key])
            } catch {
                logger.debug("timer ignored", metadata: ["timer": "\(spec.key)", "reason": "\(error)"])
            }
        }
        guard !waiters.isEmpty else { return }
        var remaining: [Waiter] = []
        for waiter in waiters {
            if waiter.deadline <= at {
                waiter.reply.succeed([])
            } else {
                remaining.append(waiter)
            }
        }
        waiters = remaining
    }
}
