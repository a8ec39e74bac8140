import Synchronization

/// A token bucket per principal: `ratePerSecond` requests a second on average, bursts up to
/// `burst`. Over it, a request is answered 429 with `Retry-After`. Written here because neither
/// Hummingbird nor hummingbird-auth has one; it is a few lines and needs no storage (each replica
/// limits what it serves).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var refilledAt: ContinuousClock.Instant
    }

    let ratePerSecond: Double
    let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    private let clock = ContinuousClock()

    /// `ratePerSecond` 0 turns the limit off.
    init(ratePerSecond: Double, burst: Int) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(max(1, burst))
    }

    var isEnabled: Bool { ratePerSecond > 0 }

    /// Takes one token from `key`'s bucket: `nil` when there was one, else the seconds to wait
    /// for the next.
    func take(_ key: String) -> Int? {
        guard isEnabled else { return nil }
        let now = clock.now
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, refilledAt: now)
            let elapsed = bucket.refilledAt.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            bucket.tokens = min(burst, bucket.tokens + seconds * ratePerSecond)
            bucket.refilledAt = now
            defer {
                buckets[key] = bucket
                // Keep the table small: forget full buckets once it grows (they are as new).
                if buckets.count > 10_000 { buckets = buckets.filter { $0.value.tokens < burst } }
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / ratePerSecond).rounded(.up)))
        }
    }
}

/// The long polls each worker id holds open; over the limit, a poll is answered 429.
final class LongPollCounter: Sendable {
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a poll in, `false` (and nothing counted) when the worker already holds `limit`.
    func enter(_ workerId: String) -> Bool {
        counts.withLock { counts in
            let current = counts[workerId, default: 0]
            guard current < limit else { return false }
            counts[workerId] = current + 1
            return true
        }
    }

    func leave(_ workerId: String) {
        counts.withLock { counts in
            let current = counts[workerId, default: 1] - 1
            counts[workerId] = current > 0 ? current : nil
        }
    }
}
