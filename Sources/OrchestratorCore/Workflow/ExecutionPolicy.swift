import Foundation

/// How tickets run once released: leases, retries, SLA handling. Documented in docs/CONFIGURATION.md.
public struct ExecutionPolicy: Sendable, Equatable, Codable {
    /// How long a lease lasts without a heartbeat.
    public var leaseTtlMs: Int64 = 30_000
    /// First retry backoff.
    public var initialBackoffMs: Int64 = 1_000
    /// Backoff growth per retry.
    public var backoffMultiplier: Double = 2
    /// Largest backoff.
    public var maxBackoffMs: Int64 = 60_000
    /// What happens when a ticket's SLA deadline passes: `continue` (raise an SLA_VIOLATION
    /// incident and let it run) or `fail` (also fail the current attempt).
    public var slaAction: SLAAction = .continue
    /// Whether an attempt longer than the ticket's `timeout_ms` is failed (TICKET_TIMEOUT).
    public var enforceTimeout: Bool = true

    public enum SLAAction: String, Sendable, Codable {
        case `continue`, fail
    }

    public init() {}

    /// Backoff before retry number `retry` (1-based).
    public func backoff(retry: Int) -> Int64 {
        let scaled = Double(initialBackoffMs) * pow(backoffMultiplier, Double(max(0, retry - 1)))
        return min(maxBackoffMs, scaled >= Double(Int64.max / 2) ? maxBackoffMs : Int64(scaled))
    }
}
