import Synchronization

/// Runs `operation` in a task of its own and returns its result, or `nil` when `timeoutMs` pass
/// first. Past the deadline the operation is no longer awaited, so a callee that never answers
/// (e.g. an engine that stopped while a long poll was parked) cannot hang the caller.
func withAbandonDeadline<T: Sendable>(
    _ timeoutMs: Int64,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T? {
    try await withCheckedThrowingContinuation { continuation in
        let once = ResumeOnce(continuation)
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(timeoutMs))
            if !Task.isCancelled { once.resume(with: .success(nil)) }
        }
        Task {
            do {
                once.resume(with: .success(try await operation()))
            } catch {
                once.resume(with: .failure(error))
            }
            timer.cancel()
        }
    }
}

/// Resumes a continuation at most once.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T?, any Error>?>

    init(_ continuation: CheckedContinuation<T?, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(with result: Result<T?, any Error>) {
        let taken = continuation.withLock { slot -> CheckedContinuation<T?, any Error>? in
            defer { slot = nil }
            return slot
        }
        taken?.resume(with: result)
    }
}
