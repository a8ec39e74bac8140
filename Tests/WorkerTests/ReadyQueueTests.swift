import OrchestratorCore
import Testing

@testable import OrchestratorEngine

/// The dispatch index: order, capability groups, lazy removal.
@Suite struct ReadyQueueTests {
    func entry(
        _ id: String,
        score: Double = 0.5,
        deadline: EpochMillis = 1000,
        caps: [String] = [],
        workflow: String = "w"
    )
        -> ReadyQueue.Entry
    {
        ReadyQueue.Entry(ticketId: id, workflowId: workflow, score: score, deadline: deadline, capabilities: caps)
    }

    @Test func takesByScoreThenDeadlineThenId() {
        var queue = ReadyQueue()
        queue.insert(entry("c", score: 0.5, deadline: 10))
        queue.insert(entry("a", score: 0.9, deadline: 99))
        queue.insert(entry("b", score: 0.5, deadline: 5))
        queue.insert(entry("d", score: 0.5, deadline: 10))
        var order: [String] = []
        while let next = queue.take(capabilities: []) { order.append(next.ticketId) }
        #expect(order == ["a", "b", "c", "d"])
        #expect(queue.isEmpty)
    }

    @Test func aWorkerOnlyGetsWhatItsCapabilitiesServeAndTheBestOfThose() {
        var queue = ReadyQueue()
        queue.insert(entry("gpu-high", score: 0.9, caps: ["GPU"]))
        queue.insert(entry("any-low", score: 0.1))
        queue.insert(entry("nobody", score: 1.0, caps: ["nobody"]))
        #expect(queue.hasMatch(capabilities: ["cpu"]))
        #expect(queue.take(capabilities: ["cpu"])?.ticketId == "any-low")
        #expect(!queue.hasMatch(capabilities: ["cpu"]))
        #expect(queue.take(capabilities: ["cpu"]) == nil)
        #expect(queue.take(capabilities: ["gpu"])?.ticketId == "gpu-high")
        #expect(queue.take(capabilities: ["*"])?.ticketId == "nobody")
        #expect(queue.count == 0)
    }

    @Test func removedTicketsAreNeverTakenAndMayComeBack() {
        var queue = ReadyQueue()
        queue.insert(entry("x", score: 0.9))
        queue.insert(entry("y", score: 0.5))
        queue.remove("x")
        #expect(queue.count == 1)
        #expect(queue.take(capabilities: [])?.ticketId == "y")
        #expect(queue.take(capabilities: []) == nil)
        // Released again (a retry): the stale slot of the first insertion is not taken twice.
        queue.insert(entry("x", score: 0.9))
        queue.insert(entry("x", score: 0.9))
        #expect(queue.count == 1)
        #expect(queue.take(capabilities: [])?.ticketId == "x")
        #expect(queue.take(capabilities: []) == nil)
    }

    @Test func removingAWorkflowRemovesOnlyItsTickets() {
        var queue = ReadyQueue()
        for i in 0..<5 { queue.insert(entry("a\(i)", workflow: "a")) }
        queue.insert(entry("b0", workflow: "b"))
        queue.removeAll(workflowId: "a")
        #expect(queue.count == 1)
        #expect(queue.take(capabilities: [])?.ticketId == "b0")
    }

    @Test func manyRemovalsKeepTheOrder() {
        var queue = ReadyQueue()
        for i in 0..<5000 { queue.insert(entry(String(format: "t%05d", i), score: Double(i % 7))) }
        for i in stride(from: 0, to: 5000, by: 2) { queue.remove(String(format: "t%05d", i)) }
        var taken: [ReadyQueue.Entry] = []
        while let next = queue.take(capabilities: []) { taken.append(next) }
        #expect(taken.count == 2500)
        #expect(zip(taken, taken.dropFirst()).allSatisfy { $0.0.precedes($0.1) })
    }
}
