import OrchestratorStore
import Synchronization

/// Broadcasts relayed messages to live subscribers (the server-sent-events feed). Delivery to a
/// slow subscriber drops its oldest buffered messages rather than holding the relay back.
public final class LiveFeed: OutboxSink, Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<StoredOutboxMessage>.Continuation]>([:])
    private let nextId = Atomic<Int>(0)

    public init() {}

    /// A stream of every message relayed from now on.
    public func subscribe(buffer: Int = 10_000) -> AsyncStream<StoredOutboxMessage> {
        let id = nextId.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(
            of: StoredOutboxMessage.self,
            bufferingPolicy: .bufferingNewest(buffer)
        )
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    public func deliver(_ messages: [StoredOutboxMessage]) async throws {
        let targets = subscribers.withLock { Array($0.values) }
        guard !targets.isEmpty else { return }
        for message in messages {
            for target in targets { target.yield(message) }
        }
    }
}
