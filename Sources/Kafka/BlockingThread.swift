import Foundation

/// A dedicated OS thread for librdkafka's blocking calls (polling, flushing, committing,
/// metadata), so that they never occupy a thread of Swift's cooperative pool.
///
/// Jobs run one at a time in submission order. When there is no job the thread runs `idle`
/// (e.g. a short `rd_kafka_poll` that serves delivery reports) or sleeps until a job arrives.
/// `@unchecked Sendable`: every mutable field is guarded by `condition`.
final class BlockingThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopping = false
    private var finished = false
    private let idle: (@Sendable () -> Void)?

    /// Starts the thread.
    init(name: String, idle: (@Sendable () -> Void)? = nil) {
        self.idle = idle
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty, !stopping, idle == nil { condition.wait() }
            if jobs.isEmpty, stopping {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = jobs.isEmpty ? nil : jobs.removeFirst()
            condition.unlock()
            if let job { job() } else { idle?() }
        }
    }

    /// Queues a job; `false` once the thread is stopping.
    private func enqueue(_ job: @escaping @Sendable () -> Void, last: Bool = false) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        jobs.append(job)
        if last { stopping = true }
        condition.broadcast()
        return true
    }

    /// Runs `body` on the thread and returns its result.
    func run<T: Sendable>(
        _ what: String,
        last: Bool = false,
        _ body: @escaping @Sendable () throws(KafkaError) -> T
    ) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            let accepted = enqueue(
                {
                    do throws(KafkaError) {
                        continuation.resume(returning: .success(try body()))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                },
                last: last
            )
            if !accepted { continuation.resume(returning: .failure(.closed(what))) }
        }
        return try result.get()
    }

    /// Queues `job` as the last one and lets the thread exit after it, without waiting (for
    /// `deinit`, which cannot wait).
    func finish(with job: @escaping @Sendable () -> Void) {
        _ = enqueue(job, last: true)
    }

    /// Whether the thread has stopped taking jobs.
    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Waits (blocking) until the loop has exited; call after a `last` job was queued.
    func join() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
