import Testing

@testable import OrchestratorCore

/// C1: dependency cycles, size limits, and every problem at once.
extension PlanValidatorTests {
    @Test func threeTaskCycleIsReportedAsSuch() throws {
        let plan = plan([task("r"), task("x", ["r", "z"]), task("y", ["x"]), task("z", ["y"]), task("w", ["z"])])
        let outcome = PlanValidator().validate(plan: plan, now: Self.now)
        #expect(outcome.report.cycles == [["x", "y", "z", "x"]])
        #expect(outcome.report.problems.map(Expected.init) == [Expected(.dependencyCycle, "tasks", "x")])
        #expect(outcome.report.problems.first?.message == "dependency cycle: x -> y -> z -> x")
        #expect(outcome.order == nil)
        #expect(outcome.report.warnings == [])
        let cycle = try #require(outcome.report.cycles.first)
        let byId = Dictionary(uniqueKeysWithValues: plan.tasks.map { ($0.taskId, $0) })
        for (dependency, dependent) in zip(cycle, cycle.dropFirst()) {
            #expect(byId[dependent]?.dependencies.contains(dependency) == true, "\(dependent) ← \(dependency)")
        }
    }

    @Test func twoDisjointCyclesAreBothReported() {
        let plan = plan([
            task("a", ["b"]), task("b", ["a"]), task("free"), task("c", ["e"]), task("d", ["c"]), task("e", ["d"]),
        ])
        let report = PlanValidator().validate(plan: plan, now: Self.now).report
        #expect(report.cycles == [["a", "b", "a"], ["c", "d", "e", "c"]])
        #expect(
            report.problems.map(\.message) == [
                "dependency cycle: a -> b -> a", "dependency cycle: c -> d -> e -> c",
            ]
        )
        #expect(report.problems.map(\.taskId) == ["a", "c"])
    }

    @Test func reportedCyclesAreLimited() {
        var limits = ValidationLimits()
        limits.maxReportedCycles = 1
        let plan = plan([task("a", ["b"]), task("b", ["a"]), task("c", ["d"]), task("d", ["c"])])
        let report = PlanValidator(limits: limits).validate(plan: plan, now: Self.now).report
        #expect(report.cycles == [["a", "b", "a"]])
        #expect(report.problems.map(\.code) == [.dependencyCycle])
    }

    @Test func selfDependencyIsNotACycle() {
        let plan = plan([task("a", ["a"])])
        let report = PlanValidator().validate(plan: plan, now: Self.now).report
        #expect(report.cycles == [])
        #expect(report.problems.map(Expected.init) == [Expected(.selfDependency, "tasks[0].dependencies", "a")])
    }

    @Test func cycleWithAGivenExecutionOrder() {
        let plan = plan([task("a", ["b"]), task("b", ["a"])], order: ["a", "b"])
        let report = PlanValidator().validate(plan: plan, now: Self.now).report
        #expect(
            report.problems.map(Expected.init) == [
                Expected(.dependencyCycle, "tasks", "a"),
                Expected(.executionOrderViolatesDependencies, "execution_order", "a"),
            ]
        )
    }

    // MARK: - limits

    static let limitCases: [(note: String, limits: ValidationLimits, plan: CognitivePlan, expected: [Expected])] = {
        var tasks = ValidationLimits()
        tasks.maxTasks = 2
        var dependencies = ValidationLimits()
        dependencies.maxDependenciesPerTask = 1
        var ids = ValidationLimits()
        ids.maxTaskIdBytes = 3
        var descriptions = ValidationLimits()
        descriptions.maxDescriptionBytes = 5
        var payload = ValidationLimits()
        payload.maxTaskPayloadBytes = 10
        var described = task("a")
        described.description = "123456"
        var shortDescribed = task("a")
        shortDescribed.description = "12345"
        var heavy = task("a")
        heavy.parameters = ["k": "12345"]
        heavy.metadata = ["m": "1234"]
        var light = task("a")
        light.parameters = ["k": "12345"]
        light.metadata = ["m": "123"]
        var sameKey = task("a")
        sameKey.parameters = ["k": "1"]
        sameKey.metadata = ["k": "123456789"]
        return [
            ("3 tasks over 2", tasks, plan([task("a"), task("b"), task("c")]), [Expected(.limitExceeded, "tasks")]),
            ("2 tasks at 2", tasks, plan([task("a"), task("b")]), []),
            (
                "2 dependencies over 1", dependencies, plan([task("a"), task("b"), task("c", ["a", "b"])]),
                [Expected(.limitExceeded, "tasks[2].dependencies", "c")]
            ),
            ("1 dependency at 1", dependencies, plan([task("a"), task("b", ["a"])]), []),
            ("4-byte id over 3", ids, plan([task("abcd")]), [Expected(.limitExceeded, "tasks[0].task_id", "abcd")]),
            ("3-byte id at 3", ids, plan([task("abc")]), []),
            (
                "2 characters, 4 bytes over 3", ids, plan([task("éé")]),
                [Expected(.limitExceeded, "tasks[0].task_id", "éé")]
            ),
            (
                "6-byte description over 5", descriptions, plan([described]),
                [Expected(.limitExceeded, "tasks[0].description", "a")]
            ),
            ("5-byte description at 5", descriptions, plan([shortDescribed]), []),
            ("11-byte payload over 10", payload, plan([heavy]), [Expected(.limitExceeded, "tasks[0].parameters", "a")]),
            ("10-byte payload at 10", payload, plan([light]), []),
            (
                "same key in parameters and metadata counts twice", payload, plan([sameKey]),
                [Expected(.limitExceeded, "tasks[0].parameters", "a")]
            ),
        ]
    }()

    @Test(arguments: limitCases)
    func limit(note: String, limits: ValidationLimits, plan: CognitivePlan, expected: [Expected]) {
        #expect(Self.problems(plan, limits: limits) == expected, "\(note)")
    }

    @Test func limitMessagesGiveTheNumbers() {
        var limits = ValidationLimits()
        limits.maxTasks = 2
        let report = PlanValidator(limits: limits).validate(
            plan: plan([task("a"), task("b"), task("c")]),
            now: Self.now
        )
        .report
        #expect(report.problems.map(\.message) == ["3 tasks exceed the limit of 2"])
    }

    @Test func defaultLimits() {
        let limits = ValidationLimits()
        #expect(limits.maxTasks == 100_000)
        #expect(limits.maxDependenciesPerTask == 1_000)
        #expect(limits.maxTaskIdBytes == 256)
        #expect(limits.maxDescriptionBytes == 16_384)
        #expect(limits.maxTaskPayloadBytes == 65_536)
        #expect(limits.maxReportedCycles == 10)
    }

    // MARK: - everything at once

    @Test func everyProblemIsReportedAtOnce() {
        var plan = plan([
            task("a"), task("b", ["a", "ghost"]), task("c", ["c"]), task("a"), task("x", ["z"]), task("y", ["x"]),
            task("z", ["y"]),
        ])
        plan.intentId = ""
        plan.riskBandText = "extreme"
        plan.validUntil = Self.now - 1
        plan.executionOrder = ["a", "b", "nope"]
        let report = PlanValidator().validate(plan: plan, now: Self.now).report
        let codes = Set(report.problems.map(\.code))
        #expect(
            codes == [
                .missingField, .invalidValue, .expired, .duplicateTaskId, .unknownDependency, .selfDependency,
                .dependencyCycle, .executionOrderMismatch,
            ]
        )
        #expect(report.problems.count >= 9)
        #expect(report.cycles == [["x", "y", "z", "x"]])
        #expect(report.problems.contains { $0.field == "intent_id" && $0.code == .missingField })
        #expect(report.problems.contains { $0.field == "tasks[1].dependencies" && $0.taskId == "b" })
        #expect(report.problems.contains { $0.field == "execution_order[2]" && $0.message.contains("nope") })
    }
}
