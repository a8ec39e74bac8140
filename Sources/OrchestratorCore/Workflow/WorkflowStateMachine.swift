/// The workflow state machine: events in, state changes and effects out. No I/O and no clock:
/// every event carries its instant, so replaying a history reproduces the state exactly.
public struct WorkflowStateMachine: Sendable {
    public var policies: PolicyConfiguration

    public init(policies: PolicyConfiguration = PolicyConfiguration()) {
        self.policies = policies
    }

    /// The empty state a workflow starts from, before its `decisionAccepted` event.
    public static func initialState(
        workflowId: String,
        decision: ConsolidatedDecision,
        at: EpochMillis
    )
        -> WorkflowState
    {
        var state = WorkflowState(
            workflowId: workflowId,
            decisionId: decision.decisionId,
            planId: decision.planId,
            intentId: decision.intentId,
            createdAt: at
        )
        state.correlationId = decision.correlationId
        state.traceId = decision.traceId
        state.spanId = decision.spanId
        return state
    }

    /// Applies one event. On refusal the state is left exactly as it was.
    public func apply(
        _ timed: TimedEvent,
        to state: inout WorkflowState,
        index: inout WorkflowIndex
    ) throws(TransitionRefusal) -> TransitionEffects {
        index.refresh(state)
        var run = Run(machine: self, at: timed.at, index: index)
        try run.apply(timed.event, &state)
        state.eventCount += 1
        state.updatedAt = timed.at
        index = run.index
        return run.effects
    }

    /// Rebuilds a workflow's state from its history.
    public func replay(workflowId: String, history: [TimedEvent]) throws(TransitionRefusal) -> WorkflowState? {
        guard let first = history.first, case .decisionAccepted(let accepted) = first.event else { return nil }
        var state = Self.initialState(workflowId: workflowId, decision: accepted.decision, at: first.at)
        var index = WorkflowIndex()
        for event in history { _ = try apply(event, to: &state, index: &index) }
        return state
    }
}
