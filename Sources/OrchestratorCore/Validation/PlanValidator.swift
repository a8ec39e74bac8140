/// C1: validates a plan (and optionally the decision that carries it), reporting every problem at
/// once. Linear in tasks + dependencies.
public struct PlanValidator: Sendable {
    public var limits: ValidationLimits

    public init(limits: ValidationLimits = ValidationLimits()) {
        self.limits = limits
    }

    /// The outcome of validating a plan: the report, and when valid, the graph and a topological order.
    public struct Outcome: Sendable {
        public var report: ValidationReport
        public var graph: TaskGraph
        /// Topological order (task indices): the plan's `execution_order` when given and valid,
        /// otherwise derived. `nil` when the plan has a cycle.
        public var order: [Int]?
    }

    /// Validates a decision and its plan (the plan may come from the decision or the ledger).
    public func validate(decision: ConsolidatedDecision, plan: CognitivePlan?, now: EpochMillis) -> Outcome {
        var problems: [ValidationProblem] = []
        if decision.decisionId.isEmpty {
            problems.append(.init(.missingField, field: "decision_id", "required field is missing or empty"))
        }
        if decision.planId.isEmpty {
            problems.append(.init(.missingField, field: "plan_id", "required field is missing or empty"))
        }
        if decision.intentId.isEmpty {
            problems.append(.init(.missingField, field: "intent_id", "required field is missing or empty"))
        }
        if decision.finalDecision == nil {
            problems.append(
                .init(
                    .invalidValue,
                    field: "final_decision",
                    decision.finalDecisionText.isEmpty
                        ? "required field is missing"
                        : "unknown value \"\(decision.finalDecisionText)\" (expected approve, reject, review_required, conditional)"
                )
            )
        }
        if let validUntil = decision.validUntil, validUntil < now {
            problems.append(
                .init(.expired, field: "valid_until", "decision expired at \(validUntil) ms (now \(now) ms)")
            )
        }
        if case .unreadable(let reason) = decision.cognitivePlan {
            problems.append(.init(.unreadablePlan, field: "cognitive_plan", reason))
        }
        guard let plan else {
            if case .absent = decision.cognitivePlan {
                problems.append(
                    .init(.missingField, field: "cognitive_plan", "no plan embedded and none known for this plan_id")
                )
            }
            return Outcome(
                report: ValidationReport(problems: problems, validatedAt: now),
                graph: TaskGraph(tasks: []),
                order: nil
            )
        }
        var outcome = validate(plan: plan, now: now)
        if !decision.planId.isEmpty && !plan.planId.isEmpty && decision.planId != plan.planId {
            problems.append(
                .init(
                    .planMismatch,
                    field: "cognitive_plan.plan_id",
                    "plan \"\(plan.planId)\" does not match the decision's plan_id \"\(decision.planId)\""
                )
            )
        }
        outcome.report.problems = problems + outcome.report.problems
        if !outcome.report.problems.isEmpty { outcome.order = nil }
        return outcome
    }

    /// Validates a plan on its own.
    public func validate(plan: CognitivePlan, now: EpochMillis) -> Outcome {
        var problems: [ValidationProblem] = []
        var warnings: [String] = []
        checkPlanFields(plan, now: now, problems: &problems, warnings: &warnings)
        if plan.tasks.count > limits.maxTasks {
            problems.append(
                .init(
                    .limitExceeded,
                    field: "tasks",
                    "\(plan.tasks.count) tasks exceed the limit of \(limits.maxTasks)"
                )
            )
            return Outcome(
                report: ValidationReport(problems: problems, warnings: warnings, validatedAt: now),
                graph: TaskGraph(tasks: []),
                order: nil
            )
        }
        let graph = TaskGraph(tasks: plan.tasks)
        checkTasks(plan.tasks, graph: graph, problems: &problems, warnings: &warnings)
        let (derived, leftover) = graph.topologicalOrder()
        var cycles: [[String]] = []
        if derived == nil {
            for cycle in graph.cycles(among: leftover, limit: limits.maxReportedCycles) {
                let names = cycle.map { graph.ids[$0] }
                cycles.append(names)
                problems.append(
                    .init(
                        .dependencyCycle,
                        field: "tasks",
                        taskId: names.first,
                        "dependency cycle: \(names.joined(separator: " -> "))"
                    )
                )
            }
        }
        var order = derived
        if let given = plan.executionOrder {
            if let checked = checkExecutionOrder(given, graph: graph, problems: &problems), derived != nil {
                order = checked
            }
        } else if derived != nil {
            warnings.append("execution_order was missing: derived from the dependencies")
        }
        let report = ValidationReport(problems: problems, warnings: warnings, cycles: cycles, validatedAt: now)
        return Outcome(report: report, graph: graph, order: problems.isEmpty ? order : nil)
    }

    private func checkPlanFields(
        _ plan: CognitivePlan,
        now: EpochMillis,
        problems: inout [ValidationProblem],
        warnings: inout [String]
    ) {
        if plan.planId.isEmpty {
            problems.append(.init(.missingField, field: "plan_id", "required field is missing or empty"))
        }
        if plan.intentId.isEmpty {
            problems.append(.init(.missingField, field: "intent_id", "required field is missing or empty"))
        }
        if plan.tasks.isEmpty {
            problems.append(.init(.missingField, field: "tasks", "a plan needs at least one task"))
        }
        if plan.riskBand == nil {
            problems.append(
                .init(
                    .invalidValue,
                    field: "risk_band",
                    plan.riskBandText.isEmpty
                        ? "required field is missing"
                        : "unknown value \"\(plan.riskBandText)\" (expected low, medium, high, critical)"
                )
            )
        }
        if !(0...1).contains(plan.riskScore) {
            problems.append(.init(.invalidValue, field: "risk_score", "\(plan.riskScore) is outside 0...1"))
        }
        if let validUntil = plan.validUntil, validUntil < now {
            problems.append(.init(.expired, field: "valid_until", "plan expired at \(validUntil) ms (now \(now) ms)"))
        }
        switch PlanNormalisation.priority(plan.originalPriority) {
        case .success(nil): warnings.append("original_priority was missing: NORMAL assumed")
        case .success: break
        case .failure(let problem): problems.append(problem)
        }
        switch PlanNormalisation.securityLevel(plan.originalSecurityLevel) {
        case .success(nil): warnings.append("original_security_level was missing: INTERNAL assumed")
        case .success: break
        case .failure(let problem): problems.append(problem)
        }
    }

    private func checkTasks(
        _ tasks: [PlanTask],
        graph: TaskGraph,
        problems: inout [ValidationProblem],
        warnings: inout [String]
    ) {
        for (i, task) in tasks.enumerated() {
            let field = "tasks[\(i)]"
            let id = task.taskId.isEmpty ? nil : task.taskId
            if task.taskId.isEmpty {
                problems.append(.init(.missingField, field: "\(field).task_id", "required field is missing or empty"))
            } else if graph.index[task.taskId] != i {
                problems.append(
                    .init(
                        .duplicateTaskId,
                        field: "\(field).task_id",
                        taskId: id,
                        "task id repeats tasks[\(graph.index[task.taskId]!)]"
                    )
                )
            }
            if task.taskId.utf8.count > limits.maxTaskIdBytes {
                problems.append(
                    .init(
                        .limitExceeded,
                        field: "\(field).task_id",
                        taskId: id,
                        "\(task.taskId.utf8.count) bytes exceed the limit of \(limits.maxTaskIdBytes)"
                    )
                )
            }
            if task.description.utf8.count > limits.maxDescriptionBytes {
                problems.append(
                    .init(
                        .limitExceeded,
                        field: "\(field).description",
                        taskId: id,
                        "\(task.description.utf8.count) bytes exceed the limit of \(limits.maxDescriptionBytes)"
                    )
                )
            }
            // Both maps count in full: merging them would drop a metadata entry whose key is also a parameter.
            let payload = [task.parameters, task.metadata].joined().reduce(0) {
                $0 + $1.key.utf8.count + $1.value.utf8.count
            }
            if payload > limits.maxTaskPayloadBytes {
                problems.append(
                    .init(
                        .limitExceeded,
                        field: "\(field).parameters",
                        taskId: id,
                        "parameters and metadata take \(payload) bytes, over the limit of \(limits.maxTaskPayloadBytes)"
                    )
                )
            }
            if let estimate = task.estimatedDurationMs, estimate < 0 {
                problems.append(
                    .init(.invalidValue, field: "\(field).estimated_duration_ms", taskId: id, "\(estimate) is negative")
                )
            }
            if task.dependencies.count > limits.maxDependenciesPerTask {
                problems.append(
                    .init(
                        .limitExceeded,
                        field: "\(field).dependencies",
                        taskId: id,
                        "\(task.dependencies.count) dependencies exceed the limit of \(limits.maxDependenciesPerTask)"
                    )
                )
            }
            var seen = Set<String>()
            for dependency in task.dependencies {
                if dependency == task.taskId && !dependency.isEmpty {
                    problems.append(
                        .init(.selfDependency, field: "\(field).dependencies", taskId: id, "the task depends on itself")
                    )
                } else if graph.index[dependency] == nil {
                    problems.append(
                        .init(
                            .unknownDependency,
                            field: "\(field).dependencies",
                            taskId: id,
                            "depends on unknown task \"\(dependency)\""
                        )
                    )
                } else if !seen.insert(dependency).inserted {
                    warnings.append("\(field).dependencies: \"\(dependency)\" listed twice (kept once)")
                }
            }
            if PlanNormalisation.taskType(task.taskType).original != nil {
                warnings.append(
                    "\(field).task_type: \"\(task.taskType)\" is not a ticket task type: EXECUTE used, original kept in metadata"
                )
            }
        }
    }

    /// Checks a given `execution_order`: exactly the task ids, each once, dependencies first.
    /// Returns it as indices when it is fully consistent.
    private func checkExecutionOrder(
        _ given: [String],
        graph: TaskGraph,
        problems: inout [ValidationProblem]
    ) -> [Int]? {
        var position = [Int](repeating: -1, count: graph.count)
        var consistent = true
        var indices: [Int] = []
        indices.reserveCapacity(given.count)
        for (p, id) in given.enumerated() {
            guard let i = graph.index[id] else {
                problems.append(
                    .init(
                        .executionOrderMismatch,
                        field: "execution_order[\(p)]",
                        "\"\(id)\" is not a task of the plan"
                    )
                )
                consistent = false
                continue
            }
            if position[i] >= 0 {
                problems.append(
                    .init(
                        .executionOrderMismatch,
                        field: "execution_order[\(p)]",
                        taskId: id,
                        "\"\(id)\" is listed twice"
                    )
                )
                consistent = false
                continue
            }
            position[i] = p
            indices.append(i)
        }
        var missing: [String] = []
        for i in 0..<graph.count where position[i] < 0 && graph.index[graph.ids[i]] == i {
            missing.append(graph.ids[i])
        }
        if !missing.isEmpty {
            let shown = missing.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
            problems.append(
                .init(
                    .executionOrderMismatch,
                    field: "execution_order",
                    "missing \(missing.count) task(s): \(shown)\(missing.count > 20 ? ", …" : "")"
                )
            )
            consistent = false
        }
        var violations = 0
        for i in 0..<graph.count where position[i] >= 0 {
            for p in graph.predecessors[i] where position[p] >= 0 && position[p] > position[i] {
                violations += 1
                if violations <= 20 {
                    problems.append(
                        .init(
                            .executionOrderViolatesDependencies,
                            field: "execution_order",
                            taskId: graph.ids[i],
                            "\"\(graph.ids[i])\" comes before its dependency \"\(graph.ids[p])\""
                        )
                    )
                }
                consistent = false
            }
        }
        if violations > 20 {
            problems.append(
                .init(
                    .executionOrderViolatesDependencies,
                    field: "execution_order",
                    "\(violations - 20) more dependency violations not listed"
                )
            )
        }
        return consistent ? indices : nil
    }
}
