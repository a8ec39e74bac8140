import Synchronization

/// The engine's inbox: any task enqueues; the single loop drains in batches.
final class CommandQueue: Sendable {
    private let buffer = Mutex<(commands: [EngineCommand], closed: Bool)>(([], false))
    /// Yields whenever commands were enqueued; iterated only by the engine loop.
    let signal: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init() {
        (signal, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Adds a command; returns false once the queue is closed.
    @discardableResult
    func enqueue(_ command: EngineCommand) -> Bool {
        let accepted = buffer.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.commands.append(command)
            return true
        }
        if accepted { wake.yield() }
        return accepted
    }

    /// Takes up to `max` commands (possibly none).
    /// Wakes the loop without a command (a commit it waits for has finished).
    func poke() {
        wake.yield()
    }

    /// Commands waiting for the loop.
    var depth: Int { buffer.withLock { $0.commands.count } }

    func drain(max: Int) -> [EngineCommand] {
        buffer.withLock { state in
            let count = min(max, state.commands.count)
            let taken = Array(state.commands.prefix(count))
            state.commands.removeFirst(count)
            return taken
        }
    }

    /// Refuses further commands and returns the ones still queued.
    func close() -> [EngineCommand] {
        let rest = buffer.withLock { state in
            state.closed = true
            let rest = state.commands
            state.commands = []
            return rest
        }
        wake.finish()
        return rest
    }
}
