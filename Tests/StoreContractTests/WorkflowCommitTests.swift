import OrchestratorCore
import OrchestratorStore
import Testing

/// Writing workflows: new ones, transitions, optimistic concurrency and atomic batches.
@Suite struct WorkflowCommitTests {
    @Test(arguments: StoreContract.all)
    func migrateIsIdempotent(contract: StoreContract) async throws {
        try await contract.withDatabase { database in
            let store = try await database.open()
            let first = try await store.migrate()
            #expect(!first.isEmpty)
            #expect(try await store.migrate().isEmpty)
            await database.close(store)
            let reopened = try await database.open()
            #expect(try await reopened.migrate().isEmpty)
            try await reopened.ping()
            await database.close(reopened)
        }
    }

    /// The engine hands commits over with their JSON already encoded; they read back the same.
    @Test(arguments: StoreContract.all)
    func preEncodedCommitsReadBackEqual(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            accepted.encoded = try EncodedCommit(accepted)
            #expect(accepted.encoded?.tickets.count == flow.state.tickets.count)
            var leased = try flow.lease("fetch", at: startTime + 10)
            leased.encoded = try EncodedCommit(leased)
            #expect(leased.encoded?.tickets.count == 1)
            try await store.commit([accepted, leased])

            let stored = try #require(try await store.workflow("wf-1"))
            #expect(stored.version == 2)
            #expect(stored.state == flow.state)
            let history = try await store.history("wf-1", after: 0, limit: 10)
            #expect(history.map(\.event) == [accepted.event, leased.event])
        }
    }

    @Test(arguments: StoreContract.all)
    func newWorkflowReadsBackEqual(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let (flow, commit) = try Flow.started("wf-1", plan: "plan-1")
            #expect(flow.state.status == .RUNNING)
            #expect(flow.state.tickets.count == 4)
            #expect(commit.audit != nil)
            try await store.commit([commit])

            let stored = try #require(try await store.workflow("wf-1"))
            #expect(stored.version == 1)
            #expect(stored.state == flow.state)
            #expect(stored.state.tickets.map(\.ticket.taskId) == flow.state.tickets.map(\.ticket.taskId))
            #expect(try await store.workflow("wf-unknown") == nil)
            #expect(try await store.workflowId(forDecision: flow.decision.decisionId) == "wf-1")
            #expect(try await store.workflowId(forDecision: "decision-unknown") == nil)
            #expect(try await store.workflowExists("wf-1"))
            #expect(try await !store.workflowExists("wf-unknown"))
            #expect(try await store.decision(ofWorkflow: "wf-1") == flow.decision)
            #expect(try await store.decision(ofWorkflow: "wf-unknown") == nil)
            #expect(
                try await store.history("wf-1", after: 0, limit: 10) == [HistoryEntry(sequence: 1, event: commit.event)]
            )
            let audit = AuditRecord(
                workflowId: "wf-1",
                decisionId: flow.decision.decisionId,
                planId: "plan-1",
                report: try #require(commit.audit)
            )
            #expect(try await store.audits("wf-1") == [audit])
            for record in flow.state.tickets {
                let found = try #require(try await store.ticket(record.ticketId))
                #expect(found.workflowId == "wf-1")
                #expect(found.record == record)
            }
            #expect(try await store.ticket("ticket-unknown") == nil)
        }
    }

    @Test(arguments: StoreContract.all)
    func transitionsBumpTheVersion(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (flow, commit) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([commit])
            try await store.commit([try flow.lease("fetch", at: startTime + 10)])
            try await store.commit([try flow.complete("fetch", at: startTime + 20)])
            let stored = try #require(try await store.workflow("wf-1"))
            #expect(stored.version == 3)
            #expect(stored.state == flow.state)
            #expect(stored.state.tickets.filter { $0.phase == .READY }.count == 2)
            // A later transition without a decision keeps the one stored with the workflow.
            #expect(try await store.decision(ofWorkflow: "wf-1") == flow.decision)
        }
    }

    @Test(arguments: StoreContract.all)
    func staleVersionFailsAndWritesNothing(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (flow, commit) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([commit])
            let before = try await StoreSnapshot(of: store, workflows: ["wf-1"])

            var stale = try flow.lease("fetch", at: startTime + 10)
            stale.expectedVersion = 5
            await #expect(throws: StoreError.versionConflict(workflowId: "wf-1")) {
                try await store.commit([stale])
            }
            #expect(try await StoreSnapshot(of: store, workflows: ["wf-1"]) == before)
        }
    }

    @Test(arguments: StoreContract.all)
    func conflictInBatchRollsBackTheWholeBatch(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (first, firstCommit) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([firstCommit])
            let before = try await StoreSnapshot(of: store, workflows: ["wf-1", "wf-2"])

            // A fine commit (a new workflow with outbox messages, timers and an audit) followed by a stale one.
            let (_, secondCommit) = try Flow.started("wf-2", plan: "plan-2")
            #expect(!secondCommit.outbox.isEmpty && !secondCommit.timers.isEmpty)
            var stale = try first.lease("fetch", at: startTime + 10)
            stale.expectedVersion = 3
            await #expect(throws: StoreError.versionConflict(workflowId: "wf-1")) {
                try await store.commit([secondCommit, stale])
            }
            #expect(try await StoreSnapshot(of: store, workflows: ["wf-1", "wf-2"]) == before)
            #expect(try await !store.workflowExists("wf-2"))
            #expect(try await store.outboxCount() == firstCommit.outbox.count)

            // The same batch with the right version goes through.
            stale.expectedVersion = 1
            try await store.commit([secondCommit, stale])
            #expect(try await store.workflow("wf-1")?.version == 2)
            #expect(try await store.workflow("wf-2")?.version == 1)
        }
    }

    @Test(arguments: StoreContract.all)
    func batchMayHoldSeveralTransitionsOfOneWorkflow(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            let leased = try flow.lease("fetch", at: startTime + 10)
            let completed = try flow.complete("fetch", at: startTime + 20)
            try await store.commit([accepted, leased, completed])
            let stored = try #require(try await store.workflow("wf-1"))
            #expect(stored.version == 3)
            #expect(stored.state == flow.state)
            #expect(
                try await store.history("wf-1", after: 0, limit: 10).map(\.event) == [
                    accepted.event, leased.event, completed.event,
                ]
            )
        }
    }

    @Test(arguments: StoreContract.all)
    func newWorkflowOnATakenIdIsAVersionConflict(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let (_, commit) = try Flow.started("wf-1", plan: "plan-1", decision: "decision-a")
            try await store.commit([commit])
            let (_, other) = try Flow.started("wf-1", plan: "plan-1", decision: "decision-b")
            await #expect(throws: StoreError.versionConflict(workflowId: "wf-1")) {
                try await store.commit([other])
            }
            #expect(try await store.workflowId(forDecision: "decision-b") == nil)
        }
    }

    @Test(arguments: StoreContract.all)
    func duplicateDecisionNamesTheExistingWorkflow(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let (_, commit) = try Flow.started("wf-1", plan: "plan-1", decision: "decision-a")
            try await store.commit([commit])
            let before = try await StoreSnapshot(of: store, workflows: ["wf-1", "wf-2"])

            let (_, other) = try Flow.started("wf-2", plan: "plan-1", decision: "decision-a")
            await #expect(throws: StoreError.duplicateDecision(decisionId: "decision-a", workflowId: "wf-1")) {
                try await store.commit([other])
            }
            // The same decision delivered again, for the same workflow id.
            await #expect(throws: StoreError.duplicateDecision(decisionId: "decision-a", workflowId: "wf-1")) {
                try await store.commit([commit])
            }
            #expect(try await StoreSnapshot(of: store, workflows: ["wf-1", "wf-2"]) == before)
        }
    }

    @Test(arguments: StoreContract.all)
    func onlyChangedTicketsAreRewritten(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (flow, commit) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([commit])
            let original = flow.state.tickets

            let leased = try flow.lease("fetch", at: startTime + 10)
            #expect(leased.changedTickets == [0])
            // Tamper with a ticket that the commit does not list: the commit must not carry it, and
            // the store must not write it.
            var tampered = flow.state
            tampered.tickets[2].score = 99
            tampered.tickets[2].ticket.errorMessage = "not persisted"
            let next = WorkflowCommit(
                state: tampered,
                expectedVersion: leased.expectedVersion,
                changedTickets: leased.changedTickets,
                event: leased.event,
                timers: leased.timers,
                outbox: leased.outbox,
                incidents: leased.incidents
            )
            #expect(next.state.tickets.isEmpty)
            #expect(next.ticketPositions == [0])
            #expect(throws: InvalidCommitError.self) { try next.ticket(at: 2) }
            try await store.commit([next])

            let stored = try #require(try await store.workflow("wf-1"))
            #expect(stored.state.tickets[0] == flow.state.tickets[0])
            #expect(stored.state.tickets[0].phase == .LEASED)
            #expect(stored.state.tickets[2] == original[2])
            #expect(try await store.ticket(original[2].ticketId)?.record == original[2])
        }
    }

    @Test(arguments: StoreContract.all)
    func activeWorkflowsExcludeTerminalOnes(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let (running, runningCommit) = try Flow.started("wf-running", plan: "plan-1")
            let (waiting, waitingCommit) = try Flow.started("wf-waiting", plan: "plan-2", embed: false)
            let (rejected, rejectedCommit) = try Flow.started("wf-rejected", plan: "plan-3", type: .reject)
            #expect(waiting.state.status == .WAITING_FOR_PLAN)
            #expect(rejected.state.status == .REJECTED)
            try await store.commit([runningCommit, waitingCommit, rejectedCommit])

            let active = try await store.activeWorkflows()
            let byId = Dictionary(uniqueKeysWithValues: active.map { ($0.state.workflowId, $0) })
            #expect(byId.keys.sorted() == ["wf-running", "wf-waiting"])
            #expect(byId["wf-running"]?.state == running.state)
            #expect(byId["wf-running"]?.version == 1)
            #expect(byId["wf-waiting"]?.state == waiting.state)
        }
    }

    @Test(arguments: StoreContract.all)
    func dataSurvivesReopening(contract: StoreContract) async throws {
        try await contract.withStore { store, database in
            var (flow, commit) = try Flow.started("wf-1", plan: "plan-1")
            let leased = try flow.lease("fetch", at: startTime + 10)
            try await store.commit([commit, leased])
            try await store.savePlan(samplePlan("plan-9"), receivedAt: startTime)
            let before = try await StoreSnapshot(of: store, workflows: ["wf-1"])
            await database.close(store)

            let reopened = try await database.open()
            #expect(try await reopened.migrate().isEmpty)
            #expect(try await StoreSnapshot(of: reopened, workflows: ["wf-1"]) == before)
            #expect(try await reopened.workflow("wf-1")?.state == flow.state)
            #expect(try await reopened.plan("plan-9") == samplePlan("plan-9"))
            #expect(try await reopened.activeWorkflows().map(\.state) == [flow.state])
            await database.close(reopened)
        }
    }
}
