/// Settings of the REST API.
public struct HTTPOptions: Sendable, Equatable {
    /// Largest request body accepted on intake routes (decisions, plans, workflow start), in bytes.
    public var maxBodyBytes: Int
    /// Largest request body accepted on worker routes (register, poll, heartbeat, complete, fail).
    public var maxWorkerBodyBytes: Int
    /// The service version reported by `/health`.
    public var version: String
    /// Seconds between keep-alive comments on `/api/v1/events` (default 15).
    public var eventKeepAliveSeconds: Int
    /// Most bytes of request bodies buffered at once over all requests (``BodyBudget``).
    public var maxBufferedBodyBytes: Int
    /// Requests a second each principal may make on average (0: no limit); over it, 429.
    public var rateLimitPerSecond: Double
    /// Requests a principal may make at once above the rate.
    public var rateLimitBurst: Int
    /// Long polls (`wait_ms` > 0) one worker id may hold open at once; over it, 429.
    public var maxLongPollsPerWorker: Int
    /// One server span per request (Hummingbird's `TracingMiddleware`, continuing an incoming
    /// `traceparent`); on when the process bootstrapped a tracer.
    public var tracing: Bool = false

    /// - Parameters:
    ///   - maxBodyBytes: default 16 MiB.
    ///   - maxWorkerBodyBytes: default 1 MiB.
    ///   - version: the version `/health` reports.
    ///   - eventKeepAliveSeconds: default 15.
    ///   - maxBufferedBodyBytes: default 256 MiB.
    ///   - rateLimitPerSecond: default 5 000 requests a second per principal.
    ///   - rateLimitBurst: default 10 000.
    ///   - maxLongPollsPerWorker: default 128.
    public init(
        maxBodyBytes: Int = 16 << 20,
        maxWorkerBodyBytes: Int = 1 << 20,
        version: String = "0.0.0",
        eventKeepAliveSeconds: Int = 15,
        maxBufferedBodyBytes: Int = 256 << 20,
        rateLimitPerSecond: Double = 5_000,
        rateLimitBurst: Int = 10_000,
        maxLongPollsPerWorker: Int = 128
    ) {
        self.rateLimitPerSecond = rateLimitPerSecond
        self.rateLimitBurst = rateLimitBurst
        self.maxLongPollsPerWorker = maxLongPollsPerWorker
        self.maxBodyBytes = maxBodyBytes
        self.maxWorkerBodyBytes = maxWorkerBodyBytes
        self.version = version
        self.eventKeepAliveSeconds = eventKeepAliveSeconds
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
    }
}
