import Hummingbird
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore
import ServiceLifecycle

/// Writes relayed outbox messages as server-sent events:
/// `id: <sequence>\nevent: <topic>\ndata: <payload JSON>\n\n`, with a `: keep-alive` comment
/// every `keepAliveSeconds`. Ends after `limit` messages (0 = no limit), when the engine stops,
/// on graceful shutdown, or when the client goes away.
struct EventStream: Sendable {
    let messages: AsyncStream<StoredOutboxMessage>
    let topics: Set<OutboxTopic>?
    let limit: Int
    let keepAliveSeconds: Int
    let engine: Engine

    enum Item: Sendable {
        case message(StoredOutboxMessage)
        case keepAlive
        case end
    }

    func write(to writer: inout any ResponseBodyWriter) async throws {
        let (items, sink) = AsyncStream.makeStream(of: Item.self)
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await forward(to: sink) }
                group.addTask { await tick(into: sink) }
                defer { group.cancelAll() }
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                var sent = 0
                loop: for await item in items {
                    switch item {
                    case .message(let stored):
                        try await writer.write(ByteBuffer(string: Self.frame(stored)))
                        sent += 1
                        if limit > 0, sent >= limit { break loop }
                    case .keepAlive:
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    case .end:
                        break loop
                    }
                }
            }
        } onGracefulShutdown: {
            sink.yield(.end)
        }
        try await writer.finish(nil)
    }

    private func forward(to sink: AsyncStream<Item>.Continuation) async {
        for await stored in messages where topics?.contains(stored.message.topic) ?? true {
            sink.yield(.message(stored))
        }
        sink.yield(.end)
    }

    /// Checks every second that the engine still runs; a keep-alive every `keepAliveSeconds`.
    private func tick(into sink: AsyncStream<Item>.Continuation) async {
        var seconds = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            guard !Task.isCancelled else { return }
            guard engine.isRunning else {
                sink.yield(.end)
                return
            }
            seconds += 1
            if seconds % max(1, keepAliveSeconds) == 0 { sink.yield(.keepAlive) }
        }
    }

    /// One event; a payload spread over several lines gets one `data:` line each.
    static func frame(_ stored: StoredOutboxMessage) -> String {
        var text = "id: \(stored.sequence)\nevent: \(stored.message.topic.rawValue)\n"
        for line in stored.message.payload.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line)\n"
        }
        return text + "\n"
    }
}
