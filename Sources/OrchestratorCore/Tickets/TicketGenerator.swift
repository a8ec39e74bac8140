/// What C2 needs besides the plan: who the tickets belong to and when they are made.
public struct TicketContext: Sendable, Equatable {
    public var workflowId: String
    public var decisionId: String
    public var correlationId: String?
    public var traceId: String?
    public var spanId: String?
    public var createdAt: EpochMillis

    public init(
        workflowId: String,
        decisionId: String,
        correlationId: String? = nil,
        traceId: String? = nil,
        spanId: String? = nil,
        createdAt: EpochMillis
    ) {
        self.workflowId = workflowId
        self.decisionId = decisionId
        self.correlationId = correlationId
        self.traceId = traceId
        self.spanId = spanId
        self.createdAt = createdAt
    }

    /// The default workflow id of a plan.
    public static func workflowId(planId: String) -> String { "orch-" + planId }
}

/// C2: one execution ticket per task, in topological order, with dependencies mapped to ticket ids,
/// SLA, QoS, priority and security level from the plan and the ``TicketPolicy``.
public struct TicketGenerator: Sendable {
    public var policy: TicketPolicy

    public init(policy: TicketPolicy = TicketPolicy()) {
        self.policy = policy
    }

    /// Generates the tickets of a validated plan. `order` is the topological order from
    /// ``PlanValidator`` (task indices into `plan.tasks`); tickets come out in that order.
    public func generate(
        plan: CognitivePlan,
        graph: TaskGraph,
        order: [Int],
        context: TicketContext
    ) -> [ExecutionTicket] {
        let band = plan.riskBand ?? .medium
        let priority =
            (try? PlanNormalisation.priority(plan.originalPriority).get()).flatMap { $0 }
            ?? policy.defaultPriority
        let security =
            (try? PlanNormalisation.securityLevel(plan.originalSecurityLevel).get()).flatMap { $0 }
            ?? policy.defaultSecurityLevel
        let timeouts = plan.tasks.map { policy.timeout(estimateMs: policy.estimate($0)) }
        let chains = graph.longestPathSums(order: order) { timeouts[$0] }
        let ticketIds = plan.tasks.map { TicketID.ticket(workflowId: context.workflowId, taskId: $0.taskId) }
        let maxRetries = policy.maxRetries[band]
        // A whole-plan SLA (`metadata.sla_deadline_ms`, e.g. from `POST /workflows/start`) caps every deadline.
        let cap = plan.metadata["sla_deadline_ms"].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
        let qos = policy.qos[band]

        var tickets: [ExecutionTicket] = []
        tickets.reserveCapacity(order.count)
        for i in order {
            let task = plan.tasks[i]
            let (type, original) = PlanNormalisation.taskType(task.taskType)
            var metadata = task.metadata
            if let original { metadata["original_task_type"] = original }
            metadata["workflow_id"] = context.workflowId
            var offset = Int64((Double(chains[i]) * policy.deadlineFactor).rounded(.up))
            if let cap { offset = min(offset, cap) }
            tickets.append(
                ExecutionTicket(
                    ticketId: ticketIds[i],
                    planId: plan.planId,
                    intentId: plan.intentId,
                    decisionId: context.decisionId,
                    correlationId: context.correlationId ?? plan.correlationId,
                    traceId: context.traceId ?? plan.traceId,
                    spanId: context.spanId ?? plan.spanId,
                    taskId: task.taskId,
                    taskType: type,
                    description: task.description,
                    dependencies: graph.predecessors[i].map { ticketIds[$0] },
                    status: .PENDING,
                    priority: priority,
                    riskBand: band,
                    sla: SLA(deadline: context.createdAt + offset, timeoutMs: timeouts[i], maxRetries: maxRetries),
                    qos: qos,
                    parameters: task.parameters,
                    requiredCapabilities: task.requiredCapabilities,
                    securityLevel: security,
                    createdAt: context.createdAt,
                    estimatedDurationMs: task.estimatedDurationMs ?? policy.defaultEstimateMs,
                    metadata: metadata
                )
            )
        }
        return tickets
    }
}
