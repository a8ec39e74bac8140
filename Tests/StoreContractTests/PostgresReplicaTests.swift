import Foundation
import OrchestratorCore
import OrchestratorStore
import PostgresNIO
import PostgresStore
import Synchronization
import Testing

/// Several replicas on one database (``SharedWorkflowStore``): each store instance here is one
/// replica, with its own pool and replica id, on one fresh schema.
@Suite struct PostgresReplicaTests {
    /// Long enough that a replica which renewed its heartbeat right before a step stays alive
    /// through it on a loaded machine; the expiry of a replica that stopped is awaited as a
    /// condition (``waitUntilExpired(_:seenBy:)``).
    static let shortTtlMs: Int64 = 2000

    @Test func aWorkflowIsCommittedOnlyByItsOwner() async throws {
        try await withReplicas(["a", "b"]) { replicas in
            let (a, b) = (replicas[0], replicas[1])
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            try await a.commit([accepted])
            let leased = try flow.lease("fetch", at: startTime + 10)
            // b is alive and does not own wf-1: its commit is fenced off, and it cannot claim it.
            await #expect(throws: StoreError.notOwner(workflowId: "wf-1", owner: "a")) { try await b.commit([leased]) }
            guard case .ownedBy("a") = try await b.claim("wf-1") else {
                Issue.record("b claimed a workflow its live owner runs")
                return
            }
            #expect(try await b.claimOrphans(limit: 10).isEmpty)
            try await a.commit([leased])
            #expect(try await a.ownedWorkflowIds() == ["wf-1"])
            #expect(try await b.ownedWorkflowIds().isEmpty)
        }
    }

    @Test func theWorkflowsOfADeadReplicaAreTakenOverWithTheirTimers() async throws {
        try await withReplicas(["a", "b"], ttlMs: Self.shortTtlMs) { replicas in
            let (a, b) = (replicas[0], replicas[1])
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            try await a.commit([accepted])
            let leased = try flow.lease("fetch", at: startTime + 10)
            try await a.commit([leased])
            #expect(!leased.timers.isEmpty)
            // a stops heartbeating (dies); b, silent as long, finds its own heartbeat expired too.
            try await waitUntilExpired("a", seenBy: b)
            try await waitUntilExpired("b", seenBy: b)
            #expect(try await b.heartbeat() == .expired)
            let claimed = try await b.claimOrphans(limit: 10)
            #expect(claimed.map(\.workflow.state.workflowId) == ["wf-1"])
            #expect(claimed.first?.workflow.version == 2)
            #expect(claimed.first?.workflow.state == flow.state)
            #expect(claimed.first?.timers.count == (try await b.timers().count))
            #expect(claimed.first?.timers.isEmpty == false)
            // a comes back: its heartbeat tells it that it had expired, and its commits are refused.
            #expect(try await a.heartbeat() == .expired)
            let completed = try flow.complete("fetch", at: startTime + 20)
            await #expect(throws: StoreError.notOwner(workflowId: "wf-1", owner: "b")) {
                try await a.commit([completed])
            }
            #expect(try await a.ownedWorkflowIds().isEmpty)
            try await b.commit([completed])
            #expect(try await b.workflow("wf-1")?.version == 3)
        }
    }

    @Test func concurrentClaimersTakeDisjointSets() async throws {
        // Only a expires: b and c stay alive however slow the machine is, so neither can take the
        // other's claims as orphans (seen in CI with a shared short TTL: the test took 43 s).
        try await withReplicas(["a", "b", "c"], ttlMs: Self.shortTtlMs, longLived: ["b", "c"]) { replicas in
            let (a, b, c) = (replicas[0], replicas[1], replicas[2])
            let commits = try (0..<60).map { try Flow.started("wf-\($0)", plan: "plan-\($0)").1 }
            try await a.commit(commits)
            try await waitUntilExpired("a", seenBy: b)
            _ = try await b.heartbeat()
            _ = try await c.heartbeat()
            async let fromB = claimAll(b)
            async let fromC = claimAll(c)
            let (byB, byC) = try await (fromB, fromC)
            #expect(byB.isDisjoint(with: byC))
            #expect(byB.union(byC) == Set((0..<60).map { "wf-\($0)" }))
            #expect(try await b.ownedWorkflowIds() == byB)
            #expect(try await c.ownedWorkflowIds() == byC)
        }
    }

    @Test func releasedWorkflowsAreClaimedAtOnce() async throws {
        try await withReplicas(["a", "b"]) { replicas in
            let (a, b) = (replicas[0], replicas[1])
            try await a.commit([try Flow.started("wf-1", plan: "plan-1").1])
            let notifications = b.notifications()
            try await a.releaseAll()
            var iterator = notifications.makeAsyncIterator()
            // The listener may connect after the release: then it reports a resync, not the release.
            let first = await iterator.next()
            #expect(first == .released || first == .resync, "\(String(describing: first))")
            #expect(try await b.claimOrphans(limit: 10).map(\.workflow.state.workflowId) == ["wf-1"])
            #expect(try await b.replicas().map(\.replicaId) == ["b"])
        }
    }

    @Test func aReplicaIdIsHeldByOneLiveProcess() async throws {
        try await withReplicas(["a"], ttlMs: Self.shortTtlMs) { replicas in
            let a = replicas[0]
            try await a.commit([try Flow.started("wf-1", plan: "plan-1").1])
            var configuration = a.configuration
            configuration.applicationName += "-second"
            let second = try await TestPostgres.stores.open(configuration)
            defer { Task { await TestPostgres.stores.close(second) } }
            // While a is alive, a second process with its id cannot register.
            await #expect(throws: PostgresStoreError.self) { _ = try await second.heartbeat() }
            // After a's heartbeat expired it can, and it takes a's workflows; a learns it was replaced.
            try await waitUntilExpired("a", seenBy: a)
            #expect(try await second.heartbeat() == .renewed)
            #expect(try await second.claimOrphans(limit: 10).count == 1)
            #expect(try await a.heartbeat() == .replaced)
        }
    }

    @Test func oneRelayAtATimeDeliversEachMessageOnce() async throws {
        try await withReplicas(["a", "b"]) { replicas in
            let (a, b) = (replicas[0], replicas[1])
            let commits = try (0..<40).map { try Flow.started("wf-\($0)", plan: "plan-\($0)").1 }
            try await a.commit(commits)
            let total = try await a.outboxCount()
            #expect(total > 40)
            let delivered = Delivered()
            async let fromA: Void = drain(a, into: delivered)
            async let fromB: Void = drain(b, into: delivered)
            _ = try await (fromA, fromB)
            let sequences = delivered.sequences.withLock { $0 }
            #expect(sequences.count == total)
            #expect(Set(sequences).count == total)
            #expect(sequences == sequences.sorted(), "one relay at a time, oldest first")
            #expect(try await a.outboxCount() == 0)
        }
    }
}

/// Sequences delivered by the relays of a test.
private final class Delivered: Sendable {
    let sequences = Mutex<[Int64]>([])
}

/// Relays until the outbox is empty, retrying while the other replica holds the relay lock.
private func drain(_ store: PostgresWorkflowStore, into delivered: Delivered) async throws {
    while true {
        let moved = try await store.relayOutbox(limit: 7) { batch in
            try await Task.sleep(for: .milliseconds(5))
            delivered.sequences.withLock { $0 += batch.map(\.sequence) }
        }
        guard let moved else {
            try await Task.sleep(for: .milliseconds(2))
            continue
        }
        if moved == 0 { return }
    }
}

/// Claims orphans until there are none left; returns the ids claimed.
/// Claims orphans until none is left, heartbeating between rounds: with the short TTL, a claimer
/// that stopped heartbeating would itself expire on a loaded machine, and the two claimers would
/// then take each other's workflows forever (seen: a livelock of the whole suite).
private func claimAll(_ store: PostgresWorkflowStore) async throws -> Set<String> {
    var ids: Set<String> = []
    for _ in 0..<200 {
        _ = try await store.heartbeat()
        let claimed = try await store.claimOrphans(limit: 7)
        if claimed.isEmpty { return ids }
        ids.formUnion(claimed.map(\.workflow.state.workflowId))
    }
    Issue.record("orphans were still being claimed after 200 rounds")
    return ids
}

/// Waits (polling, at most 30 s) until `store` no longer sees replica `id` as alive: a condition,
/// not a fixed sleep, so that a loaded machine cannot make the expiry come "too late".
private func waitUntilExpired(_ id: String, seenBy store: PostgresWorkflowStore) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if try await store.replicas().first(where: { $0.replicaId == id })?.alive != true { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("replica \(id) still alive after 30 s")
}

private let longTtlMs: Int64 = 600_000

/// Runs `body` with one registered store per replica id on one fresh, migrated schema.
///
/// The default TTL is long (10 minutes): the tests that rely on a replica staying alive never
/// heartbeat, and on a loaded machine one such test was seen to take 45 s, so a 10 s ownership
/// expired under it ("b claimed a workflow its live owner runs"). Tests of expiry pass a short one;
/// the replicas in `longLived` keep the long one (the TTL is per replica row).
private func withReplicas(
    _ ids: [String],
    ttlMs: Int64 = longTtlMs,
    longLived: Set<String> = [],
    _ body: ([PostgresWorkflowStore]) async throws -> Void
) async throws {
    var base = try TestPostgres.freshSchema()
    base.ownershipTtlMs = ttlMs
    var stores: [PostgresWorkflowStore] = []
    func closeAll() async {
        for store in stores { await TestPostgres.stores.close(store) }
        await TestPostgres.dropSchema(base)
    }
    do {
        for id in ids {
            var configuration = base
            configuration.replicaId = id
            if longLived.contains(id) { configuration.ownershipTtlMs = longTtlMs }
            configuration.applicationName = base.applicationName + "-" + id
            let store = try await TestPostgres.stores.open(configuration)
            stores.append(store)
            _ = try await store.migrate()
            #expect(try await store.heartbeat() == .renewed)
        }
        try await body(stores)
    } catch {
        await closeAll()
        throw error
    }
    await closeAll()
}
