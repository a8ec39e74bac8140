/// Capped exponential backoff between retries of a failed call.
struct Backoff: Sendable {
    let initialMs: Int64
    let maxMs: Int64
    private var nextMs: Int64

    init(initialMs: Int64, maxMs: Int64) {
        self.initialMs = max(1, initialMs)
        self.maxMs = max(self.initialMs, maxMs)
        self.nextMs = self.initialMs
    }

    /// The delay before the next retry; doubles up to the cap.
    mutating func next() -> Int64 {
        defer { nextMs = min(maxMs, nextMs * 2) }
        return nextMs
    }

    /// Starts over after a success.
    mutating func reset() {
        nextMs = initialMs
    }

    /// Sleeps for the next delay (returns early when the task is cancelled).
    mutating func wait() async {
        try? await Task.sleep(for: .milliseconds(next()))
    }
}
