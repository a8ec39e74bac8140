/// Saga planning: given a failed ticket, the `COMPENSATE` tickets that undo its completed
/// predecessors, in reverse topological order.
public enum CompensationPlanner {
    /// `parameters.action` of a compensation ticket by the original ticket's type.
    public static func action(for type: TaskType) -> String {
        switch type {
        case .BUILD: return "delete_artifacts"
        case .DEPLOY: return "rollback_deployment"
        case .TEST: return "cleanup_test_env"
        case .VALIDATE: return "revert_approval"
        case .EXECUTE: return "rollback_execution"
        default: return "generic_cleanup"
        }
    }

    /// The result of planning compensation.
    public struct Plan: Sendable, Equatable {
        /// New `COMPENSATE` tickets in reverse topological order of the tickets they undo. Each
        /// depends on the compensation tickets of the compensated tickets that depended on its
        /// original, so undo happens newest first.
        public var compensations: [ExecutionTicket]
        /// Original ticket id → its compensation ticket id (set as `compensation_ticket_id`).
        public var links: [String: String]
    }

    /// Plans compensation for `failedTicketId`. `tickets` are the workflow's tickets in
    /// topological order with their current statuses; only `COMPLETED` transitive predecessors of
    /// the failed ticket are compensated (tickets already compensated or with a compensation
    /// ticket are skipped).
    public static func plan(
        failedTicketId: String,
        tickets: [ExecutionTicket],
        workflowId: String,
        now: EpochMillis
    ) -> Plan {
        var position: [String: Int] = [:]
        for (i, ticket) in tickets.enumerated() { position[ticket.ticketId] = i }
        guard let failed = position[failedTicketId] else { return Plan(compensations: [], links: [:]) }
        // Transitive predecessors of the failed ticket.
        var inSet = [Bool](repeating: false, count: tickets.count)
        var stack = [failed]
        while let i = stack.popLast() {
            for dependency in tickets[i].dependencies {
                guard let j = position[dependency], !inSet[j] else { continue }
                inSet[j] = true
                stack.append(j)
            }
        }
        let chosen = (0..<tickets.count).filter {
            inSet[$0] && tickets[$0].status == .COMPLETED && tickets[$0].compensationTicketId == nil
        }
        let chosenSet = Set(chosen)
        // Dependents of each chosen ticket within the chosen set: their undo must come first.
        var dependents = [Int: [Int]]()
        for i in chosen {
            for dependency in tickets[i].dependencies {
                if let j = position[dependency], chosenSet.contains(j) { dependents[j, default: []].append(i) }
            }
        }
        var links: [String: String] = [:]
        for i in chosen {
            links[tickets[i].ticketId] = TicketID.compensation(workflowId: workflowId, taskId: tickets[i].taskId)
        }
        var compensations: [ExecutionTicket] = []
        for i in chosen.reversed() {
            let original = tickets[i]
            var parameters = original.parameters
            parameters["action"] = action(for: original.taskType)
            parameters["original_ticket_id"] = original.ticketId
            parameters["failed_ticket_id"] = failedTicketId
            var metadata = original.metadata
            metadata["compensates"] = original.ticketId
            compensations.append(
                ExecutionTicket(
                    ticketId: links[original.ticketId]!,
                    planId: original.planId,
                    intentId: original.intentId,
                    decisionId: original.decisionId,
                    correlationId: original.correlationId,
                    traceId: original.traceId,
                    spanId: original.spanId,
                    taskId: original.taskId + ":compensate",
                    taskType: .COMPENSATE,
                    description: "Compensate: \(original.description)",
                    dependencies: (dependents[i] ?? []).map { links[tickets[$0].ticketId]! },
                    status: .PENDING,
                    priority: original.priority,
                    riskBand: original.riskBand,
                    sla: SLA(
                        deadline: now + original.sla.timeoutMs,
                        timeoutMs: original.sla.timeoutMs,
                        maxRetries: original.sla.maxRetries
                    ),
                    qos: original.qos,
                    parameters: parameters,
                    requiredCapabilities: original.requiredCapabilities,
                    securityLevel: original.securityLevel,
                    createdAt: now,
                    estimatedDurationMs: original.estimatedDurationMs,
                    metadata: metadata
                )
            )
        }
        return Plan(compensations: compensations, links: links)
    }
}
