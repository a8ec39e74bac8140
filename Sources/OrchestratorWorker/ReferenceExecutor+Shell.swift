extension ReferenceExecutor {
    /// The `shell` work: only on workers started with `--allow-shell`.
    func shell(_ work: WorkParameters) async -> TaskOutcome {
        guard options.allowShell else {
            return .failed(
                "shell tasks need the worker's explicit --allow-shell flag; this worker does not run commands",
                retryable: false
            )
        }
        guard let command = work["command"] else {
            return .failed(work.missing("command", "the command line to run with /bin/sh -c"), retryable: false)
        }
        let ticket = work.ticket
        let runner = ShellRunner(
            timeoutMs: work.positiveInt("timeout_ms") ?? options.shellTimeoutMs,
            excerptBytes: options.excerptBytes,
            environment: [
                "ORCH_TICKET_ID": ticket.ticketId, "ORCH_TASK_ID": ticket.taskId, "ORCH_PLAN_ID": ticket.planId,
                "ORCH_ATTEMPT": String(ticket.retryCount),
            ]
        )
        let result: ShellRunner.Result
        do {
            result = try await runner.run(command)
        } catch {
            return .failed("the command could not be started: \(error)", retryable: true, output: ["work": "shell"])
        }
        if Task.isCancelled { return .cancelled }
        let output = [
            "work": "shell", "exit_code": String(result.exitCode), "stdout": result.stdout, "stderr": result.stderr,
        ]
        let logs = [
            "$ \(command)", result.signaled ? "killed by signal \(result.exitCode)" : "exit \(result.exitCode)",
        ]
        let retryable = work.flag("retryable") ?? true
        if result.timedOut {
            return .failed(
                "the command timed out after \(runner.timeoutMs) ms",
                retryable: retryable,
                output: output,
                logs: logs
            )
        }
        if result.signaled {
            return .failed(
                "the command was killed by signal \(result.exitCode)",
                retryable: retryable,
                output: output,
                logs: logs
            )
        }
        guard result.exitCode == 0 else {
            return .failed(
                "the command exited with status \(result.exitCode)",
                retryable: retryable,
                output: output,
                logs: logs
            )
        }
        return .succeeded(output: output, logs: logs)
    }
}
