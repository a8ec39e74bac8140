/// One transition in progress: the instant, the effects gathered so far and the index.
struct Run {
    let machine: WorkflowStateMachine
    let at: EpochMillis
    var index: WorkflowIndex
    var effects = TransitionEffects()

    var policies: PolicyConfiguration { machine.policies }

    mutating func apply(_ event: WorkflowEvent, _ state: inout WorkflowState) throws(TransitionRefusal) {
        switch event {
        case .decisionAccepted(let accepted):
            try requireStatus(state, [.WAITING_FOR_PLAN], eventCount: 0)
            accept(accepted, &state)
        case .planAttached(let plan):
            try requireStatus(state, [.WAITING_FOR_PLAN])
            let decision = state.pendingDecision
            state.pendingDecision = nil
            prepare(plan, decision: decision, &state)
        case .approved(let by, _):
            try requireStatus(state, [.AWAITING_APPROVAL])
            state.actor = by
            startRunning(&state)
        case .rejected(let by, let reason):
            try requireStatus(state, [.AWAITING_APPROVAL, .WAITING_FOR_PLAN])
            state.actor = by
            state.reason = reason
            for i in state.tickets.indices where !state.tickets[i].phase.isTerminal {
                stop(i, phase: .CANCELLED, error: "rejected: \(reason)", &state)
            }
            finish(.REJECTED, &state)
        case .leased(let ticketId, let workerId, let expiresAt):
            try requireStatus(state, [.RUNNING, .COMPENSATING])
            let i = try ticket(ticketId, state)
            guard state.tickets[i].phase == .READY else {
                throw TransitionRefusal(
                    .invalidState,
                    "ticket \(ticketId) is \(state.tickets[i].phase.rawValue), not READY"
                )
            }
            lease(i, workerId: workerId, expiresAt: expiresAt, &state)
        case .heartbeat(let ticketId, let epoch, let expiresAt):
            let i = try ticket(ticketId, state)
            try requireLease(i, epoch, state)
            extend(i, until: expiresAt, &state)
        case .completed(let ticketId, let epoch, let result):
            let i = try ticket(ticketId, state)
            try requireReportable(i, epoch, state)
            complete(i, result: result, &state)
            finishIfDone(&state)
        case .failed(let ticketId, let epoch, let error, let retryable, let result):
            let i = try ticket(ticketId, state)
            try requireReportable(i, epoch, state)
            state.tickets[i].result = result?.result ?? state.tickets[i].result
            attemptFailed(i, error: error, retryable: retryable, &state)
            finishIfDone(&state)
        case .leaseExpired(let ticketId, let epoch):
            let i = try ticket(ticketId, state)
            let record = state.tickets[i]
            guard record.phase == .LEASED, record.leaseEpoch == epoch else {
                throw TransitionRefusal(.staleLease, "lease \(epoch) of ticket \(ticketId) is no longer current")
            }
            leaseExpired(i, &state)
            finishIfDone(&state)
        case .slaDeadlinePassed(let ticketId):
            let i = try ticket(ticketId, state)
            let record = state.tickets[i]
            guard !record.phase.isTerminal, !record.slaViolated, at >= record.ticket.sla.deadline else {
                throw TransitionRefusal(.invalidState, "ticket \(ticketId) has no SLA deadline pending")
            }
            slaViolated(i, &state)
            if policies.execution.slaAction == .fail && !state.tickets[i].phase.isTerminal {
                failTicket(i, error: "SLA deadline passed", &state)
            }
            finishIfDone(&state)
        case .retryDue(let ticketId, let retryCount):
            let i = try ticket(ticketId, state)
            guard state.tickets[i].phase == .RETRY_WAIT, state.tickets[i].ticket.retryCount == retryCount else {
                throw TransitionRefusal(.invalidState, "ticket \(ticketId) has no retry \(retryCount) pending")
            }
            release(i, &state)
        case .cancelled(let by, let reason):
            guard !state.status.isTerminal else {
                throw TransitionRefusal(
                    .invalidWorkflowState,
                    "workflow \(state.workflowId) is already \(state.status.rawValue)"
                )
            }
            state.actor = by
            state.reason = reason
            for i in state.tickets.indices where !state.tickets[i].phase.isTerminal {
                stop(i, phase: .CANCELLED, error: "cancelled: \(reason)", &state)
            }
            finish(.CANCELLED, &state)
        }
    }

    // MARK: - Checks (before any mutation)

    func requireStatus(
        _ state: WorkflowState,
        _ allowed: [WorkflowStatus],
        eventCount: Int? = nil
    )
        throws(TransitionRefusal)
    {
        guard allowed.contains(state.status), eventCount.map({ $0 == state.eventCount }) ?? true else {
            throw TransitionRefusal(
                .invalidWorkflowState,
                "workflow \(state.workflowId) is \(state.status.rawValue)"
            )
        }
    }

    func ticket(_ ticketId: String, _ state: WorkflowState) throws(TransitionRefusal) -> Int {
        guard let i = index.position[ticketId] else {
            throw TransitionRefusal(.unknownTicket, "workflow \(state.workflowId) has no ticket \(ticketId)")
        }
        return i
    }

    func requireLease(_ i: Int, _ epoch: Int64, _ state: WorkflowState) throws(TransitionRefusal) {
        let record = state.tickets[i]
        guard record.phase == .LEASED else {
            throw TransitionRefusal(
                .invalidState,
                "ticket \(record.ticketId) is \(record.phase.rawValue), not leased"
            )
        }
        guard record.leaseEpoch == epoch else {
            throw TransitionRefusal(
                .staleLease,
                "fencing token \(epoch) is stale: ticket \(record.ticketId) is leased under token \(record.leaseEpoch)"
            )
        }
    }

    func requireReportable(_ i: Int, _ epoch: Int64?, _ state: WorkflowState) throws(TransitionRefusal) {
        if let epoch { return try requireLease(i, epoch, state) }
        let record = state.tickets[i]
        guard [.READY, .LEASED].contains(record.phase) else {
            throw TransitionRefusal(
                .invalidState,
                "ticket \(record.ticketId) is \(record.phase.rawValue): the report changes nothing"
            )
        }
    }
}
