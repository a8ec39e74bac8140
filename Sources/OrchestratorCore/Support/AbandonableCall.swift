import Synchronization

/// Runs `operation` in a task of its own and returns its result, or `nil` when `timeoutMs` pass
/// first. Past the deadline the operation is no longer awaited, so a callee that never answers
/// (e.g. an engine that stopped while a long poll was parked, or a database call whose connection
/// was dropped) cannot hang the caller. With `propagatingCancellation`, cancelling the caller
/// cancels the operation too; without, the operation runs on (a report finishing during a drain).
public func withAbandonDeadline<T: Sendable>(
    _ timeoutMs: Int64,
    propagatingCancellation: Bool = false,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T? {
    let work = Mutex<Task<Void, Never>?>(nil)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            let timer = Task {
                try? await Task.sleep(for: .milliseconds(timeoutMs))
                if !Task.isCancelled { once.resume(with: .success(nil)) }
            }
            let task = Task {
                do {
                    once.resume(with: .success(try await operation()))
                } catch {
                    once.resume(with: .failure(error))
                }
                timer.cancel()
            }
            work.withLock { $0 = task }
            // Cancelled before the task existed: the handler below found nothing to cancel.
            if propagatingCancellation && Task.isCancelled { task.cancel() }
        }
    } onCancel: {
        if propagatingCancellation { work.withLock { $0 }?.cancel() }
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
