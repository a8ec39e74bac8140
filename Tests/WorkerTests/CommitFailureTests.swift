import Foundation
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore
import SQLiteStore
import Synchronization
import Testing

/// A real SQLite store whose commits can be made to fail (a database that went away).
final class FaultyStore: WorkflowStore {
    let inner: SQLiteWorkflowStore
    let failing = Mutex(false)
    let failedCommits = Mutex(0)

    init(_ inner: SQLiteWorkflowStore) { self.inner = inner }

    struct Unavailable: Error {}

    func migrate() async throws -> [Int] { try await inner.migrate() }
    func commit(_ commits: [WorkflowCommit]) async throws {
        if failing.withLock({ $0 }) {
            failedCommits.withLock { $0 += 1 }
            throw Unavailable()
        }
        try await inner.commit(commits)
    }
    func workflow(_ workflowId: String) async throws -> StoredWorkflow? { try await inner.workflow(workflowId) }
    func workflowId(forDecision decisionId: String) async throws -> String? {
        try await inner.workflowId(forDecision: decisionId)
    }
    func workflowExists(_ workflowId: String) async throws -> Bool { try await inner.workflowExists(workflowId) }
    func activeWorkflows() async throws -> [StoredWorkflow] { try await inner.activeWorkflows() }
    func listWorkflows(_ filter: WorkflowFilter) async throws -> [WorkflowSummary] {
        try await inner.listWorkflows(filter)
    }
    func workflowsWaiting(forPlan planId: String) async throws -> [String] {
        try await inner.workflowsWaiting(forPlan: planId)
    }
    func decision(ofWorkflow workflowId: String) async throws -> ConsolidatedDecision? {
        try await inner.decision(ofWorkflow: workflowId)
    }
    func history(_ workflowId: String, after: Int, limit: Int) async throws -> [HistoryEntry] {
        try await inner.history(workflowId, after: after, limit: limit)
    }
    func ticket(_ ticketId: String) async throws -> (workflowId: String, record: TicketRecord)? {
        try await inner.ticket(ticketId)
    }
    func tickets(planId: String, status: TicketStatus?, limit: Int, offset: Int) async throws -> [TicketRecord] {
        try await inner.tickets(planId: planId, status: status, limit: limit, offset: offset)
    }
    func savePlan(_ plan: CognitivePlan, receivedAt: EpochMillis) async throws -> Bool {
        try await inner.savePlan(plan, receivedAt: receivedAt)
    }
    func plan(_ planId: String) async throws -> CognitivePlan? { try await inner.plan(planId) }
    func timers() async throws -> [TimerSpec] { try await inner.timers() }
    func outbox(after: Int64, limit: Int) async throws -> [StoredOutboxMessage] {
        try await inner.outbox(after: after, limit: limit)
    }
    func acknowledgeOutbox(through sequence: Int64) async throws {
        try await inner.acknowledgeOutbox(through: sequence)
    }
    func outboxCount() async throws -> Int { try await inner.outboxCount() }
    func incidents(_ filter: IncidentFilter) async throws -> [OrchestrationIncident] {
        try await inner.incidents(filter)
    }
    func audits(_ workflowId: String) async throws -> [AuditRecord] { try await inner.audits(workflowId) }
    func saveWorker(_ worker: WorkerRecord) async throws { try await inner.saveWorker(worker) }
    func workers() async throws -> [WorkerRecord] { try await inner.workers() }
    func workflowCounts() async throws -> [WorkflowStatus: Int] { try await inner.workflowCounts() }
    func recentDurations(limit: Int) async throws -> [Int64] { try await inner.recentDurations(limit: limit) }
    func ping() async throws { try await inner.ping() }
    func schemaVersions() async throws -> SchemaVersions { try await inner.schemaVersions() }
    func sharedSecret(_ name: String, proposed: [UInt8]) async throws -> [UInt8] {
        try await inner.sharedSecret(name, proposed: proposed)
    }
    func saveDeadLetter(_ letter: DeadLetter) async throws -> Int64 { try await inner.saveDeadLetter(letter) }
    func deadLetters(_ filter: DeadLetterFilter) async throws -> [DeadLetter] { try await inner.deadLetters(filter) }
}

/// The pipelined group commit when the store refuses a commit: every caller of the failed batch
/// (and of the batch built on top of it) gets an error, memory is reloaded from the store, and
/// nothing half-done survives.
struct CommitFailureTests {
    @Test func aFailedCommitFailsItsCallersAndLeavesNothingBehind() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = FaultyStore(
            try SQLiteWorkflowStore(path: directory.appendingPathComponent("orchestrator.sqlite").path)
        )
        let engine = Engine(store: store, configuration: EngineConfiguration(), logger: testLogger("engine"))
        let running = Task { try await engine.run() }
        defer { running.cancel() }
        #expect(await eventually(timeout: .seconds(30)) { engine.isRunning })

        let first = makePlan(id: "plan-ok", tasks: [PlanTask(taskId: "a", taskType: "EXECUTE")])
        let kept = try #require(try await engine.submit(plan: first, start: true))
        #expect(kept.created)

        // The database goes away: many submissions at once, spread over several batches.
        store.failing.withLock { $0 = true }
        let plans = (0..<20).map {
            makePlan(id: "plan-lost-\($0)", tasks: [PlanTask(taskId: "a", taskType: "EXECUTE")])
        }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for plan in plans {
                group.addTask { (try? await engine.submit(plan: plan, start: true)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { !$0 }, "a submission was answered although its commit failed")
        #expect(store.failedCommits.withLock { $0 } >= 1)
        for plan in plans {
            #expect(try await store.inner.workflowExists("orch-" + plan.planId) == false)
        }

        // Back again: the first workflow is intact, and a lost submission goes through when retried.
        store.failing.withLock { $0 = false }
        let state = try #require(try await engine.workflow(kept.workflowId))
        #expect(state.status == .RUNNING)
        let retried = try #require(try await engine.submit(plan: plans[0], start: true))
        #expect(retried.created)
        let stored = try #require(try await store.inner.workflow(retried.workflowId))
        #expect(stored.version == 1)
        #expect(try await engine.workflow(retried.workflowId)?.status == .RUNNING)
    }
}
