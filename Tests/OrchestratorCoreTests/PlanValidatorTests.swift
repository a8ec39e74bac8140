import Testing

@testable import OrchestratorCore

/// C1: every problem code with the field and task it names, all reported at once.
@Suite struct PlanValidatorTests {
    /// What a test expects of one problem.
    struct Expected: Equatable, CustomStringConvertible {
        var code: ValidationProblem.Code
        var field: String
        var taskId: String?

        init(_ code: ValidationProblem.Code, _ field: String, _ taskId: String? = nil) {
            self.code = code
            self.field = field
            self.taskId = taskId
        }

        init(_ problem: ValidationProblem) {
            self.init(problem.code, problem.field, problem.taskId)
        }

        var description: String { "\(code.rawValue) \(field) \(taskId ?? "-")" }
    }

    /// a ← b ← c, with every plan-level field set and the execution order given.
    static func basePlan() -> CognitivePlan {
        plan([task("a"), task("b", ["a"]), task("c", ["b"])], order: ["a", "b", "c"])
    }

    static let now: EpochMillis = Fixture.createdAt

    static func problems(_ plan: CognitivePlan, limits: ValidationLimits = ValidationLimits()) -> [Expected] {
        PlanValidator(limits: limits).validate(plan: plan, now: now).report.problems.map(Expected.init)
    }

    @Test func basePlanIsValid() {
        let outcome = PlanValidator().validate(plan: Self.basePlan(), now: Self.now)
        #expect(outcome.report.problems == [])
        #expect(outcome.report.warnings == [])
        #expect(outcome.report.cycles == [])
        #expect(outcome.report.isValid)
        #expect(outcome.report.validatedAt == Self.now)
        #expect(outcome.order == [0, 1, 2])
        #expect(outcome.graph.ids == ["a", "b", "c"])
        #expect(outcome.graph.predecessors == [[], [0], [1]])
        #expect(outcome.graph.successors == [[1], [2], []])
    }

    /// One defect per case, and exactly the problems it should cause.
    static let singleDefects: [(note: String, mutate: @Sendable (inout CognitivePlan) -> Void, expected: [Expected])] =
        [
            ("plan_id missing", { $0.planId = "" }, [Expected(.missingField, "plan_id")]),
            ("intent_id missing", { $0.intentId = "" }, [Expected(.missingField, "intent_id")]),
            (
                "no tasks",
                {
                    $0.tasks = []
                    $0.executionOrder = nil
                },
                [Expected(.missingField, "tasks")]
            ),
            ("risk_band missing", { $0.riskBandText = "" }, [Expected(.invalidValue, "risk_band")]),
            ("risk_band unknown", { $0.riskBandText = "extreme" }, [Expected(.invalidValue, "risk_band")]),
            ("risk_band upper-case", { $0.riskBandText = "CRITICAL" }, []),
            ("risk_score above 1", { $0.riskScore = 1.5 }, [Expected(.invalidValue, "risk_score")]),
            ("risk_score below 0", { $0.riskScore = -0.1 }, [Expected(.invalidValue, "risk_score")]),
            ("risk_score 1", { $0.riskScore = 1 }, []),
            ("plan expired", { $0.validUntil = now - 1 }, [Expected(.expired, "valid_until")]),
            ("plan valid until now", { $0.validUntil = now }, []),
            ("priority unknown", { $0.originalPriority = "asap" }, [Expected(.invalidValue, "original_priority")]),
            ("priority lower-case", { $0.originalPriority = "low" }, []),
            (
                "security unknown", { $0.originalSecurityLevel = "secret" },
                [Expected(.invalidValue, "original_security_level")]
            ),
            ("security lower-case", { $0.originalSecurityLevel = "public" }, []),
            (
                "task_id missing", { $0.tasks.append(task("")) },
                [Expected(.missingField, "tasks[3].task_id"), Expected(.executionOrderMismatch, "execution_order")]
            ),
            (
                "duplicate task id", { $0.tasks.append(task("b")) },
                [Expected(.duplicateTaskId, "tasks[3].task_id", "b")]
            ),
            (
                "unknown dependency", { $0.tasks[2].dependencies.append("zzz") },
                [Expected(.unknownDependency, "tasks[2].dependencies", "c")]
            ),
            (
                "self dependency", { $0.tasks[1].dependencies.append("b") },
                [Expected(.selfDependency, "tasks[1].dependencies", "b")]
            ),
            (
                "negative estimate", { $0.tasks[0].estimatedDurationMs = -1 },
                [Expected(.invalidValue, "tasks[0].estimated_duration_ms", "a")]
            ),
            ("duplicate dependency is tolerated", { $0.tasks[2].dependencies = ["b", "b"] }, []),
            (
                "execution_order misses a task", { $0.executionOrder = ["a", "b"] },
                [Expected(.executionOrderMismatch, "execution_order")]
            ),
            (
                "execution_order has an unknown id", { $0.executionOrder = ["a", "b", "c", "x"] },
                [Expected(.executionOrderMismatch, "execution_order[3]")]
            ),
            (
                "execution_order repeats an id", { $0.executionOrder = ["a", "b", "b", "c"] },
                [Expected(.executionOrderMismatch, "execution_order[2]", "b")]
            ),
            (
                "execution_order against the dependencies", { $0.executionOrder = ["b", "a", "c"] },
                [Expected(.executionOrderViolatesDependencies, "execution_order", "b")]
            ),
        ]

    @Test(arguments: singleDefects)
    func singleDefect(
        note: String,
        mutate: @Sendable (inout CognitivePlan) -> Void,
        expected: [Expected]
    ) {
        var plan = Self.basePlan()
        mutate(&plan)
        let outcome = PlanValidator().validate(plan: plan, now: Self.now)
        #expect(outcome.report.problems.map(Expected.init) == expected, "\(note)")
        #expect((outcome.order == nil) == !expected.isEmpty, "\(note)")
        #expect(outcome.report.isValid == expected.isEmpty, "\(note)")
    }

    @Test(
        arguments: [
            ("", "required field is missing"),
            ("extreme", #"unknown value "extreme" (expected low, medium, high, critical)"#),
        ]
    )
    func riskBandMessage(text: String, message: String) {
        var plan = Self.basePlan()
        plan.riskBandText = text
        let problems = PlanValidator().validate(plan: plan, now: Self.now).report.problems
        #expect(problems.map(\.message) == [message])
    }

    @Test func messagesNameTheOffendingValues() {
        var plan = Self.basePlan()
        plan.tasks[2].dependencies.append("zzz")
        plan.tasks.append(task("b"))
        plan.validUntil = Self.now - 5
        let messages = PlanValidator().validate(plan: plan, now: Self.now).report.problems.map(\.description)
        #expect(
            messages == [
                "valid_until: plan expired at \(Self.now - 5) ms (now \(Self.now) ms)",
                "tasks[2].dependencies (task c): depends on unknown task \"zzz\"",
                "tasks[3].task_id (task b): task id repeats tasks[1]",
            ]
        )
    }

    @Test func executionOrderMessages() {
        var plan = Self.basePlan()
        plan.executionOrder = ["c", "x", "c", "b"]
        let messages = PlanValidator().validate(plan: plan, now: Self.now).report.problems.map(\.description)
        #expect(
            messages == [
                "execution_order[1]: \"x\" is not a task of the plan",
                "execution_order[2] (task c): \"c\" is listed twice",
                "execution_order: missing 1 task(s): \"a\"",
                "execution_order (task c): \"c\" comes before its dependency \"b\"",
            ]
        )
    }

    @Test func duplicateDependencyIsAWarningAndKeptOnce() {
        var plan = Self.basePlan()
        plan.tasks[2].dependencies = ["b", "b"]
        let outcome = PlanValidator().validate(plan: plan, now: Self.now)
        #expect(outcome.report.warnings == [#"tasks[2].dependencies: "b" listed twice (kept once)"#])
        #expect(outcome.graph.predecessors[2] == [1])
    }

    @Test func unknownTaskTypeIsAWarning() {
        var plan = Self.basePlan()
        plan.tasks[0].taskType = "deploy_canary"
        let outcome = PlanValidator().validate(plan: plan, now: Self.now)
        #expect(outcome.report.problems == [])
        #expect(
            outcome.report.warnings == [
                #"tasks[0].task_type: "deploy_canary" is not a ticket task type: EXECUTE used, original kept in metadata"#
            ]
        )
    }

    @Test func missingPriorityAndSecurityAreWarnedAndAssumed() {
        var plan = Self.basePlan()
        plan.originalPriority = ""
        plan.originalSecurityLevel = ""
        let outcome = PlanValidator().validate(plan: plan, now: Self.now)
        #expect(outcome.report.problems == [])
        #expect(
            outcome.report.warnings == [
                "original_priority was missing: NORMAL assumed",
                "original_security_level was missing: INTERNAL assumed",
            ]
        )
    }

    @Test func reportEncodesValidity() throws {
        var plan = Self.basePlan()
        plan.planId = ""
        let report = PlanValidator().validate(plan: plan, now: Self.now).report
        let object = try jsonObject(report)
        #expect(object["valid"] as? Bool == false)
        #expect(object["validated_at"] as? Int64 == Self.now)
        let problems = try #require(object["problems"] as? [[String: Any]])
        #expect(problems.first?["code"] as? String == "missing_field")
        #expect(problems.first?["field"] as? String == "plan_id")
        #expect(try decode(ValidationReport.self, WireJSON.string(report)) == report)
    }

    // MARK: - execution_order

    @Test func missingExecutionOrderIsDerivedWithAWarning() {
        let plan = plan([task("d", ["c"]), task("c", ["b", "a"]), task("b", ["a"]), task("a")])
        let outcome = PlanValidator().validate(plan: plan, now: Self.now)
        #expect(outcome.report.problems == [])
        #expect(outcome.report.warnings == ["execution_order was missing: derived from the dependencies"])
        #expect(outcome.order == [3, 2, 1, 0])
    }

    @Test func derivedOrderBreaksTiesByPlanPosition() {
        let plan = plan([task("x"), task("y", ["z"]), task("z"), task("w", ["x"])])
        #expect(PlanValidator().validate(plan: plan, now: Self.now).order == [0, 2, 1, 3])
    }

    @Test func givenExecutionOrderIsKeptWhenConsistent() {
        let plan = plan([task("a"), task("b"), task("c", ["a"])], order: ["b", "a", "c"])
        let outcome = PlanValidator().validate(plan: plan, now: Self.now)
        #expect(outcome.report.warnings == [])
        #expect(outcome.order == [1, 0, 2])
    }

    @Test func manyOrderViolationsAreCapped() {
        let ids = (0..<30).map { "t\($0)" }
        let tasks = ids.enumerated().map { i, id in task(id, i == 0 ? [] : [ids[i - 1]]) }
        let report = PlanValidator().validate(plan: plan(tasks, order: ids.reversed()), now: Self.now).report
        #expect(report.problems.count == 21)
        #expect(report.problems.allSatisfy { $0.code == .executionOrderViolatesDependencies })
        #expect(report.problems.last?.message == "9 more dependency violations not listed")
    }
}
