import Synchronization

/// Gathers the delivery reports of one batch and resumes its waiter when the last one arrives.
final class DeliveryCollector: Sendable {
    private struct State {
        var results: [Result<DeliveryReport, KafkaError>?]
        var remaining: Int
        var continuation: CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>?
    }
    private let state: Mutex<State>

    init(count: Int, continuation: CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>) {
        state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count, continuation: continuation))
    }

    /// Records the outcome of message `index` (once per message).
    func record(_ index: Int, _ result: Result<DeliveryReport, KafkaError>) {
        let done:
            (CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>, [Result<DeliveryReport, KafkaError>])? =
                state.withLock { state in
                    guard state.results[index] == nil else { return nil }
                    state.results[index] = result
                    state.remaining -= 1
                    guard state.remaining == 0, let continuation = state.continuation else { return nil }
                    state.continuation = nil
                    return (continuation, state.results.map { $0! })
                }
        if let (continuation, results) = done { continuation.resume(returning: results) }
    }
}

/// The per-message opaque handed to librdkafka: which batch and which position.
final class DeliveryTicket: Sendable {
    let collector: DeliveryCollector
    let index: Int
    init(collector: DeliveryCollector, index: Int) {
        self.collector = collector
        self.index = index
    }
}
