import Foundation
import OrchestratorCore
import Testing

@testable import OrchestratorWorker

@Suite("ReferenceExecutor")
struct ReferenceExecutorTests {
    let executor = ReferenceExecutor(options: ExecutorOptions(simulationScale: 0))

    @Test func noopSucceedsAtOnce() async {
        let outcome = await executor.execute(makeTicket(parameters: ["work": "noop"]), attempt: 0)
        #expect(outcome.success)
        #expect(outcome.error == nil)
        #expect(outcome.output["work"] == "noop")
    }

    @Test func sleepLastsAtLeastTheRequestedTime() async {
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = await executor.execute(makeTicket(parameters: ["work": "sleep", "sleep_ms": "60"]), attempt: 0)
        let elapsed = clock.now - start
        #expect(outcome.success)
        #expect(outcome.output["slept_ms"] == "60")
        #expect(elapsed >= .milliseconds(60))
        #expect(outcome.durationMs >= 60)
    }

    @Test(arguments: [[:], ["sleep_ms": "soon"], ["sleep_ms": "-5"]])
    func sleepWithoutAValidDurationFailsForGood(_ extra: [String: String]) async {
        let outcome = await executor.execute(
            makeTicket(parameters: extra.merging(["work": "sleep"]) { $1 }),
            attempt: 0
        )
        #expect(!outcome.success)
        #expect(!outcome.retryable)
        #expect(outcome.error?.contains("parameters.sleep_ms") == true)
    }

    @Test func sleepLongerThanTheLimitIsRefused() async {
        let limited = ReferenceExecutor(options: ExecutorOptions(maxSleepMs: 100))
        let outcome = await limited.execute(makeTicket(parameters: ["work": "sleep", "sleep_ms": "101"]), attempt: 0)
        #expect(!outcome.success)
        #expect(outcome.error?.contains("limit of 100 ms") == true)
    }

    @Test(
        "fail injection fails while attempt < fail_attempts",
        arguments: [
            (["fail_attempts": "1"], 0, false),
            (["fail_attempts": "1"], 1, true),
            (["fail_attempts": "3"], 2, false),
            (["fail_attempts": "3"], 3, true),
            ([:], 0, false),
            ([:], 50, false),
            (["fail_attempts": "0"], 0, true),
        ] as [([String: String], Int, Bool)]
    )
    func failInjection(_ parameters: [String: String], attempt: Int, succeeds: Bool) async {
        let ticket = makeTicket(parameters: parameters.merging(["work": "fail"]) { $1 }, retryCount: attempt)
        let outcome = await executor.execute(ticket, attempt: attempt)
        #expect(outcome.success == succeeds)
        #expect(outcome.output["attempt"] == String(attempt))
        if !succeeds {
            #expect(outcome.retryable)
            #expect(outcome.error?.contains("injected failure on attempt \(attempt)") == true)
        }
    }

    @Test(arguments: [("false", false), ("true", true), ("no", false)])
    func failInjectionTakesRetryableFromTheParameters(_ text: String, _ retryable: Bool) async {
        let ticket = makeTicket(parameters: ["work": "fail", "retryable": text])
        let outcome = await executor.execute(ticket, attempt: 0)
        #expect(!outcome.success)
        #expect(outcome.retryable == retryable)
    }

    @Test(arguments: TaskType.allCases)
    func unknownOrAbsentWorkIsSimulatedByTaskType(_ type: TaskType) async {
        let outcome = await executor.execute(makeTicket(type: type), attempt: 0)
        #expect(outcome.success)
        #expect(outcome.output["simulated"] == "true")
        #expect(outcome.output["task_type"] == type.rawValue)
        #expect(outcome.output["simulated_duration_ms"] == "0")
        #expect(outcome.logs.isEmpty)
    }

    @Test func anUnknownWorkKindIsSimulatedAndSaysSo() async {
        let outcome = await executor.execute(makeTicket(type: .BUILD, parameters: ["work": "teleport"]), attempt: 0)
        #expect(outcome.success)
        #expect(outcome.output["task_type"] == "BUILD")
        #expect(outcome.logs == ["unknown work kind \"teleport\": simulated as BUILD"])
    }

    @Test(arguments: TaskType.allCases)
    func simulatedDurationsAreTheBaseWithinTwentyPercentAndStable(_ type: TaskType) {
        let base = Double(ReferenceExecutor.simulatedBaseDurationMs(type))
        var seen = Set<Double>()
        for index in 0..<50 {
            let ticket = makeTicket(id: "ticket-\(index)", type: type)
            let duration = ReferenceExecutor.simulatedDurationMs(ticket, scale: 1)
            #expect(duration >= base * 0.8 && duration <= base * 1.2)
            #expect(ReferenceExecutor.simulatedDurationMs(ticket, scale: 1) == duration)
            #expect(ReferenceExecutor.simulatedDurationMs(ticket, scale: 0.5) == duration * 0.5)
            #expect(ReferenceExecutor.simulatedDurationMs(ticket, scale: 0) == 0)
            seen.insert(duration)
        }
        #expect(seen.count > 10, "the jitter should vary with the ticket id")
    }

    @Test func baseDurationsMatchTheHiveMindSimulators() {
        let expected: [TaskType: Int64] = [
            .VALIDATE: 200, .BUILD: 600, .TEST: 450, .DEPLOY: 800, .EXECUTE: 400, .QUERY: 150, .TRANSFORM: 300,
            .COMPENSATE: 250,
        ]
        for type in TaskType.allCases {
            #expect(ReferenceExecutor.simulatedBaseDurationMs(type) == expected[type])
        }
    }

    @Test func compensationDoesNotRepeatTheOriginalWork() async {
        let copied = ["work": "fail", "action": "delete_artifacts"]
        let outcome = await executor.execute(makeTicket(type: .COMPENSATE, parameters: copied), attempt: 0)
        #expect(outcome.success)
        #expect(outcome.output["simulated"] == "true")
        #expect(outcome.output["action"] == "delete_artifacts")
    }

    @Test func compensationRunsItsOwnPrefixedWork() async {
        let parameters = ["work": "noop", "compensate_work": "fail", "compensate_retryable": "false"]
        let outcome = await executor.execute(makeTicket(type: .COMPENSATE, parameters: parameters), attempt: 0)
        #expect(!outcome.success)
        #expect(!outcome.retryable)
    }

    @Test func aCancelledExecutionFailsRetryably() async {
        let task = Task {
            await executor.execute(makeTicket(parameters: ["work": "sleep", "sleep_ms": "60000"]), attempt: 0)
        }
        task.cancel()
        let outcome = await task.value
        #expect(!outcome.success)
        #expect(outcome.retryable)
        #expect(outcome.error == "the execution was cancelled")
    }
}
