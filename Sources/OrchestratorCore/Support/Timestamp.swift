/// Milliseconds since the Unix epoch, the timestamp unit of every hive-mind contract.
public typealias EpochMillis = Int64

/// A source of the current time, injected everywhere time matters so tests control it.
public protocol WallClock: Sendable {
    /// The current time in epoch milliseconds.
    func nowMillis() -> EpochMillis
}

/// A clock that always returns a fixed instant (unit tests, dry runs).
public struct FixedClock: WallClock {
    public var millis: EpochMillis
    public init(_ millis: EpochMillis) { self.millis = millis }
    public func nowMillis() -> EpochMillis { millis }
}
