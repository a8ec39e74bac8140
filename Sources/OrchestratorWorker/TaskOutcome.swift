/// What came of executing a ticket: reported to the orchestrator as a completion or a failure.
public struct TaskOutcome: Sendable, Equatable {
    /// Whether the work succeeded.
    public var success: Bool
    /// Result values (the `output` map of the execution result).
    public var output: [String: String]
    /// Log lines worth keeping with the result.
    public var logs: [String]
    /// Why the work failed; `nil` on success.
    public var error: String?
    /// Whether another attempt could succeed (ignored on success).
    public var retryable: Bool
    /// How long the work took, in milliseconds.
    public var durationMs: Int64

    public init(
        success: Bool,
        output: [String: String] = [:],
        logs: [String] = [],
        error: String? = nil,
        retryable: Bool = false,
        durationMs: Int64 = 0
    ) {
        self.success = success
        self.output = output
        self.logs = logs
        self.error = error
        self.retryable = retryable
        self.durationMs = durationMs
    }

    /// A successful outcome.
    public static func succeeded(output: [String: String] = [:], logs: [String] = [], durationMs: Int64 = 0) -> Self {
        TaskOutcome(success: true, output: output, logs: logs, durationMs: durationMs)
    }

    /// A failed outcome.
    public static func failed(
        _ error: String,
        retryable: Bool,
        output: [String: String] = [:],
        logs: [String] = [],
        durationMs: Int64 = 0
    ) -> Self {
        TaskOutcome(
            success: false,
            output: output,
            logs: logs,
            error: error,
            retryable: retryable,
            durationMs: durationMs
        )
    }
}
