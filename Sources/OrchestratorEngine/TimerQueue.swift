import OrchestratorCore

/// Pending durable timers in memory (a mirror of the store's timers table), by fire time.
struct TimerQueue {
    private var current: [String: TimerSpec] = [:]
    private var heap: [(fireAt: EpochMillis, key: String)] = []

    var count: Int { current.count }

    mutating func schedule(_ spec: TimerSpec) {
        current[spec.key] = spec
        push((spec.fireAt, spec.key))
        if heap.count > 2 * current.count + 4096 { compact() }
    }

    /// Drops heap entries of cancelled or replaced timers.
    private mutating func compact() {
        heap = []
        for spec in current.values { push((spec.fireAt, spec.key)) }
    }

    mutating func cancel(_ key: String) {
        current.removeValue(forKey: key)
    }

    mutating func apply(_ change: TimerChange) {
        switch change {
        case .schedule(let spec): schedule(spec)
        case .cancel(let key): cancel(key)
        }
    }

    mutating func removeAll(workflowId: String) {
        current = current.filter { $0.value.workflowId != workflowId }
    }

    /// Removes and returns the timers due at `now`.
    mutating func due(at now: EpochMillis, limit: Int) -> [TimerSpec] {
        var fired: [TimerSpec] = []
        while fired.count < limit, let top = heap.first, top.fireAt <= now {
            pop()
            guard let spec = current[top.key], spec.fireAt == top.fireAt else { continue }
            current.removeValue(forKey: top.key)
            fired.append(spec)
        }
        return fired
    }

    private mutating func push(_ item: (fireAt: EpochMillis, key: String)) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].fireAt < heap[parent].fireAt else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].fireAt < heap[smallest].fireAt { smallest = left }
            if right < heap.count && heap[right].fireAt < heap[smallest].fireAt { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
