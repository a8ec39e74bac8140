/// Settings of the REST API.
public struct HTTPOptions: Sendable, Equatable {
    /// Largest request body accepted on intake routes (decisions, plans, workflow start), in bytes.
    public var maxBodyBytes: Int
    /// Largest request body accepted on worker routes (register, poll, heartbeat, complete, fail).
    public var maxWorkerBodyBytes: Int
    /// The service version reported by `/health`.
    public var version: String

    /// - Parameters:
    ///   - maxBodyBytes: default 16 MiB.
    ///   - maxWorkerBodyBytes: default 1 MiB.
    ///   - version: the version `/health` reports.
    public init(maxBodyBytes: Int = 16 << 20, maxWorkerBodyBytes: Int = 1 << 20, version: String = "0.0.0") {
        self.maxBodyBytes = maxBodyBytes
        self.maxWorkerBodyBytes = maxWorkerBodyBytes
        self.version = version
    }
}
