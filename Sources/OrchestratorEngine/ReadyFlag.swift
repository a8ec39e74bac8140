import Synchronization

/// A thread-safe boolean.
final class ReadyFlag: Sendable {
    private let storage = Atomic<Bool>(false)
    var value: Bool { storage.load(ordering: .acquiring) }
    func set(_ value: Bool) { storage.store(value, ordering: .releasing) }
}
