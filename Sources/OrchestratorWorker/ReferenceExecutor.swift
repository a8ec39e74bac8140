import OrchestratorCore

/// The executor the built-in workers run: a few kinds of real work, deterministic failure
/// injection, and simulation of the hive-mind's task types.
///
/// The kind of work is chosen by the ticket's `parameters["work"]`:
///
/// | `work` | parameters | what happens |
/// |---|---|---|
/// | `noop` | – | succeeds at once |
/// | `sleep` | `sleep_ms` (required) | sleeps that long (not scaled), then succeeds |
/// | `http` | `url` (required), `method` (`GET`), `body`, `content_type`, `expect_status` (`2xx`; also e.g. `200`, `200,204`, `4xx`), `timeout_ms` | sends the request; output `status_code`, `body_excerpt`, `body_bytes`; an unexpected status fails (retryable for 408, 429 and 5xx), a transport error fails retryably |
/// | `shell` | `command` (required), `timeout_ms`, `retryable` (`true`) | only with ``ExecutorOptions/allowShell``: runs `/bin/sh -c command`; output `exit_code`, `stdout`, `stderr` (tails); a non-zero exit fails |
/// | `fail` | `fail_attempts` (1000000), `retryable` (`true`) | fails while the attempt (0-based retry count) is below `fail_attempts`, then succeeds: `fail_attempts=1` fails once |
/// | absent or other | – | simulates the task type: VALIDATE 200 ms, BUILD 600, TEST 450, DEPLOY 800, EXECUTE 400, QUERY 150, TRANSFORM 300, COMPENSATE 250, times ``ExecutorOptions/simulationScale``, ±20 % jitter derived from the ticket id; output `simulated=true`, `task_type` |
///
/// `COMPENSATE` tickets carry a copy of the parameters of the ticket they undo, so they do not
/// repeat its `work`: they read `compensate_work` instead, and every other parameter with the
/// `compensate_` prefix (`compensate_command`, `compensate_url`, …). Without `compensate_work`
/// compensation is simulated.
///
/// Copies of an executor share one HTTP client, created on the first `http` task; call
/// ``shutdown()`` once no task runs any more.
public struct ReferenceExecutor: TaskExecutor {
    /// The settings.
    public let options: ExecutorOptions
    let http: OwnedHTTPClient

    public init(options: ExecutorOptions = ExecutorOptions()) {
        self.options = options
        self.http = OwnedHTTPClient(followRedirects: true)
    }

    public func execute(_ ticket: ExecutionTicket, attempt: Int) async -> TaskOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = await perform(WorkParameters(ticket: ticket), attempt: attempt)
        outcome.durationMs = (clock.now - start).milliseconds
        return outcome
    }

    /// Shuts the shared HTTP client down (if an `http` task created it). Later `http` tasks fail.
    public func shutdown() async {
        await http.shutdown()
    }

    func perform(_ work: WorkParameters, attempt: Int) async -> TaskOutcome {
        if Task.isCancelled { return .cancelled }
        switch work.kind?.lowercased() {
        case "noop": return .succeeded(output: ["work": "noop"])
        case "sleep": return await sleep(work)
        case "http": return await request(work)
        case "shell": return await shell(work)
        case "fail": return injectedFailure(work, attempt: attempt)
        case let other: return await simulate(work, unknownKind: other)
        }
    }

    func sleep(_ work: WorkParameters) async -> TaskOutcome {
        guard let text = work["sleep_ms"], let milliseconds = Int64(text), milliseconds >= 0 else {
            return .failed(work.missing("sleep_ms", "a non-negative integer number of milliseconds"), retryable: false)
        }
        guard milliseconds <= options.maxSleepMs else {
            return .failed(
                "\(work.name("sleep_ms")): \(milliseconds) exceeds the worker's limit of \(options.maxSleepMs) ms",
                retryable: false
            )
        }
        do {
            try await Task.sleep(for: .milliseconds(milliseconds))
        } catch {
            return .cancelled
        }
        return .succeeded(output: ["work": "sleep", "slept_ms": String(milliseconds)])
    }

    func injectedFailure(_ work: WorkParameters, attempt: Int) -> TaskOutcome {
        let failing = work["fail_attempts"].flatMap { Int($0) } ?? 1_000_000
        let retryable = work.flag("retryable") ?? true
        guard attempt < failing else {
            return .succeeded(output: ["work": "fail", "attempt": String(attempt), "recovered": "true"])
        }
        return .failed(
            "injected failure on attempt \(attempt) (fails while attempt < \(failing))",
            retryable: retryable,
            output: ["work": "fail", "attempt": String(attempt)]
        )
    }
}

extension TaskOutcome {
    /// The execution was cancelled (the worker is stopping or lost its lease).
    static var cancelled: TaskOutcome { .failed("the execution was cancelled", retryable: true) }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
