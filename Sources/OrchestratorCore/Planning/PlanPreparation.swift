/// What arrives for orchestration: a decision (with or without its plan) or a bare plan.
public enum Submission: Sendable, Equatable {
    case decision(ConsolidatedDecision)
    case plan(CognitivePlan)

    /// The plan carried, if any.
    public var plan: CognitivePlan? {
        switch self {
        case .decision(let decision): return decision.cognitivePlan.plan
        case .plan(let plan): return plan
        }
    }
}

/// C1 → C2 → C3 as one pure step: validate, generate the tickets, score them.
public struct PlanPreparation: Sendable {
    public var policies: PolicyConfiguration

    public init(policies: PolicyConfiguration = PolicyConfiguration()) {
        self.policies = policies
    }

    /// The result of preparing a plan.
    public struct Prepared: Sendable {
        public var report: ValidationReport
        public var workflowId: String
        /// Tickets in topological order; empty when the plan is invalid.
        public var tickets: [ExecutionTicket]
        /// priority_score of each ticket at preparation time, by ticket id.
        public var scores: [String: Double]
        /// How long C1 and C2 took (for the tracing spans; no effect on the outcome).
        public var timings = PreparationTimings()
    }

    /// Runs C1–C3 on a submission. A bare plan is treated as an approved decision whose id is
    /// `plan-<plan_id>`. `plan` overrides the embedded plan (e.g. one from the plan ledger).
    public func prepare(_ submission: Submission, ledgerPlan: CognitivePlan? = nil, now: EpochMillis) -> Prepared {
        let stopwatch = ContinuousClock.now
        let validator = PlanValidator(limits: policies.validation)
        let outcome: PlanValidator.Outcome
        let plan: CognitivePlan?
        var context: TicketContext
        switch submission {
        case .decision(let decision):
            plan = decision.cognitivePlan.plan ?? ledgerPlan
            outcome = validator.validate(decision: decision, plan: plan, now: now)
            context = TicketContext(
                workflowId: TicketContext.workflowId(planId: decision.planId),
                decisionId: decision.decisionId,
                correlationId: decision.correlationId,
                traceId: decision.traceId,
                spanId: decision.spanId,
                createdAt: now
            )
        case .plan(let bare):
            plan = bare
            outcome = validator.validate(plan: bare, now: now)
            context = TicketContext(
                workflowId: TicketContext.workflowId(planId: bare.planId),
                decisionId: "plan-" + bare.planId,
                correlationId: bare.correlationId,
                traceId: bare.traceId,
                spanId: bare.spanId,
                createdAt: now
            )
        }
        var timings = PreparationTimings(validationNanos: PreparationTimings.nanos(since: stopwatch))
        guard let plan, let order = outcome.order, outcome.report.isValid else {
            return Prepared(
                report: outcome.report,
                workflowId: context.workflowId,
                tickets: [],
                scores: [:],
                timings: timings
            )
        }
        let generation = ContinuousClock.now
        if context.correlationId == nil { context.correlationId = plan.correlationId }
        let tickets = TicketGenerator(policy: policies.tickets).generate(
            plan: plan,
            graph: outcome.graph,
            order: order,
            context: context
        )
        var scores: [String: Double] = [:]
        scores.reserveCapacity(tickets.count)
        for ticket in tickets { scores[ticket.ticketId] = policies.allocation.score(ticket, now: now) }
        timings.generationNanos = PreparationTimings.nanos(since: generation)
        return Prepared(
            report: outcome.report,
            workflowId: context.workflowId,
            tickets: tickets,
            scores: scores,
            timings: timings
        )
    }
}

/// How long C1 (validation) and C2 (ticket generation, with C3 scoring) took in one preparation:
/// measured for the tracing spans, never part of the workflow's state.
public struct PreparationTimings: Sendable, Equatable {
    public var validationNanos: UInt64 = 0
    public var generationNanos: UInt64 = 0
    public var totalNanos: UInt64 { validationNanos + generationNanos }

    public init(validationNanos: UInt64 = 0, generationNanos: UInt64 = 0) {
        self.validationNanos = validationNanos
        self.generationNanos = generationNanos
    }

    static func nanos(since start: ContinuousClock.Instant) -> UInt64 {
        UInt64(max(0, (ContinuousClock.now - start).wholeNanoseconds))
    }
}

extension Duration {
    /// The duration in whole nanoseconds (for swift-metrics timers and span timings).
    public var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
