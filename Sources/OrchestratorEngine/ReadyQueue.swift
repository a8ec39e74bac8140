import OrchestratorCore

/// Released tickets waiting for a worker, in dispatch order: higher priority score first, then
/// earlier deadline, then ticket id.
struct ReadyQueue {
    struct Entry {
        var ticketId: String
        var workflowId: String
        var score: Double
        var deadline: EpochMillis
        var capabilities: [String]

        func precedes(_ other: Entry) -> Bool {
            if score != other.score { return score > other.score }
            if deadline != other.deadline { return deadline < other.deadline }
            return ticketId < other.ticketId
        }
    }

    private(set) var entries: [Entry] = []
    private var members: Set<String> = []

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    mutating func insert(_ entry: Entry) {
        guard members.insert(entry.ticketId).inserted else { return }
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].precedes(entry) { low = mid + 1 } else { high = mid }
        }
        entries.insert(entry, at: low)
    }

    mutating func remove(_ ticketId: String) {
        guard members.remove(ticketId) != nil else { return }
        if let i = entries.firstIndex(where: { $0.ticketId == ticketId }) { entries.remove(at: i) }
    }

    mutating func removeAll(workflowId: String) {
        for entry in entries where entry.workflowId == workflowId { members.remove(entry.ticketId) }
        entries.removeAll { $0.workflowId == workflowId }
    }

    /// Takes the first ticket a worker with `capabilities` may run.
    mutating func take(capabilities: [String]) -> Entry? {
        guard
            let i = entries.firstIndex(where: {
                AllocationPolicy.matches(required: $0.capabilities, offered: capabilities)
            })
        else { return nil }
        let entry = entries.remove(at: i)
        members.remove(entry.ticketId)
        return entry
    }
}
