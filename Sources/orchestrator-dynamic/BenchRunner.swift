import Foundation
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore

/// Runs the workload's measurements against live engines (several replicas: plans are submitted
/// round-robin), observing completions through the engines' live feeds of final telemetry frames.
struct BenchRunner {
    let engines: [Engine]
    var engine: Engine { engines[0] }
    let seed: UInt64
    let taskMs: Int
    let nonce = String(UUID().uuidString.prefix(6)).lowercased()

    /// A: many plans at once.
    func throughput(plans count: Int) async throws -> BenchReport.Throughput {
        let generated = (0..<count).map {
            BenchWorkload.generate(shape: .random, tasks: 10, seed: seed, batchIndex: $0)
        }
        let frames = subscribe()
        let start = SystemClock().nowMillis()
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for (index, plan) in generated.enumerated() { group.addTask { try await submit(plan, on: index) } }
            var ids: Set<String> = []
            for try await id in group { ids.insert(id) }
            return ids
        }
        let finished = try await waitForFrames(frames, workflowIds: ids)
        let end = finished.values.map(\.timestamp).max() ?? start
        let tickets = generated.reduce(0) { $0 + $1.risks.count }
        let seconds = Double(max(1, end - start)) / 1000
        return .init(
            plans: count,
            tickets: tickets,
            seconds: seconds,
            plansPerSecond: Double(count) / seconds,
            ticketsPerSecond: Double(tickets) / seconds,
            firstFingerprint: generated.first?.fingerprint ?? "",
            statuses: Dictionary(grouping: finished.values, by: \.status).mapValues(\.count)
        )
    }

    /// B: one 10-task chain at a time.
    func latency(runs: Int) async throws -> BenchReport.Latency {
        var completion: [Double] = []
        var dispatch: [Double] = []
        for k in 0..<runs {
            let plan = BenchWorkload.generate(shape: .chain, tasks: 10, seed: seed, batchIndex: k)
            let frames = subscribe()
            let start = SystemClock().nowMillis()
            let id = try await submit(plan)
            let frame = try await waitForFrames(frames, workflowIds: [id])[id]!
            completion.append(Double(frame.timestamp - start))
            dispatch.append(contentsOf: try await dispatchLatencies(id))
        }
        return .init(
            runs: runs,
            completionP50Ms: Self.percentile(completion, 50),
            completionP99Ms: Self.percentile(completion, 99),
            dispatchP50Ms: Self.percentile(dispatch, 50),
            dispatchP99Ms: Self.percentile(dispatch, 99),
            fingerprint: BenchWorkload.generate(shape: .chain, tasks: 10, seed: seed).fingerprint
        )
    }

    /// C: one large plan.
    func scale(shape: BenchWorkload.Shape, tasks: Int) async throws -> BenchReport.Scale {
        let plan = BenchWorkload.generate(shape: shape, tasks: tasks, seed: seed)
        let frames = subscribe()
        let start = SystemClock().nowMillis()
        let id = try await submit(plan, tag: "scale")
        let frame = try await waitForFrames(frames, workflowIds: [id])[id]!
        let dispatch = try await dispatchLatencies(id)
        return .init(
            shape: shape.rawValue,
            tasks: tasks,
            dependencies: plan.dependencyCount,
            longestChain: plan.longestChain,
            fingerprint: plan.fingerprint,
            totalMs: Double(frame.timestamp - start),
            status: frame.status,
            dispatchP50Ms: Self.percentile(dispatch, 50),
            dispatchP99Ms: Self.percentile(dispatch, 99)
        )
    }

    /// Every engine's live feed in one stream (with several replicas, whichever relays a message
    /// delivers it to its own feed).
    func subscribe() -> AsyncStream<StoredOutboxMessage> {
        let feeds = engines.map { $0.feed.subscribe(buffer: 100_000) }
        guard feeds.count > 1 else { return feeds[0] }
        let (stream, continuation) = AsyncStream.makeStream(of: StoredOutboxMessage.self)
        let tasks = feeds.map { feed in
            Task {
                for await message in feed { continuation.yield(message) }
            }
        }
        continuation.onTermination = { _ in
            for task in tasks { task.cancel() }
        }
        return stream
    }

    func submit(_ generated: BenchWorkload.Generated, tag: String = "", on index: Int = 0) async throws -> String {
        let plan = generated.plan(taskMillis: taskMs, createdAt: SystemClock().nowMillis())
        var decision = ConsolidatedDecision(
            decisionId: "bench-\(nonce)\(tag)-\(plan.planId)",
            planId: plan.planId,
            intentId: plan.intentId,
            finalDecision: .approve,
            plan: plan,
            createdAt: plan.createdAt
        )
        decision.correlationId = decision.decisionId
        let outcome = try await engines[index % engines.count].submit(decision: decision)
        return outcome.workflowId
    }

    /// Collects the final frames of the given workflows.
    func waitForFrames(
        _ stream: AsyncStream<StoredOutboxMessage>,
        workflowIds: Set<String>
    ) async throws
        -> [String: TelemetryFrame]
    {
        var found: [String: TelemetryFrame] = [:]
        for await message in stream where message.message.topic == .telemetryFrames {
            guard workflowIds.contains(message.message.key) else { continue }
            found[message.message.key] = try JSONDecoder().decode(
                TelemetryFrame.self,
                from: Data(message.message.payload.utf8)
            )
            if found.count == workflowIds.count { break }
        }
        return found
    }

    /// For each ticket with dependencies: its start minus the completion of its last dependency.
    func dispatchLatencies(_ workflowId: String) async throws -> [Double] {
        guard let stored = try await engine.store.workflow(workflowId) else { return [] }
        let tickets = stored.state.tickets
        var completed: [String: EpochMillis] = [:]
        for record in tickets { completed[record.ticketId] = record.ticket.completedAt }
        return tickets.compactMap { record in
            guard !record.ticket.dependencies.isEmpty, let started = record.ticket.startedAt else { return nil }
            let ready = record.ticket.dependencies.compactMap { completed[$0] }.max() ?? started
            return Double(started - ready)
        }
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
        return sorted[min(sorted.count - 1, max(0, rank))]
    }
}
