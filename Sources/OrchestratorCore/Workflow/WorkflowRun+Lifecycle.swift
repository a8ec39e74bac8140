extension Run {
    // MARK: - Intake, validation, gating

    mutating func accept(_ accepted: WorkflowEvent.DecisionAccepted, _ state: inout WorkflowState) {
        let decision = accepted.decision
        if decision.finalDecision == .reject {
            state.reason = "the consensus decision was reject"
            state.status = .REJECTED
            state.completedAt = at
            effects.finished = true
            return
        }
        emit(telemetry(.FLOW_C_STARTED, state))
        guard let plan = accepted.plan else {
            if case .unreadable = decision.cognitivePlan {
                emit(step(.STEP_STARTED, "C1", state))
                let outcome = PlanValidator(limits: policies.validation).validate(
                    decision: decision,
                    plan: nil,
                    now: at
                )
                rejectInvalid(outcome.report, &state)
                return
            }
            state.status = .WAITING_FOR_PLAN
            state.pendingDecision = decision
            return
        }
        prepare(plan, decision: decision, &state)
    }

    /// C1 failed: the workflow ends FAILED with the audited report.
    mutating func rejectInvalid(_ report: ValidationReport, _ state: inout WorkflowState) {
        state.validation = report.bounded()
        effects.audit = report
        var failed = step(.STEP_FAILED, "C1", state)
        failed.error = report.bounded().problems.map(\.description).joined(separator: "; ")
        failed.errorType = "validation_failed"
        emit(failed)
        state.reason = "validation failed: \(report.problems.count) problem(s)"
        finish(.FAILED, &state)
    }

    /// C1 → C2 → C3, then gating.
    mutating func prepare(_ plan: CognitivePlan, decision: ConsolidatedDecision?, _ state: inout WorkflowState) {
        emit(step(.STEP_STARTED, "C1", state))
        let submission: Submission
        if var decision {
            decision.cognitivePlan = .plan(plan)
            submission = .decision(decision)
        } else {
            var stand = ConsolidatedDecision(
                decisionId: state.decisionId,
                planId: state.planId,
                intentId: state.intentId,
                plan: plan
            )
            stand.correlationId = state.correlationId
            submission = .decision(stand)
        }
        var prepared = PlanPreparation(policies: policies).prepare(submission, now: at)
        state.validation = prepared.report.bounded()
        effects.audit = prepared.report
        effects.preparation = prepared.timings
        state.riskBand = plan.riskBand
        if state.correlationId == nil { state.correlationId = plan.correlationId }
        if state.traceId == nil { state.traceId = plan.traceId }
        guard prepared.report.isValid else {
            rejectInvalid(prepared.report, &state)
            return
        }
        emit(step(.STEP_COMPLETED, "C1", state))
        emit(step(.STEP_STARTED, "C2", state))
        // Tickets carry the workflow's own id (it may differ from the default orch-<plan_id>).
        if prepared.workflowId != state.workflowId {
            prepared.tickets = rebind(prepared.tickets, to: state.workflowId)
        }
        state.tickets = prepared.tickets.map { TicketRecord(ticket: $0) }
        index.refresh(state)
        var c2 = step(.STEP_COMPLETED, "C2", state)
        c2.ticketIds = state.tickets.map(\.ticketId)
        emit(c2)
        emit(step(.STEP_STARTED, "C3", state))
        for i in state.tickets.indices {
            state.tickets[i].score = policies.allocation.score(state.tickets[i].ticket, now: at)
            effects.changedTickets.insert(i)
        }
        emit(step(.STEP_COMPLETED, "C3", state))
        let decisionGate = decision.map { $0.finalDecision == .reviewRequired || $0.requiresHumanReview } ?? false
        if decisionGate || state.status == .AWAITING_APPROVAL {
            state.status = .AWAITING_APPROVAL
            return
        }
        startRunning(&state)
    }

    /// Regenerates ticket ids for a workflow id other than the plan's default.
    func rebind(_ tickets: [ExecutionTicket], to workflowId: String) -> [ExecutionTicket] {
        var mapping: [String: String] = [:]
        for ticket in tickets {
            mapping[ticket.ticketId] = TicketID.ticket(workflowId: workflowId, taskId: ticket.taskId)
        }
        return tickets.map { ticket in
            var copy = ticket
            copy.ticketId = mapping[ticket.ticketId]!
            copy.dependencies = ticket.dependencies.map { mapping[$0] ?? $0 }
            copy.metadata["workflow_id"] = workflowId
            return copy
        }
    }

    /// C4 begins: release every ticket without dependencies.
    mutating func startRunning(_ state: inout WorkflowState) {
        state.status = .RUNNING
        state.startedAt = at
        emit(step(.STEP_STARTED, "C4", state))
        for i in state.tickets.indices where state.tickets[i].ticket.dependencies.isEmpty {
            release(i, &state)
        }
        finishIfDone(&state)
    }

    // MARK: - Ticket life

    /// Makes a ticket available to workers and publishes it (`PENDING` on the wire).
    mutating func release(_ i: Int, _ state: inout WorkflowState) {
        var record = state.tickets[i]
        record.phase = .READY
        record.releasedAt = at
        record.workerId = nil
        record.leaseExpiresAt = nil
        record.ticket.status = .PENDING
        record.score = policies.allocation.score(record.ticket, now: at)
        state.tickets[i] = record
        effects.changedTickets.insert(i)
        effects.released.append(record.ticketId)
        emit(
            OutboxMessage(
                topic: .tickets,
                key: record.ticket.planId,
                payload: json(record.ticket),
                headers: traceHeaders(state, spanSeed: record.ticketId),
                workflowId: state.workflowId,
                createdAt: at
            )
        )
        if !record.slaViolated && record.ticket.retryCount == 0 {
            effects.timers.append(
                .schedule(
                    TimerSpec(
                        workflowId: state.workflowId,
                        ticketId: record.ticketId,
                        kind: .slaDeadline,
                        fireAt: max(at, record.ticket.sla.deadline),
                        token: 0
                    )
                )
            )
        }
    }

    mutating func lease(_ i: Int, workerId: String, expiresAt: EpochMillis, _ state: inout WorkflowState) {
        var record = state.tickets[i]
        record.phase = .LEASED
        record.leaseEpoch += 1
        record.workerId = workerId
        record.attemptStartedAt = at
        record.leaseExpiresAt = boundedExpiry(expiresAt, record)
        record.ticket.status = .RUNNING
        if record.ticket.startedAt == nil { record.ticket.startedAt = at }
        state.tickets[i] = record
        effects.changedTickets.insert(i)
        scheduleLeaseTimer(record, state)
        var event = ticketEvent(.TICKET_ASSIGNED, record, state)
        event.status = "leased"
        event.metadata["lease_epoch"] = .long(record.leaseEpoch)
        event.metadata["attempt"] = .int(Int32(clamping: record.ticket.retryCount + 1))
        emit(event)
    }

    /// An attempt may not outlive the ticket's timeout when timeouts are enforced.
    func boundedExpiry(_ expiresAt: EpochMillis, _ record: TicketRecord) -> EpochMillis {
        guard policies.execution.enforceTimeout, let start = record.attemptStartedAt else { return expiresAt }
        return min(expiresAt, start + record.ticket.sla.timeoutMs)
    }

    mutating func scheduleLeaseTimer(_ record: TicketRecord, _ state: WorkflowState) {
        effects.timers.append(
            .schedule(
                TimerSpec(
                    workflowId: state.workflowId,
                    ticketId: record.ticketId,
                    kind: .leaseExpiry,
                    fireAt: record.leaseExpiresAt ?? at,
                    token: record.leaseEpoch
                )
            )
        )
    }

    mutating func extend(_ i: Int, until expiresAt: EpochMillis, _ state: inout WorkflowState) {
        state.tickets[i].leaseExpiresAt = boundedExpiry(expiresAt, state.tickets[i])
        effects.changedTickets.insert(i)
        scheduleLeaseTimer(state.tickets[i], state)
    }

    mutating func cancelTimers(_ record: TicketRecord, _ state: WorkflowState, _ kinds: [TimerKind]) {
        for kind in kinds {
            let key = TimerSpec(
                workflowId: state.workflowId,
                ticketId: record.ticketId,
                kind: kind,
                fireAt: 0,
                token: 0
            ).key
            effects.timers.append(.cancel(key: key))
        }
    }

    mutating func complete(_ i: Int, result: ExecutionResult, _ state: inout WorkflowState) {
        var record = state.tickets[i]
        let wasLeased = record.phase == .LEASED
        if record.phase == .READY { effects.withdrawn.append(record.ticketId) }
        let duration = result.actualDurationMs ?? record.attemptStartedAt.map { max(1, at - $0) } ?? 1
        if record.ticket.startedAt == nil { record.ticket.startedAt = at - max(1, duration) }
        if !record.phase.isTerminal { index.open -= 1 }
        record.phase = .COMPLETED
        record.ticket.status = .COMPLETED
        record.ticket.completedAt = max(at, (record.ticket.startedAt ?? at) + 1)
        record.ticket.actualDurationMs = duration
        record.ticket.errorMessage = nil
        record.result = result.result
        if record.workerId == nil { record.workerId = result.agentId }
        record.leaseExpiresAt = nil
        state.tickets[i] = record
        effects.changedTickets.insert(i)
        if wasLeased { cancelTimers(record, state, [.leaseExpiry]) }
        cancelTimers(record, state, [.slaDeadline, .retry])
        if !record.slaViolated && at > record.ticket.sla.deadline { slaViolated(i, &state) }
        var event = ticketEvent(.TICKET_COMPLETED, state.tickets[i], state)
        event.status = "completed"
        event.success = true
        event.durationMs = duration
        event.result = result.result.output
        emit(event)
        if let original = record.compensates, let j = index.position[original] {
            state.tickets[j].compensation = .done
            state.tickets[j].ticket.status = .COMPENSATED
            effects.changedTickets.insert(j)
        }
        releaseDependents(of: i, &state)
    }

    mutating func releaseDependents(of i: Int, _ state: inout WorkflowState) {
        for d in index.dependents[i] where state.tickets[d].phase == .WAITING {
            let ready = state.tickets[d].ticket.dependencies.allSatisfy { dependency in
                index.position[dependency].map { state.tickets[$0].phase == .COMPLETED } ?? false
            }
            if ready { release(d, &state) }
        }
    }

    /// One attempt failed: retry with backoff while retries remain, else fail the ticket.
    mutating func attemptFailed(_ i: Int, error: String, retryable: Bool, _ state: inout WorkflowState) {
        var record = state.tickets[i]
        if record.phase == .LEASED { cancelTimers(record, state, [.leaseExpiry]) }
        if record.phase == .READY { effects.withdrawn.append(record.ticketId) }
        guard retryable, record.ticket.retryCount < record.ticket.sla.maxRetries else {
            failTicket(i, error: error, &state)
            return
        }
        record.ticket.retryCount += 1
        record.phase = .RETRY_WAIT
        record.ticket.status = .PENDING
        record.ticket.errorMessage = error
        record.workerId = nil
        record.leaseExpiresAt = nil
        state.tickets[i] = record
        effects.changedTickets.insert(i)
        effects.timers.append(
            .schedule(
                TimerSpec(
                    workflowId: state.workflowId,
                    ticketId: record.ticketId,
                    kind: .retry,
                    fireAt: at + policies.execution.backoff(retry: record.ticket.retryCount),
                    token: Int64(record.ticket.retryCount)
                )
            )
        )
        var event = ticketEvent(.TICKET_FAILED, record, state)
        event.status = "retrying"
        event.success = false
        event.error = error
        event.metadata["retry_count"] = .int(Int32(clamping: record.ticket.retryCount))
        emit(event)
    }

    mutating func leaseExpired(_ i: Int, _ state: inout WorkflowState) {
        let record = state.tickets[i]
        let timedOut =
            policies.execution.enforceTimeout
            && at >= (record.attemptStartedAt ?? at) + record.ticket.sla.timeoutMs
        let reason =
            timedOut
            ? "attempt exceeded timeout_ms \(record.ticket.sla.timeoutMs)"
            : "lease of worker \(record.workerId ?? "?") expired without heartbeat"
        raise(
            timedOut ? .TICKET_TIMEOUT : .WORKER_FAILURE,
            severity: "WARNING",
            details: [reason],
            tickets: [record.ticketId],
            playbook: timedOut ? "ticket_timeout_recovery" : "worker_failure_recovery",
            escalate: false,
            &state
        )
        attemptFailed(i, error: reason, retryable: true, &state)
    }

    mutating func slaViolated(_ i: Int, _ state: inout WorkflowState) {
        state.tickets[i].slaViolated = true
        effects.changedTickets.insert(i)
        let record = state.tickets[i]
        let late = at - record.ticket.sla.deadline
        raise(
            .SLA_VIOLATION,
            severity: record.ticket.riskBand >= .high ? "CRITICAL" : "WARNING",
            details: ["ticket \(record.ticket.taskId) passed its SLA deadline by \(late) ms"],
            tickets: [record.ticketId],
            playbook: "sla_violation_mitigation",
            escalate: record.ticket.riskBand == .critical,
            &state
        )
        var event = ticketEvent(.SLA_VIOLATION, record, state)
        event.slaCompliant = false
        event.metadata["late_ms"] = .long(late)
        emit(event)
    }

    /// A ticket failed for good: skip its dependents and compensate its completed predecessors.
    mutating func failTicket(_ i: Int, error: String, _ state: inout WorkflowState) {
        let wasLeased = state.tickets[i].phase == .LEASED
        stop(i, phase: .FAILED, error: error, &state)
        if wasLeased { cancelTimers(state.tickets[i], state, [.leaseExpiry]) }
        let record = state.tickets[i]
        var event = ticketEvent(.TICKET_FAILED, record, state)
        event.status = "failed"
        event.success = false
        event.error = error
        emit(event)
        skipDependents(of: i, because: record.ticket.taskId, &state)
        if let original = record.compensates, let j = index.position[original] {
            state.tickets[j].compensation = .failed
            state.tickets[j].ticket.status = .COMPLETED
            effects.changedTickets.insert(j)
            raise(
                .INCONSISTENCY,
                severity: "CRITICAL",
                details: ["compensation of ticket \(state.tickets[j].ticket.taskId) failed: \(error)"],
                tickets: [original, record.ticketId],
                playbook: nil,
                escalate: true,
                &state
            )
            return
        }
        raise(
            .WORKER_FAILURE,
            severity: "CRITICAL",
            details: [
                "ticket \(record.ticket.taskId) failed after \(record.ticket.retryCount + 1) attempt(s): \(error)"
            ],
            tickets: [record.ticketId],
            playbook: "worker_failure_recovery",
            escalate: true,
            &state
        )
        compensate(failed: record.ticketId, &state)
    }

    mutating func skipDependents(of i: Int, because taskId: String, _ state: inout WorkflowState) {
        var stack = index.dependents[i]
        while let d = stack.popLast() {
            guard !state.tickets[d].phase.isTerminal else { continue }
            stop(d, phase: .SKIPPED, error: "skipped: dependency \(taskId) failed", &state)
            stack.append(contentsOf: index.dependents[d])
        }
    }

    mutating func compensate(failed ticketId: String, _ state: inout WorkflowState) {
        let plan = CompensationPlanner.plan(
            failedTicketId: ticketId,
            tickets: state.tickets.filter { !$0.isCompensation }.map(\.ticket),
            workflowId: state.workflowId,
            now: at
        )
        guard !plan.compensations.isEmpty else { return }
        for (original, compensation) in plan.links {
            guard let j = index.position[original] else { continue }
            state.tickets[j].ticket.compensationTicketId = compensation
            state.tickets[j].ticket.status = .COMPENSATING
            state.tickets[j].compensation = .pending
            effects.changedTickets.insert(j)
        }
        let first = state.tickets.count
        for ticket in plan.compensations {
            state.tickets.append(TicketRecord(ticket: ticket, compensates: ticket.parameters["original_ticket_id"]))
        }
        index.refresh(state)
        state.status = .COMPENSATING
        for i in first..<state.tickets.count {
            effects.changedTickets.insert(i)
            if state.tickets[i].ticket.dependencies.isEmpty { release(i, &state) }
        }
    }

    /// Ends a non-terminal ticket without running it further.
    mutating func stop(_ i: Int, phase: TicketPhase, error: String, _ state: inout WorkflowState) {
        var record = state.tickets[i]
        if record.phase == .READY { effects.withdrawn.append(record.ticketId) }
        if record.phase == .LEASED { cancelTimers(record, state, [.leaseExpiry]) }
        if record.phase == .RETRY_WAIT { cancelTimers(record, state, [.retry]) }
        cancelTimers(record, state, [.slaDeadline])
        if !record.phase.isTerminal && phase.isTerminal { index.open -= 1 }
        record.phase = phase
        record.ticket.status = .FAILED
        record.ticket.errorMessage = error
        record.leaseExpiresAt = nil
        if record.ticket.startedAt != nil { record.ticket.completedAt = max(at, record.ticket.startedAt! + 1) }
        state.tickets[i] = record
        effects.changedTickets.insert(i)
    }
}
