/// The C2 policy that turns tasks into tickets. Every number is configurable; defaults follow
/// CONTRACTS.md and are documented in docs/CONFIGURATION.md.
public struct TicketPolicy: Sendable, Equatable, Codable {
    /// Estimate used when a task gives none.
    public var defaultEstimateMs: Int64 = 60_000
    /// Smallest timeout a ticket gets.
    public var minTimeoutMs: Int64 = 60_000
    /// timeout_ms = max(minTimeoutMs, estimate × timeoutMultiplier).
    public var timeoutMultiplier: Double = 3
    /// max_retries by risk band.
    public var maxRetries: BandTable<Int> = .init(low: 1, medium: 2, high: 3, critical: 5)
    /// QoS by risk band.
    public var qos: BandTable<QoS> = .init(
        low: .init(deliveryMode: .AT_LEAST_ONCE, consistency: .EVENTUAL, durability: .PERSISTENT),
        medium: .init(deliveryMode: .AT_LEAST_ONCE, consistency: .EVENTUAL, durability: .PERSISTENT),
        high: .init(deliveryMode: .EXACTLY_ONCE, consistency: .STRONG, durability: .PERSISTENT),
        critical: .init(deliveryMode: .EXACTLY_ONCE, consistency: .STRONG, durability: .PERSISTENT)
    )
    /// A ticket's deadline is `created_at + deadlineFactor × (sum of timeouts along the longest
    /// chain of predecessors ending at the ticket, its own included)`, so a chain whose every
    /// task keeps within its timeout is never late by construction.
    public var deadlineFactor: Double = 1
    /// Priority when the plan gives none.
    public var defaultPriority: Priority = .NORMAL
    /// Security level when the plan gives none.
    public var defaultSecurityLevel: SecurityLevel = .INTERNAL

    public init() {}

    /// The estimate used for a task.
    public func estimate(_ task: PlanTask) -> Int64 {
        task.estimatedDurationMs ?? defaultEstimateMs
    }

    /// timeout_ms for an estimate.
    public func timeout(estimateMs: Int64) -> Int64 {
        let scaled = Double(estimateMs) * timeoutMultiplier
        let bounded = scaled >= Double(Int64.max / 4) ? Int64.max / 4 : Int64(scaled.rounded(.up))
        return max(minTimeoutMs, bounded)
    }
}

/// A value per risk band.
public struct BandTable<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    public var low: Value
    public var medium: Value
    public var high: Value
    public var critical: Value

    public init(low: Value, medium: Value, high: Value, critical: Value) {
        self.low = low
        self.medium = medium
        self.high = high
        self.critical = critical
    }

    public subscript(band: RiskBand) -> Value {
        get {
            switch band {
            case .low: return low
            case .medium: return medium
            case .high: return high
            case .critical: return critical
            }
        }
        set {
            switch band {
            case .low: low = newValue
            case .medium: medium = newValue
            case .high: high = newValue
            case .critical: critical = newValue
            }
        }
    }
}
