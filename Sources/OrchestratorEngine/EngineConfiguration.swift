import OrchestratorCore

/// Engine settings. Defaults are documented in docs/CONFIGURATION.md.
public struct EngineConfiguration: Sendable, Equatable, Codable {
    /// The domain policies (C1–C3, execution).
    public var policies = PolicyConfiguration()
    /// How often timers and long-poll deadlines are checked, in milliseconds.
    public var tickIntervalMs: Int64 = 20
    /// Most commands applied in one database transaction (group commit).
    public var maxBatch: Int = 256
    /// Longest long-poll a worker may ask for.
    public var maxPollWaitMs: Int64 = 60_000
    /// Most tickets one poll may lease.
    public var maxTicketsPerPoll: Int = 64
    /// Outbox messages relayed per round.
    public var relayBatch: Int = 500

    public init() {}
}
