/// How a worker loop polls, retries and stops.
struct WorkerSettings: Sendable {
    /// Long-poll wait per poll.
    var pollWaitMs: Int64
    /// Most tickets leased per poll; a batch executes concurrently.
    var maxTickets: Int
    /// First delay after a failed call.
    var initialBackoffMs: Int64 = 100
    /// Largest delay between retries.
    var maxBackoffMs: Int64 = 5000
    /// Stop (instead of retrying) when the orchestrator says it is unavailable: right for workers
    /// inside the orchestrator process, which stop with it.
    var stopWhenUnavailable: Bool
    /// How often a completion or failure is tried before it is given up.
    var reportAttempts: Int
    /// After cancellation, how long running tickets may still take before they are cancelled too.
    var drainGraceMs: Int64
}
