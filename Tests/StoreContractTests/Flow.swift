import OrchestratorCore
import OrchestratorStore

/// The instant the test workflows start at.
let startTime: EpochMillis = 1_800_000_000_000

/// A plan of four tasks: `fetch`, then `build` and `report`, then `test` after `build`.
func samplePlan(_ planId: String, at time: EpochMillis = startTime) -> CognitivePlan {
    let tasks = [
        PlanTask(taskId: "fetch", taskType: "QUERY", description: "fetch the sources", estimatedDurationMs: 1_000),
        PlanTask(taskId: "build", taskType: "BUILD", description: "build", dependencies: ["fetch"]),
        PlanTask(taskId: "report", taskType: "EXECUTE", description: "report", dependencies: ["fetch"]),
        PlanTask(taskId: "test", taskType: "TEST", description: "test the build", dependencies: ["build"]),
    ]
    var plan = CognitivePlan(
        planId: planId,
        intentId: "intent-\(planId)",
        tasks: tasks,
        executionOrder: tasks.map(\.taskId),
        riskScore: 0.4,
        riskBand: .medium,
        createdAt: time,
        validUntil: time + 3_600_000
    )
    plan.correlationId = "correlation-\(planId)"
    return plan
}

/// A decision on `plan` (embedded unless `embed` is false).
func sampleDecision(
    _ decisionId: String,
    plan: CognitivePlan,
    embed: Bool = true,
    type: DecisionType = .approve,
    at time: EpochMillis = startTime
) -> ConsolidatedDecision {
    var decision = ConsolidatedDecision(
        decisionId: decisionId,
        planId: plan.planId,
        intentId: plan.intentId,
        finalDecision: type,
        plan: embed ? plan : nil,
        createdAt: time,
        validUntil: time + 7_200_000
    )
    decision.correlationId = plan.correlationId
    return decision
}

/// Drives one workflow through the real state machine and produces the commits a store must persist.
struct Flow {
    static let machine = WorkflowStateMachine()

    let decision: ConsolidatedDecision
    private(set) var state: WorkflowState
    private var index = WorkflowIndex()
    /// The stored version once every commit produced so far is written.
    private(set) var version: Int64 = 0

    init(workflowId: String, decision: ConsolidatedDecision, at time: EpochMillis = startTime) {
        self.decision = decision
        state = WorkflowStateMachine.initialState(workflowId: workflowId, decision: decision, at: time)
    }

    /// A flow for a fresh approved decision with its plan embedded, and its first commit.
    static func started(
        _ workflowId: String,
        plan planId: String,
        decision decisionId: String? = nil,
        embed: Bool = true,
        type: DecisionType = .approve,
        at time: EpochMillis = startTime
    ) throws -> (Flow, WorkflowCommit) {
        let plan = samplePlan(planId, at: time)
        let decision = sampleDecision(
            decisionId ?? "decision-\(workflowId)",
            plan: plan,
            embed: embed,
            type: type,
            at: time
        )
        var flow = Flow(workflowId: workflowId, decision: decision, at: time)
        let commit = try flow.step(.decisionAccepted(.init(decision: decision, plan: embed ? plan : nil)), at: time)
        return (flow, commit)
    }

    var workflowId: String { state.workflowId }

    /// The id of the ticket of a task.
    func ticketId(_ taskId: String) -> String {
        state.tickets.first { $0.ticket.taskId == taskId }!.ticketId
    }

    /// Applies `event` and returns the commit of the transition (expecting the previous one stored).
    mutating func step(_ event: WorkflowEvent, at time: EpochMillis) throws -> WorkflowCommit {
        let timed = TimedEvent(at: time, event: event)
        let previousValidation = state.validation
        let effects = try Self.machine.apply(timed, to: &state, index: &index)
        let commit = WorkflowCommit(
            state: state,
            expectedVersion: version,
            changedTickets: effects.changedTickets,
            decision: version == 0 ? decision : nil,
            event: timed,
            timers: effects.timers,
            outbox: effects.outbox,
            incidents: effects.incidents,
            audit: state.validation != previousValidation ? state.validation : nil
        )
        version += 1
        return commit
    }

    /// A worker leases the ticket of `taskId`.
    mutating func lease(_ taskId: String, at time: EpochMillis, worker: String = "worker-1") throws -> WorkflowCommit {
        try step(.leased(ticketId: ticketId(taskId), workerId: worker, expiresAt: time + 30_000), at: time)
    }

    /// The lease holder reports success for the ticket of `taskId`.
    mutating func complete(_ taskId: String, at time: EpochMillis) throws -> WorkflowCommit {
        let id = ticketId(taskId)
        let record = state.tickets.first { $0.ticketId == id }!
        let result = ExecutionResult(
            ticketId: id,
            status: .COMPLETED,
            result: ExecutionResultPayload(success: true, output: ["task": taskId]),
            actualDurationMs: 500,
            agentId: record.workerId ?? "worker-1",
            timestamp: time
        )
        return try step(.completed(ticketId: id, leaseEpoch: record.leaseEpoch, result: result), at: time)
    }
}
