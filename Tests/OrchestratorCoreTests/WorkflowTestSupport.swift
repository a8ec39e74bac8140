import Foundation
import Testing

@testable import OrchestratorCore

/// Time for the pure state machine: it moves only when a test moves it.
struct WorkflowManualClock {
    private(set) var now: EpochMillis

    init(_ start: EpochMillis = WorkflowFixture.start) {
        now = start
    }

    /// Moves the clock forward by `millis`.
    mutating func advance(_ millis: Int64) {
        precondition(millis >= 0, "a manual clock never goes back")
        now += millis
    }

    /// Moves the clock to `instant` (never backwards).
    mutating func set(_ instant: EpochMillis) {
        precondition(instant >= now, "a manual clock never goes back")
        now = instant
    }
}

/// Hand-made decisions and plans for the workflow tests.
enum WorkflowFixture {
    static let start: EpochMillis = 1_750_000_000_000
    static let planId = "plan-wf"
    static let workflowId = "orch-plan-wf"
    static let decisionId = "decision-wf"
    static let intentId = "intent-wf"
    static let correlationId = "corr-wf"
    static let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    /// timeout_ms of a task without estimate under the default policy: max(60 000, 60 000 × 3).
    static let defaultTimeoutMs: Int64 = 180_000

    static func task(_ id: String, _ dependencies: [String] = [], type: String = "EXECUTE") -> PlanTask {
        PlanTask(
            taskId: id,
            taskType: type,
            description: "task \(id)",
            dependencies: dependencies,
            parameters: ["target": id]
        )
    }

    static func plan(_ tasks: [PlanTask], band: RiskBand = .low, id: String = planId) -> CognitivePlan {
        CognitivePlan(
            planId: id,
            intentId: intentId,
            tasks: tasks,
            riskScore: 0.4,
            riskBand: band,
            createdAt: start,
            originalPriority: "HIGH",
            originalSecurityLevel: "INTERNAL"
        )
    }

    /// A decision for `plan`; `embed` false leaves the plan out (it comes from the plan ledger).
    static func decision(
        _ plan: CognitivePlan?,
        final: DecisionType = .approve,
        humanReview: Bool = false,
        validUntil: EpochMillis? = nil
    ) -> ConsolidatedDecision {
        var decision = ConsolidatedDecision(
            decisionId: decisionId,
            planId: plan?.planId ?? planId,
            intentId: intentId,
            finalDecision: final,
            plan: plan,
            createdAt: start,
            validUntil: validUntil
        )
        decision.requiresHumanReview = humanReview
        decision.correlationId = correlationId
        decision.traceId = traceId
        decision.spanId = "00f067aa0ba902b7"
        return decision
    }

    static func ticketId(_ taskId: String, workflowId: String = workflowId) -> String {
        TicketID.ticket(workflowId: workflowId, taskId: taskId)
    }

    static func compensationId(_ taskId: String, workflowId: String = workflowId) -> String {
        TicketID.compensation(workflowId: workflowId, taskId: taskId)
    }

    static func success(_ ticketId: String, at: EpochMillis, duration: Int64? = nil) -> ExecutionResult {
        ExecutionResult(
            ticketId: ticketId,
            status: .COMPLETED,
            result: ExecutionResultPayload(success: true, output: ["exit_code": "0"]),
            actualDurationMs: duration,
            agentId: "agent-bus",
            timestamp: at
        )
    }

    static func timerKey(_ kind: TimerKind, _ ticketId: String, workflowId: String = workflowId) -> String {
        TimerSpec(workflowId: workflowId, ticketId: ticketId, kind: kind, fireAt: 0, token: 0).key
    }
}

/// What one transition produced, with readers for its outbox.
struct WorkflowTransition {
    var effects: TransitionEffects

    var released: [String] { effects.released }
    var withdrawn: [String] { effects.withdrawn }
    var incidents: [OrchestrationIncident] { effects.incidents }
    var finished: Bool { effects.finished }

    func messages(_ topic: OutboxTopic) -> [OutboxMessage] {
        effects.outbox.filter { $0.topic == topic }
    }

    /// The step and ticket events, decoded.
    func events() throws -> [FlowCTelemetryEvent] {
        try messages(.telemetryEvents).map {
            try JSONDecoder().decode(FlowCTelemetryEvent.self, from: Data($0.payload.utf8))
        }
    }

    /// Events as `TYPE` or `TYPE Cn`, in emission order.
    func eventNames() throws -> [String] {
        try events().map { event in event.step.map { "\(event.eventType.rawValue) \($0)" } ?? event.eventType.rawValue }
    }

    /// The tickets published on `execution.tickets`, decoded.
    func publishedTickets() throws -> [ExecutionTicket] {
        try messages(.tickets).map { try JSONDecoder().decode(ExecutionTicket.self, from: Data($0.payload.utf8)) }
    }

    /// The final frame on `telemetry.orchestration`, when there is one.
    func frame() throws -> TelemetryFrame? {
        let frames = messages(.telemetryFrames)
        #expect(frames.count <= 1)
        return try frames.first.map { try JSONDecoder().decode(TelemetryFrame.self, from: Data($0.payload.utf8)) }
    }

    func scheduled(_ kind: TimerKind) -> [TimerSpec] {
        effects.timers.compactMap { change in
            if case .schedule(let spec) = change, spec.kind == kind { return spec }
            return nil
        }
    }

    var cancelledTimerKeys: [String] {
        effects.timers.compactMap { change in
            if case .cancel(let key) = change { return key }
            return nil
        }
    }
}

/// Drives one workflow through the pure state machine on a manual clock, recording every event
/// it applies (the history) and mirroring the durable timers as the engine keeps them.
struct WorkflowHarness {
    let machine: WorkflowStateMachine
    var clock: WorkflowManualClock
    var state: WorkflowState
    var index = WorkflowIndex()
    private(set) var history: [TimedEvent] = []
    /// Every incident raised so far, in order.
    private(set) var incidents: [OrchestrationIncident] = []
    /// Every outbox message so far, in order.
    private(set) var outbox: [OutboxMessage] = []
    /// Pending timers by key, as the engine's timer table holds them.
    private(set) var timers: [String: TimerSpec] = [:]
    /// The state after each applied event, when `keepsSnapshots` (small scenarios only).
    private(set) var snapshots: [WorkflowState] = []
    var keepsSnapshots = false

    init(
        decision: ConsolidatedDecision,
        policies: PolicyConfiguration = PolicyConfiguration(),
        workflowId: String = WorkflowFixture.workflowId,
        clock: WorkflowManualClock = WorkflowManualClock()
    ) {
        machine = WorkflowStateMachine(policies: policies)
        self.clock = clock
        state = WorkflowStateMachine.initialState(workflowId: workflowId, decision: decision, at: clock.now)
    }

    /// A harness whose `decisionAccepted` (with the decision's own embedded plan) is applied.
    static func started(
        _ decision: ConsolidatedDecision,
        policies: PolicyConfiguration = PolicyConfiguration(),
        workflowId: String = WorkflowFixture.workflowId
    ) throws -> (harness: WorkflowHarness, intake: WorkflowTransition) {
        var harness = WorkflowHarness(decision: decision, policies: policies, workflowId: workflowId)
        let intake = try harness.apply(
            .decisionAccepted(.init(decision: decision, plan: decision.cognitivePlan.plan))
        )
        return (harness, intake)
    }

    /// A running harness for `tasks` (approved decision with the plan embedded).
    static func running(
        _ tasks: [PlanTask],
        band: RiskBand = .low,
        policies: PolicyConfiguration = PolicyConfiguration()
    ) throws -> WorkflowHarness {
        let (harness, _) = try started(
            WorkflowFixture.decision(WorkflowFixture.plan(tasks, band: band)),
            policies: policies
        )
        #expect(harness.state.status == .RUNNING)
        return harness
    }

    // MARK: - Applying events

    /// Applies `event` at the clock's current instant and records it.
    @discardableResult
    mutating func apply(_ event: WorkflowEvent) throws -> WorkflowTransition {
        let timed = TimedEvent(at: clock.now, event: event)
        let effects = try machine.apply(timed, to: &state, index: &index)
        history.append(timed)
        incidents += effects.incidents
        outbox += effects.outbox
        for change in effects.timers {
            switch change {
            case .schedule(let spec): timers[spec.key] = spec
            case .cancel(let key): timers.removeValue(forKey: key)
            }
        }
        if keepsSnapshots { snapshots.append(state) }
        return WorkflowTransition(effects: effects)
    }

    /// Applies `event` expecting a refusal; checks that the state, the index and the history are
    /// left exactly as they were. Returns the refusal (nil, and a failed expectation, if applied).
    mutating func refusal(
        _ event: WorkflowEvent,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> TransitionRefusal? {
        let before = state
        let indexBefore = index
        do {
            // Applied to the harness's own state and index, as the engine applies it to its cached
            // entry: a refusal must leave both exactly as they were.
            _ = try machine.apply(TimedEvent(at: clock.now, event: event), to: &state, index: &index)
            Issue.record("\(event.name) was applied; a refusal was expected", sourceLocation: sourceLocation)
            state = before
            index = indexBefore
            return nil
        } catch {
            #expect(state == before, "a refused event changed the state", sourceLocation: sourceLocation)
            #expect(index == indexBefore, "a refused event changed the index", sourceLocation: sourceLocation)
            return error
        }
    }

    /// Fires the pending timer of `kind` for `taskId`: moves the clock to its instant (or keeps
    /// it when already later) and delivers its event, as the engine's timer loop does.
    @discardableResult
    mutating func fire(_ kind: TimerKind, _ taskId: String) throws -> WorkflowTransition {
        let key = WorkflowFixture.timerKey(kind, id(taskId), workflowId: state.workflowId)
        let spec = try #require(timers[key], "no \(kind.rawValue) timer pending for \(taskId)")
        if spec.fireAt > clock.now { clock.set(spec.fireAt) }
        timers.removeValue(forKey: key)
        return try apply(spec.event)
    }

    func pendingTimer(_ kind: TimerKind, _ taskId: String) -> TimerSpec? {
        timers[WorkflowFixture.timerKey(kind, id(taskId), workflowId: state.workflowId)]
    }

    // MARK: - Tickets by task id

    /// The ticket id of a task (`X:compensate` names the compensation ticket of `X`).
    func id(_ taskId: String) -> String {
        if taskId.hasSuffix(":compensate") {
            return TicketID.compensation(workflowId: state.workflowId, taskId: String(taskId.dropLast(11)))
        }
        return TicketID.ticket(workflowId: state.workflowId, taskId: taskId)
    }

    func record(_ taskId: String) throws -> TicketRecord {
        let ticketId = id(taskId)
        return try #require(state.tickets.first { $0.ticketId == ticketId }, "no ticket for task \(taskId)")
    }

    func phase(_ taskId: String) throws -> TicketPhase {
        try record(taskId).phase
    }

    func epoch(_ taskId: String) throws -> Int64 {
        try record(taskId).leaseEpoch
    }

    /// Task ids in the given phase, in ticket order.
    func tasks(in phase: TicketPhase) -> [String] {
        state.tickets.filter { $0.phase == phase }.map(\.ticket.taskId)
    }

    // MARK: - Worker actions

    /// A worker leases the ticket for `ttl` (default: the policy's lease TTL).
    @discardableResult
    mutating func lease(_ taskId: String, worker: String = "worker-1", ttl: Int64? = nil) throws -> WorkflowTransition {
        let ttl = ttl ?? machine.policies.execution.leaseTtlMs
        return try apply(.leased(ticketId: id(taskId), workerId: worker, expiresAt: clock.now + ttl))
    }

    /// The lease holder reports success under its current fencing token.
    @discardableResult
    mutating func complete(_ taskId: String, duration: Int64? = nil) throws -> WorkflowTransition {
        let ticketId = id(taskId)
        return try apply(
            .completed(
                ticketId: ticketId,
                leaseEpoch: try epoch(taskId),
                result: WorkflowFixture.success(ticketId, at: clock.now, duration: duration)
            )
        )
    }

    /// The lease holder reports failure under its current fencing token.
    @discardableResult
    mutating func fail(_ taskId: String, retryable: Bool = true, error: String = "boom") throws -> WorkflowTransition {
        try apply(
            .failed(
                ticketId: id(taskId),
                leaseEpoch: try epoch(taskId),
                error: error,
                retryable: retryable,
                result: nil
            )
        )
    }

    /// Leases the ticket, lets `millis` pass and completes it.
    @discardableResult
    mutating func run(_ taskId: String, taking millis: Int64 = 1_000) throws -> WorkflowTransition {
        try lease(taskId)
        clock.advance(millis)
        return try complete(taskId)
    }

    /// Leases the ticket, lets `millis` pass and fails it.
    @discardableResult
    mutating func runFailing(
        _ taskId: String,
        retryable: Bool = true,
        taking millis: Int64 = 1_000
    ) throws
        -> WorkflowTransition
    {
        try lease(taskId)
        clock.advance(millis)
        return try fail(taskId, retryable: retryable)
    }
}

/// Checks what must hold of every finished workflow: every ticket terminal, no ticket left
/// PENDING, RUNNING or COMPENSATING on the wire, no compensation left pending.
func expectSettled(_ state: WorkflowState, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(state.status.isTerminal, sourceLocation: sourceLocation)
    for record in state.tickets {
        #expect(record.phase.isTerminal, "\(record.ticket.taskId) is \(record.phase)", sourceLocation: sourceLocation)
        #expect(
            ![.PENDING, .RUNNING, .COMPENSATING].contains(record.ticket.status),
            "\(record.ticket.taskId) is still \(record.ticket.status.rawValue) on the wire",
            sourceLocation: sourceLocation
        )
        #expect(
            record.compensation != .pending,
            "\(record.ticket.taskId) still has a compensation pending",
            sourceLocation: sourceLocation
        )
    }
}
