extension Run {
    /// C5 when every ticket is terminal.
    mutating func finishIfDone(_ state: inout WorkflowState) {
        guard state.status == .RUNNING || state.status == .COMPENSATING else { return }
        // The index counts the open tickets: no scan of the whole list on every transition.
        guard index.open == 0 else { return }
        let originals = state.tickets.filter { !$0.isCompensation }
        let allDone = originals.allSatisfy { $0.phase == .COMPLETED && $0.compensation == .none }
        let anyKept = originals.contains { $0.phase == .COMPLETED && $0.compensation != .done }
        finish(allDone ? .COMPLETED : (anyKept ? .PARTIAL : .FAILED), &state)
    }

    /// Ends the workflow: C5 metrics and integrity check, C6 telemetry and the final frame.
    mutating func finish(_ status: WorkflowStatus, _ state: inout WorkflowState) {
        state.status = status
        state.completedAt = at
        effects.finished = true
        // Compensation that can no longer happen (its chain failed, or the workflow was cancelled):
        // the original stays completed and is reported as kept.
        for i in state.tickets.indices where state.tickets[i].compensation == .pending {
            state.tickets[i].compensation = .failed
            state.tickets[i].ticket.status = .COMPLETED
            effects.changedTickets.insert(i)
        }
        let metrics = consolidate(state)
        state.metrics = metrics
        if state.startedAt != nil || !state.tickets.isEmpty {
            emit(step(.STEP_COMPLETED, "C4", state))
        }
        emit(step(.STEP_STARTED, "C5", state))
        let problems = integrityProblems(state, metrics)
        if !problems.isEmpty {
            raise(
                .INCONSISTENCY,
                severity: "CRITICAL",
                details: problems,
                tickets: [],
                playbook: nil,
                escalate: true,
                &state
            )
        }
        var c5 = step(.STEP_COMPLETED, "C5", state)
        c5.metadata["total"] = .int(Int32(clamping: metrics.total))
        c5.metadata["successful"] = .int(Int32(clamping: metrics.successful))
        c5.metadata["failed"] = .int(Int32(clamping: metrics.failed))
        c5.metadata["retries"] = .int(Int32(clamping: metrics.retries))
        c5.metadata["sla_violations"] = .int(Int32(clamping: metrics.slaViolations))
        c5.metadata["integrity_ok"] = .boolean(problems.isEmpty)
        emit(c5)
        emit(step(.STEP_STARTED, "C6", state))
        var done = telemetry(.FLOW_C_COMPLETED, state)
        done.status = status.rawValue
        done.success = status == .COMPLETED
        done.durationMs = metrics.durationMs
        done.slaCompliant = metrics.slaViolations == 0
        done.ticketIds = state.tickets.map(\.ticketId)
        if let reason = state.reason { done.error = reason }
        emit(step(.STEP_COMPLETED, "C6", state))
        emit(done)
        let frame = TelemetryFrame(
            correlationId: state.correlationId,
            traceId: state.traceId,
            intentId: state.intentId,
            planId: state.planId,
            decisionId: state.decisionId,
            workflowId: state.workflowId,
            status: status.rawValue,
            ticketIds: state.tickets.map(\.ticketId),
            metrics: metrics,
            timestamp: at
        )
        emit(
            OutboxMessage(
                topic: .telemetryFrames,
                key: state.workflowId,
                payload: json(frame),
                headers: traceHeaders(state, spanSeed: state.workflowId),
                workflowId: state.workflowId,
                createdAt: at
            )
        )
    }

    func consolidate(_ state: WorkflowState) -> WorkflowMetrics {
        let originals = state.tickets.filter { !$0.isCompensation }
        let completed = originals.filter { $0.phase == .COMPLETED }
        let durations = completed.compactMap(\.ticket.actualDurationMs)
        return WorkflowMetrics(
            total: originals.count,
            successful: completed.filter { $0.compensation != .done }.count,
            failed: originals.filter { $0.phase == .FAILED }.count,
            compensated: completed.filter { $0.compensation == .done }.count,
            skipped: originals.filter { $0.phase == .SKIPPED || $0.phase == .CANCELLED }.count,
            retries: state.tickets.reduce(0) { $0 + $1.ticket.retryCount },
            slaViolations: state.tickets.filter(\.slaViolated).count,
            durationMs: at - (state.startedAt ?? state.createdAt),
            averageTicketDurationMs: durations.isEmpty ? nil : durations.reduce(0, +) / Int64(durations.count)
        )
    }

    /// C5 integrity check: what must hold of a finished workflow.
    func integrityProblems(_ state: WorkflowState, _ metrics: WorkflowMetrics) -> [String] {
        var problems: [String] = []
        for record in state.tickets {
            if !record.phase.isTerminal {
                problems.append("ticket \(record.ticket.taskId) is still \(record.phase.rawValue)")
            }
            if record.phase == .COMPLETED {
                guard let started = record.ticket.startedAt, let completed = record.ticket.completedAt else {
                    problems.append("completed ticket \(record.ticket.taskId) lacks started_at or completed_at")
                    continue
                }
                if completed <= started {
                    problems.append("ticket \(record.ticket.taskId): completed_at is not after started_at")
                }
            }
            if let link = record.ticket.compensationTicketId, index.position[link] == nil {
                problems.append("ticket \(record.ticket.taskId) points to a missing compensation ticket")
            }
        }
        if metrics.successful + metrics.compensated + metrics.failed + metrics.skipped != metrics.total {
            problems.append(
                "ticket counts do not add up: \(metrics.successful) successful + \(metrics.compensated) compensated + "
                    + "\(metrics.failed) failed + \(metrics.skipped) skipped != \(metrics.total) total"
            )
        }
        return problems
    }
}
