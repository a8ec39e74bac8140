/// A plan's tasks as an index-based DAG: task `i` is `plan.tasks[i]`; edges point from a
/// dependency to its dependent. Built in O(tasks + edges).
public struct TaskGraph: Sendable {
    /// Task ids by index.
    public let ids: [String]
    /// Index of each task id (the first occurrence when ids repeat).
    public let index: [String: Int]
    /// For each task, the indices of the tasks it depends on (known, de-duplicated, no self-edges).
    public let predecessors: [[Int]]
    /// For each task, the indices of the tasks that depend on it.
    public let successors: [[Int]]

    public var count: Int { ids.count }

    /// Builds the graph, keeping only the edges that can exist (unknown, repeated and self
    /// dependencies are left out; validation reports them).
    public init(tasks: [PlanTask]) {
        var index: [String: Int] = [:]
        index.reserveCapacity(tasks.count)
        for (i, task) in tasks.enumerated() where index[task.taskId] == nil {
            index[task.taskId] = i
        }
        var predecessors = [[Int]](repeating: [], count: tasks.count)
        var successors = [[Int]](repeating: [], count: tasks.count)
        for (i, task) in tasks.enumerated() {
            guard index[task.taskId] == i else { continue }
            var seen = Set<Int>()
            for dependency in task.dependencies {
                guard let j = index[dependency], j != i, seen.insert(j).inserted else { continue }
                predecessors[i].append(j)
                successors[j].append(i)
            }
        }
        self.ids = tasks.map(\.taskId)
        self.index = index
        self.predecessors = predecessors
        self.successors = successors
    }

    /// Kahn's algorithm. Returns the order (a permutation of indices) when the graph is acyclic;
    /// otherwise `nil` and the tasks left over, every one of which is on or behind a cycle.
    /// Ties are broken by the tasks' position in the plan, so the order is deterministic.
    public func topologicalOrder() -> (order: [Int]?, leftover: [Int]) {
        var indegree = predecessors.map(\.count)
        var ready: [Int] = []
        ready.reserveCapacity(count)
        for i in 0..<count where indegree[i] == 0 { ready.append(i) }
        // A min-heap keeps "lowest plan position first" among ready tasks.
        var heap = MinHeap(ready)
        var order: [Int] = []
        order.reserveCapacity(count)
        while let i = heap.pop() {
            order.append(i)
            for s in successors[i] {
                indegree[s] -= 1
                if indegree[s] == 0 { heap.push(s) }
            }
        }
        if order.count == count { return (order, []) }
        var placed = [Bool](repeating: false, count: count)
        for i in order { placed[i] = true }
        let leftover = (0..<count).filter { !placed[$0] }
        return (nil, leftover)
    }

    /// Finds cycles among `candidates` (iterative DFS, O(tasks + edges)); each cycle is returned as
    /// task indices in dependency order with the first index repeated at the end.
    public func cycles(among candidates: [Int], limit: Int) -> [[Int]] {
        enum Mark: UInt8 { case unvisited, onStack, done }
        var mark = [Mark](repeating: .unvisited, count: count)
        var found: [[Int]] = []
        var stack: [(node: Int, next: Int)] = []
        var position = [Int](repeating: -1, count: count)
        for start in candidates where mark[start] == .unvisited {
            stack.append((start, 0))
            mark[start] = .onStack
            position[start] = 0
            while let top = stack.last {
                let edges = successors[top.node]
                if top.next < edges.count {
                    stack[stack.count - 1].next += 1
                    let s = edges[top.next]
                    switch mark[s] {
                    case .unvisited:
                        mark[s] = .onStack
                        position[s] = stack.count
                        stack.append((s, 0))
                    case .onStack:
                        if found.count < limit {
                            found.append(stack[position[s]...].map(\.node) + [s])
                        }
                    case .done:
                        break
                    }
                } else {
                    mark[top.node] = .done
                    stack.removeLast()
                }
            }
            if found.count >= limit { break }
        }
        return found
    }

    /// For each task in `order`, the largest sum of `weight` over any path ending at it
    /// (itself included). `order` must be topological.
    public func longestPathSums(order: [Int], weight: (Int) -> Int64) -> [Int64] {
        var sums = [Int64](repeating: 0, count: count)
        for i in order {
            var best: Int64 = 0
            for p in predecessors[i] where sums[p] > best { best = sums[p] }
            sums[i] = best + weight(i)
        }
        return sums
    }
}

/// A binary min-heap of Ints.
struct MinHeap {
    private var items: [Int]

    init(_ items: [Int]) {
        self.items = items
        guard items.count > 1 else { return }
        for i in stride(from: items.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown(0)
        }
        return first
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
