import Foundation
import OrchestratorCore
import Testing

@testable import OrchestratorWorker

@Suite("ReferenceExecutor shell tasks")
struct ReferenceExecutorShellTests {
    let shell = ReferenceExecutor(options: ExecutorOptions(allowShell: true))

    @Test func shellIsRefusedWithoutAllowShell() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("ran")
        let executor = ReferenceExecutor()
        let ticket = makeTicket(parameters: ["work": "shell", "command": "touch '\(marker.path)'"])
        let outcome = await executor.execute(ticket, attempt: 0)
        #expect(!outcome.success)
        #expect(!outcome.retryable)
        #expect(outcome.error?.contains("--allow-shell") == true)
        #expect(!FileManager.default.fileExists(atPath: marker.path))
    }

    @Test func echoSucceedsWithItsOutput() async {
        let outcome = await shell.execute(makeTicket(parameters: ["work": "shell", "command": "echo hi"]), attempt: 0)
        #expect(outcome.success)
        #expect(outcome.output["exit_code"] == "0")
        #expect(outcome.output["stdout"] == "hi")
        #expect(outcome.output["stderr"] == "")
        #expect(outcome.logs == ["$ echo hi", "exit 0"])
    }

    @Test func aNonZeroExitIsAFailureWithTheExitCode() async {
        let ticket = makeTicket(parameters: ["work": "shell", "command": "echo oops >&2; exit 3"])
        let outcome = await shell.execute(ticket, attempt: 0)
        #expect(!outcome.success)
        #expect(outcome.retryable)
        #expect(outcome.output["exit_code"] == "3")
        #expect(outcome.output["stderr"] == "oops")
        #expect(outcome.error == "the command exited with status 3")
    }

    @Test func retryableCanBeTurnedOff() async {
        let ticket = makeTicket(parameters: ["work": "shell", "command": "exit 1", "retryable": "false"])
        let outcome = await shell.execute(ticket, attempt: 0)
        #expect(!outcome.success)
        #expect(!outcome.retryable)
    }

    @Test func theCommandSeesTheTicketInItsEnvironment() async {
        let ticket = makeTicket(
            id: "ticket-env",
            parameters: ["work": "shell", "command": "echo \"$ORCH_TICKET_ID $ORCH_ATTEMPT\""],
            retryCount: 2
        )
        let outcome = await shell.execute(ticket, attempt: 2)
        #expect(outcome.output["stdout"] == "ticket-env 2")
    }

    @Test func onlyTheTailOfALongOutputIsKept() async {
        let executor = ReferenceExecutor(options: ExecutorOptions(allowShell: true, excerptBytes: 10))
        let ticket = makeTicket(parameters: ["work": "shell", "command": "seq 1 1000"])
        let outcome = await executor.execute(ticket, attempt: 0)
        #expect(outcome.success)
        #expect(outcome.output["stdout"] == "…\n999\n1000")
    }

    @Test func aCommandOverItsTimeoutIsStoppedAndFails() async {
        let ticket = makeTicket(parameters: ["work": "shell", "command": "sleep 30", "timeout_ms": "100"])
        let outcome = await shell.execute(ticket, attempt: 0)
        #expect(!outcome.success)
        #expect(outcome.retryable)
        #expect(outcome.error == "the command timed out after 100 ms")
    }

    @Test func cancellationKillsTheCommand() async {
        let executor = shell
        let task = Task {
            await executor.execute(makeTicket(parameters: ["work": "shell", "command": "sleep 30"]), attempt: 0)
        }
        try? await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let outcome = await task.value
        #expect(!outcome.success)
        #expect(outcome.error == "the execution was cancelled")
    }

    @Test func aMissingCommandFailsForGood() async {
        let outcome = await shell.execute(makeTicket(parameters: ["work": "shell"]), attempt: 0)
        #expect(!outcome.success)
        #expect(!outcome.retryable)
        #expect(outcome.error?.contains("parameters.command") == true)
    }
}
