import OrchestratorCore
import OrchestratorStore

/// Everything a store holds about some workflows, to check that a failed commit wrote nothing.
struct StoreSnapshot: Equatable {
    var states: [WorkflowState?]
    var versions: [Int64?]
    var histories: [[HistoryEntry]]
    var audits: [[AuditRecord]]
    var outbox: [StoredOutboxMessage]
    var timers: [TimerSpec]
    var incidents: [OrchestrationIncident]
    var counts: [WorkflowStatus: Int]

    init(of store: any WorkflowStore, workflows: [String]) async throws {
        states = []
        versions = []
        histories = []
        audits = []
        for id in workflows {
            let stored = try await store.workflow(id)
            states.append(stored?.state)
            versions.append(stored?.version)
            histories.append(try await store.history(id, after: 0, limit: 1_000))
            audits.append(try await store.audits(id))
        }
        outbox = try await store.outbox(after: 0, limit: 10_000)
        timers = try await store.timers()
        incidents = try await store.incidents(IncidentFilter(limit: 10_000))
        counts = try await store.workflowCounts()
    }
}
