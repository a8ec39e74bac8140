/// Settings of the ``ReferenceExecutor``.
public struct ExecutorOptions: Sendable, Equatable {
    /// Whether `shell` tasks may run. Off by default: a ticket must never be able to run commands
    /// on a worker that did not opt in (the CLI's `--allow-shell` flag).
    public var allowShell: Bool
    /// Multiplies simulated durations; `0` makes simulated tasks instant. Default 1.
    public var simulationScale: Double
    /// Default timeout of an `http` task (a ticket's `timeout_ms` parameter overrides it). Default 10 s.
    public var httpTimeoutMs: Int64
    /// Default timeout of a `shell` task (a ticket's `timeout_ms` parameter overrides it). Default 5 min.
    public var shellTimeoutMs: Int64
    /// Longest `sleep` a ticket may ask for. Default 1 h.
    public var maxSleepMs: Int64
    /// Most bytes of a response body or of a command's stdout/stderr kept in the output. Default 2048.
    public var excerptBytes: Int

    public init(
        allowShell: Bool = false,
        simulationScale: Double = 1.0,
        httpTimeoutMs: Int64 = 10_000,
        shellTimeoutMs: Int64 = 300_000,
        maxSleepMs: Int64 = 3_600_000,
        excerptBytes: Int = 2048
    ) {
        self.allowShell = allowShell
        self.simulationScale = max(0, simulationScale)
        self.httpTimeoutMs = httpTimeoutMs
        self.shellTimeoutMs = shellTimeoutMs
        self.maxSleepMs = maxSleepMs
        self.excerptBytes = max(0, excerptBytes)
    }
}
