import OrchestratorCore

/// Pending durable timers in memory (a mirror of the store's timers table), by fire time, with
/// each workflow's keys so that dropping a workflow costs its own timers only.
struct TimerQueue {
    private var current: [String: TimerSpec] = [:]
    private var heap: [(fireAt: EpochMillis, key: String)] = []
    private var byWorkflow: [String: Set<String>] = [:]

    var count: Int { current.count }
    /// Pending lease-expiry timers: one per live lease.
    private(set) var leases = 0

    mutating func schedule(_ spec: TimerSpec) {
        if current.updateValue(spec, forKey: spec.key) == nil && spec.kind == .leaseExpiry { leases += 1 }
        byWorkflow[spec.workflowId, default: []].insert(spec.key)
        push((spec.fireAt, spec.key))
        if heap.count > 2 * current.count + 4096 { compact() }
    }

    /// Drops heap entries of cancelled or replaced timers.
    private mutating func compact() {
        heap = []
        for spec in current.values { push((spec.fireAt, spec.key)) }
    }

    mutating func cancel(_ key: String) {
        guard let spec = current.removeValue(forKey: key) else { return }
        forget(spec)
    }

    private mutating func forget(_ spec: TimerSpec) {
        if spec.kind == .leaseExpiry { leases -= 1 }
        byWorkflow[spec.workflowId]?.remove(spec.key)
        if byWorkflow[spec.workflowId]?.isEmpty == true { byWorkflow.removeValue(forKey: spec.workflowId) }
    }

    mutating func apply(_ change: TimerChange) {
        switch change {
        case .schedule(let spec): schedule(spec)
        case .cancel(let key): cancel(key)
        }
    }

    mutating func removeAll(workflowId: String) {
        guard let keys = byWorkflow.removeValue(forKey: workflowId) else { return }
        for key in keys {
            if current.removeValue(forKey: key)?.kind == .leaseExpiry { leases -= 1 }
        }
        if heap.count > 2 * current.count + 4096 { compact() }
    }

    /// Removes and returns the timers due at `now`.
    mutating func due(at now: EpochMillis, limit: Int) -> [TimerSpec] {
        var fired: [TimerSpec] = []
        while fired.count < limit, let top = heap.first, top.fireAt <= now {
            pop()
            guard let spec = current[top.key], spec.fireAt == top.fireAt else { continue }
            current.removeValue(forKey: top.key)
            forget(spec)
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
