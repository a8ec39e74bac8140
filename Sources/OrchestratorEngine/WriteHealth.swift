import Synchronization

/// Whether the store takes writes: set when a commit fails for a reason of the store's own (a full
/// disk, a lost database), cleared by the next commit or write probe that succeeds. `/ready`
/// reports the problem until then.
final class WriteHealth: Sendable {
    private let problem = Mutex<String?>(nil)

    var current: String? { problem.withLock { $0 } }

    func failed(_ error: any Error) {
        let text = "\(error)"
        problem.withLock { $0 = text }
    }

    func succeeded() {
        problem.withLock { if $0 != nil { $0 = nil } }
    }
}
