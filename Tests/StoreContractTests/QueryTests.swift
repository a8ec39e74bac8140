import OrchestratorCore
import OrchestratorStore
import Testing

/// The read side: plan ledger, listings with filters and paging, counts, workers.
@Suite struct QueryTests {
    @Test(arguments: StoreContract.all)
    func planLedgerTellsNewFromUpdated(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let plan = samplePlan("plan-1")
            let isNew = try await store.savePlan(plan, receivedAt: startTime)
            #expect(isNew)
            #expect(try await store.plan("plan-1") == plan)

            var revised = plan
            revised.riskScore = 0.9
            revised.tasks.removeLast()
            revised.executionOrder = revised.tasks.map(\.taskId)
            #expect(try await !store.savePlan(revised, receivedAt: startTime + 1))
            #expect(try await store.plan("plan-1") == revised)
            #expect(try await store.plan("plan-unknown") == nil)
            #expect(try await store.savePlan(samplePlan("plan-2"), receivedAt: startTime + 2))
        }
    }

    @Test(arguments: StoreContract.all)
    func workflowsWaitingForAPlan(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (a, aCommit) = try Flow.started("wf-a", plan: "plan-x", embed: false)
            let (_, bCommit) = try Flow.started("wf-b", plan: "plan-x", embed: false, at: startTime + 1)
            let (_, cCommit) = try Flow.started("wf-c", plan: "plan-y", embed: false)
            let (_, dCommit) = try Flow.started("wf-d", plan: "plan-x", decision: "decision-d2")
            try await store.commit([aCommit, bCommit, cCommit, dCommit])
            #expect(try await store.workflowsWaiting(forPlan: "plan-x").sorted() == ["wf-a", "wf-b"])
            #expect(try await store.workflowsWaiting(forPlan: "plan-y") == ["wf-c"])
            #expect(try await store.workflowsWaiting(forPlan: "plan-z").isEmpty)

            let attached = try a.step(.planAttached(samplePlan("plan-x")), at: startTime + 10)
            #expect(a.state.status == .RUNNING)
            try await store.commit([attached])
            #expect(try await store.workflowsWaiting(forPlan: "plan-x") == ["wf-b"])
            #expect(try await store.workflow("wf-a")?.state == a.state)
        }
    }

    @Test(arguments: StoreContract.all)
    func incidentsAreFilteredOldestFirst(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let i1 = incident("i1", "wf-1", .SLA_VIOLATION, at: 1)
            let i2 = incident("i2", "wf-2", .WORKER_FAILURE, at: 2)
            let i3 = incident("i3", "wf-1", .WORKER_FAILURE, at: 3)
            let i4 = incident("i4", "wf-1", .SLA_VIOLATION, at: 4)
            var (one, oneCommit) = try Flow.started("wf-1", plan: "plan-1")
            var (_, twoCommit) = try Flow.started("wf-2", plan: "plan-2")
            oneCommit.incidents = [i3, i1]
            twoCommit.incidents = [i2]
            try await store.commit([oneCommit, twoCommit])
            var next = try one.lease("fetch", at: startTime + 10)
            next.incidents = [i4, i1]  // i1 again: incidents are kept once by id
            try await store.commit([next])

            #expect(try await store.incidents(IncidentFilter()) == [i1, i2, i3, i4])
            #expect(try await store.incidents(IncidentFilter(workflowId: "wf-1")) == [i1, i3, i4])
            #expect(try await store.incidents(IncidentFilter(type: .SLA_VIOLATION)) == [i1, i4])
            #expect(try await store.incidents(IncidentFilter(workflowId: "wf-1", type: .WORKER_FAILURE)) == [i3])
            #expect(try await store.incidents(IncidentFilter(workflowId: "wf-1", limit: 2, offset: 1)) == [i3, i4])
            #expect(try await store.incidents(IncidentFilter(workflowId: "wf-3")).isEmpty)
        }
    }

    @Test(arguments: StoreContract.all)
    func ticketsOfAPlanByStatusAndPage(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            let (_, other) = try Flow.started("wf-2", plan: "plan-2")
            try await store.commit([accepted, other])
            try await store.commit([try flow.lease("fetch", at: startTime + 10)])
            try await store.commit([try flow.complete("fetch", at: startTime + 20)])
            try await store.commit([try flow.lease("report", at: startTime + 30)])
            let tickets = flow.state.tickets
            #expect(tickets.map(\.ticket.status) == [.COMPLETED, .PENDING, .RUNNING, .PENDING])

            #expect(try await store.tickets(planId: "plan-1", status: nil, limit: 10, offset: 0) == tickets)
            #expect(
                try await store.tickets(planId: "plan-1", status: .PENDING, limit: 10, offset: 0) == [
                    tickets[1], tickets[3],
                ]
            )
            #expect(try await store.tickets(planId: "plan-1", status: .RUNNING, limit: 10, offset: 0) == [tickets[2]])
            #expect(try await store.tickets(planId: "plan-1", status: .FAILED, limit: 10, offset: 0).isEmpty)
            #expect(
                try await store.tickets(planId: "plan-1", status: nil, limit: 2, offset: 1) == Array(tickets[1...2])
            )
            #expect(try await store.tickets(planId: "plan-1", status: .PENDING, limit: 1, offset: 1) == [tickets[3]])
            #expect(try await store.tickets(planId: "plan-unknown", status: nil, limit: 10, offset: 0).isEmpty)
        }
    }

    @Test(arguments: StoreContract.all)
    func listWorkflowsFiltersNewestFirst(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let flows = try await commitMixedWorkflows(store)
            func ids(_ filter: WorkflowFilter) async throws -> [String] {
                try await store.listWorkflows(filter).map(\.workflowId)
            }
            // Newest first; the tie between wf-c and wf-d is broken by workflow id.
            let all = try await store.listWorkflows(WorkflowFilter())
            #expect(all.map(\.workflowId) == ["wf-c", "wf-d", "wf-b", "wf-a"])
            #expect(all == ["wf-c", "wf-d", "wf-b", "wf-a"].map { WorkflowSummary(flows[$0]!.state) })
            #expect(all[0].status == .REJECTED && all[0].completedAt != nil && all[0].riskBand == nil)
            #expect(all[1].riskBand == .medium && all[1].ticketCount == 4)
            #expect(try await ids(WorkflowFilter(status: .RUNNING)) == ["wf-d", "wf-a"])
            #expect(try await ids(WorkflowFilter(planId: "plan-1")) == ["wf-c", "wf-a"])
            #expect(try await ids(WorkflowFilter(decisionId: flows["wf-b"]!.decision.decisionId)) == ["wf-b"])
            #expect(try await ids(WorkflowFilter(status: .RUNNING, planId: "plan-1")) == ["wf-a"])
            #expect(try await ids(WorkflowFilter(limit: 2, offset: 1)) == ["wf-d", "wf-b"])
            #expect(try await ids(WorkflowFilter(status: .FAILED)).isEmpty)
        }
    }

    @Test(arguments: StoreContract.all)
    func countsAndDurations(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            _ = try await commitMixedWorkflows(store)
            var (done, accepted) = try Flow.started("wf-e", plan: "plan-5")
            try await store.commit([accepted])
            var time = startTime
            for task in ["fetch", "build", "report", "test"] {
                time += 1_000
                try await store.commit([try done.lease(task, at: time)])
                time += 250
                try await store.commit([try done.complete(task, at: time)])
            }
            #expect(done.state.status == .COMPLETED)
            #expect(try await store.workflow("wf-e")?.state == done.state)

            let counts = try await store.workflowCounts()
            let expected: [WorkflowStatus: Int] = [.RUNNING: 2, .WAITING_FOR_PLAN: 1, .REJECTED: 1, .COMPLETED: 1]
            for status in WorkflowStatus.allCases {
                #expect(counts[status, default: 0] == expected[status, default: 0], "\(status)")
            }
            // wf-e finished last (5 000 ms after it started); wf-c was rejected on arrival.
            #expect(try await store.recentDurations(limit: 10) == [5_000, 0])
            #expect(try await store.recentDurations(limit: 1) == [5_000])
            #expect(try await !store.activeWorkflows().contains { $0.state.workflowId == "wf-e" })
        }
    }

    @Test(arguments: StoreContract.all)
    func workersAreKeptById(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let w2 = WorkerRecord(workerId: "w2", capabilities: ["build"], registeredAt: 1, lastSeenAt: 1)
            var w1 = WorkerRecord(
                workerId: "w1",
                capabilities: ["test"],
                labels: ["zone": "a"],
                registeredAt: 2,
                lastSeenAt: 2
            )
            try await store.saveWorker(w2)
            try await store.saveWorker(w1)
            w1.lastSeenAt = 10
            w1.capabilities.append("deploy")
            try await store.saveWorker(w1)
            #expect(try await store.workers().sorted { $0.workerId < $1.workerId } == [w1, w2])
            try await store.ping()
        }
    }

    /// A migrated store reports the newest version it recorded, equal to the newest its build knows.
    @Test(arguments: StoreContract.all)
    func aMigratedStoreReportsItsSchemaAsCurrent(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let versions = try await store.schemaVersions()
            #expect(versions.build >= 4)
            #expect(versions.database == versions.build)
        }
    }
}

/// An incident of the given kind.
private func incident(
    _ id: String,
    _ workflowId: String,
    _ type: IncidentType,
    at offset: EpochMillis
)
    -> OrchestrationIncident
{
    OrchestrationIncident(
        incidentId: id,
        workflowId: workflowId,
        incidentType: type,
        severity: "WARNING",
        details: ["detail of \(id)"],
        affectedTickets: ["ticket-\(id)"],
        correlationId: "correlation",
        traceId: "trace",
        createdAt: startTime + offset
    )
}

/// Commits wf-a (plan-1, running), wf-b (plan-2, waiting for its plan, 1 s later), wf-c (plan-1,
/// rejected, 2 s later) and wf-d (plan-3, running, 2 s later).
private func commitMixedWorkflows(_ store: any WorkflowStore) async throws -> [String: Flow] {
    let (a, aCommit) = try Flow.started("wf-a", plan: "plan-1")
    let (b, bCommit) = try Flow.started("wf-b", plan: "plan-2", embed: false, at: startTime + 1_000)
    let (c, cCommit) = try Flow.started("wf-c", plan: "plan-1", type: .reject, at: startTime + 2_000)
    let (d, dCommit) = try Flow.started("wf-d", plan: "plan-3", at: startTime + 2_000)
    try await store.commit([dCommit, aCommit])
    try await store.commit([cCommit, bCommit])
    return ["wf-a": a, "wf-b": b, "wf-c": c, "wf-d": d]

}
