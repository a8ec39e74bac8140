import OrchestratorCore

/// Released tickets waiting for a worker, in dispatch order: higher priority score first, then
/// earlier deadline, then ticket id.
///
/// Tickets are grouped by the capabilities they require (a plan has few distinct sets), each group
/// a binary heap. Taking a ticket looks at the head of every group the worker can serve, so its
/// cost grows with the number of groups and the logarithm of the queue, never with the queue
/// itself: a huge backlog that no worker can run does not slow the dispatch of anything else.
/// Removal is lazy: a removed ticket's heap slot is skipped when it reaches the head.
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

    /// A heap slot; valid while `live[entry.ticketId]` still names its serial.
    private struct Slot {
        var entry: Entry
        var serial: UInt64
    }

    private struct Group {
        var required: [String]
        var heap: [Slot] = []
        var live = 0
    }

    private struct Member {
        var serial: UInt64
        var group: Int
        var workflowId: String
    }

    private var groups: [Group] = []
    private var groupOf: [[String]: Int] = [:]
    private var live: [String: Member] = [:]
    private var byWorkflow: [String: Set<String>] = [:]
    private var nextSerial: UInt64 = 0

    var count: Int { live.count }
    var isEmpty: Bool { live.isEmpty }

    mutating func insert(_ entry: Entry) {
        guard live[entry.ticketId] == nil else { return }
        let g = group(for: entry.capabilities)
        nextSerial += 1
        live[entry.ticketId] = Member(serial: nextSerial, group: g, workflowId: entry.workflowId)
        byWorkflow[entry.workflowId, default: []].insert(entry.ticketId)
        groups[g].live += 1
        push(Slot(entry: entry, serial: nextSerial), into: g)
    }

    mutating func remove(_ ticketId: String) {
        guard let member = live.removeValue(forKey: ticketId) else { return }
        groups[member.group].live -= 1
        byWorkflow[member.workflowId]?.remove(ticketId)
        if byWorkflow[member.workflowId]?.isEmpty == true { byWorkflow.removeValue(forKey: member.workflowId) }
        compactIfSparse(member.group)
    }

    mutating func removeAll(workflowId: String) {
        guard let ids = byWorkflow[workflowId] else { return }
        for ticketId in ids { remove(ticketId) }
    }

    /// Whether a worker with `capabilities` could take a ticket now.
    func hasMatch(capabilities: [String]) -> Bool {
        let offered = Offered(capabilities)
        return groups.contains { $0.live > 0 && offered.serves($0.required) }
    }

    /// Takes the first ticket a worker with `capabilities` may run.
    mutating func take(capabilities: [String]) -> Entry? {
        let offered = Offered(capabilities)
        var best: Int?
        for g in groups.indices where groups[g].live > 0 && offered.serves(groups[g].required) {
            dropStaleHead(g)
            guard let head = groups[g].heap.first else { continue }
            if let b = best, !head.entry.precedes(groups[b].heap[0].entry) { continue }
            best = g
        }
        guard let g = best else { return nil }
        let entry = pop(g).entry
        remove(entry.ticketId)
        return entry
    }

    // MARK: - Groups and heaps

    /// A worker's capabilities, lower-cased once (``AllocationPolicy/matches(required:offered:)``).
    private struct Offered {
        let all: Bool
        let set: Set<String>
        init(_ capabilities: [String]) {
            set = Set(capabilities.map { $0.lowercased() })
            all = set.contains("*")
        }
        func serves(_ required: [String]) -> Bool {
            all || required.allSatisfy { set.contains($0.lowercased()) }
        }
    }

    private mutating func group(for required: [String]) -> Int {
        if let g = groupOf[required] { return g }
        groups.append(Group(required: required))
        groupOf[required] = groups.count - 1
        return groups.count - 1
    }

    private func isLive(_ slot: Slot) -> Bool { live[slot.entry.ticketId]?.serial == slot.serial }

    private mutating func dropStaleHead(_ g: Int) {
        while let head = groups[g].heap.first, !isLive(head) { _ = pop(g) }
    }

    /// Rebuilds a group's heap when most of its slots are stale.
    private mutating func compactIfSparse(_ g: Int) {
        guard groups[g].heap.count > 2 * groups[g].live + 1024 else { return }
        let slots = groups[g].heap.filter(isLive)
        groups[g].heap = []
        for slot in slots { push(slot, into: g) }
    }

    private mutating func push(_ slot: Slot, into g: Int) {
        groups[g].heap.append(slot)
        var child = groups[g].heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard groups[g].heap[child].entry.precedes(groups[g].heap[parent].entry) else { break }
            groups[g].heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop(_ g: Int) -> Slot {
        let top = groups[g].heap[0]
        let last = groups[g].heap.removeLast()
        guard !groups[g].heap.isEmpty else { return top }
        groups[g].heap[0] = last
        var parent = 0
        let count = groups[g].heap.count
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < count && groups[g].heap[left].entry.precedes(groups[g].heap[first].entry) { first = left }
            if right < count && groups[g].heap[right].entry.precedes(groups[g].heap[first].entry) { first = right }
            if first == parent { return top }
            groups[g].heap.swapAt(parent, first)
            parent = first
        }
    }
}
