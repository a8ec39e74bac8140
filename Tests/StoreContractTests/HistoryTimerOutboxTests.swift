import OrchestratorCore
import OrchestratorStore
import Testing

/// What a commit appends besides the state: history, timers and outbox messages.
@Suite struct HistoryTimerOutboxTests {
    @Test(arguments: StoreContract.all)
    func historyIsInOrderAndPaged(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            var commits = [accepted]
            commits.append(try flow.lease("fetch", at: startTime + 10))
            commits.append(try flow.complete("fetch", at: startTime + 20))
            commits.append(try flow.lease("build", at: startTime + 30))
            commits.append(try flow.complete("build", at: startTime + 40))
            for commit in commits {
                try await store.commit([commit])
            }
            let (_, other) = try Flow.started("wf-2", plan: "plan-2")
            try await store.commit([other])

            let expected = commits.enumerated().map { HistoryEntry(sequence: $0.offset + 1, event: $0.element.event) }
            #expect(try await store.history("wf-1", after: 0, limit: 100) == expected)
            #expect(try await store.history("wf-1", after: 0, limit: 2) == Array(expected[0..<2]))
            #expect(try await store.history("wf-1", after: 2, limit: 2) == Array(expected[2..<4]))
            #expect(try await store.history("wf-1", after: 4, limit: 2) == Array(expected[4...]))
            #expect(try await store.history("wf-1", after: 5, limit: 2).isEmpty)
            #expect(
                try await store.history("wf-2", after: 0, limit: 100) == [HistoryEntry(sequence: 1, event: other.event)]
            )
            #expect(try await store.history("wf-unknown", after: 0, limit: 100).isEmpty)
        }
    }

    @Test(arguments: StoreContract.all)
    func timersAreScheduledReplacedCancelledAndConsumed(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var model = TimerModel()
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([accepted])
            model.apply(accepted)
            let fetchSLA = TimerSpec(
                workflowId: "wf-1",
                ticketId: flow.ticketId("fetch"),
                kind: .slaDeadline,
                fireAt: 0,
                token: 0
            )
            #expect(try await keyed(store.timers()) == model.timers)
            #expect(model.timers[fetchSLA.key] != nil)

            let extraA = TimerSpec(
                workflowId: "wf-1",
                ticketId: "extra-a",
                kind: .retry,
                fireAt: startTime + 100,
                token: 1
            )
            let extraB = TimerSpec(
                workflowId: "wf-1",
                ticketId: "extra-b",
                kind: .retry,
                fireAt: startTime + 200,
                token: 1
            )
            var leased = try flow.lease("fetch", at: startTime + 10)
            leased.timers += [.schedule(extraA), .schedule(extraB)]
            try await store.commit([leased])
            model.apply(leased)
            let stored = try await store.timers()
            #expect(keyed(stored) == model.timers)
            #expect(stored.count == 4)

            // Replace A, cancel B; completing `fetch` also cancels its lease and SLA timers.
            var replacedA = extraA
            replacedA.fireAt = startTime + 300
            replacedA.token = 2
            var completed = try flow.complete("fetch", at: startTime + 20)
            completed.timers += [.schedule(replacedA), .cancel(key: extraB.key)]
            try await store.commit([completed])
            model.apply(completed)
            let afterCompletion = try await keyed(store.timers())
            #expect(afterCompletion == model.timers)
            #expect(afterCompletion[extraA.key] == replacedA)
            #expect(afterCompletion[extraB.key] == nil)
            #expect(afterCompletion[fetchSLA.key] == nil)

            // Fired timers are consumed, unless the same commit schedules them again.
            let reportSLA = try #require(afterCompletion.values.first { $0.ticketId == flow.ticketId("report") })
            var rescheduled = reportSLA
            rescheduled.fireAt += 1_000
            var next = try flow.lease("build", at: startTime + 30)
            next.firedTimers = [extraA.key, reportSLA.key]
            next.timers.append(.schedule(rescheduled))
            try await store.commit([next])
            model.apply(next)
            let final = try await keyed(store.timers())
            #expect(final == model.timers)
            #expect(final[extraA.key] == nil)
            #expect(final[reportSLA.key] == rescheduled)
        }
    }

    @Test(arguments: StoreContract.all)
    func failedCommitLeavesTimersAlone(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([accepted])
            let before = try await store.timers()
            #expect(!before.isEmpty)
            var stale = try flow.lease("fetch", at: startTime + 10)
            stale.firedTimers = before.map(\.key)
            stale.timers.append(.cancel(key: before[0].key))
            stale.expectedVersion = 7
            await #expect(throws: StoreError.versionConflict(workflowId: "wf-1")) {
                try await store.commit([stale])
            }
            #expect(try await keyed(store.timers()) == keyed(before))
        }
    }

    @Test(arguments: StoreContract.all)
    func outboxKeepsOrderPagesAndAcknowledges(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let (_, first) = try Flow.started("wf-1", plan: "plan-1")
            let (_, second) = try Flow.started("wf-2", plan: "plan-2")
            try await store.commit([first])
            try await store.commit([second])
            let messages = first.outbox + second.outbox
            #expect(messages.count >= 8)
            #expect(messages.contains { $0.topic == .tickets && !$0.headers.isEmpty })

            let all = try await store.outbox(after: 0, limit: 1_000)
            #expect(all.map(\.message) == messages)
            #expect(zip(all, all.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
            #expect(try await store.outboxCount() == messages.count)
            #expect(try await store.outbox(after: all[2].sequence, limit: 3) == Array(all[3..<6]))
            #expect(try await store.outbox(after: all.last!.sequence, limit: 3).isEmpty)

            try await store.acknowledgeOutbox(through: all[4].sequence)
            #expect(try await store.outboxCount() == messages.count - 5)
            #expect(try await store.outbox(after: 0, limit: 1_000) == Array(all[5...]))
            try await store.acknowledgeOutbox(through: all[1].sequence)
            #expect(try await store.outboxCount() == messages.count - 5)

            try await store.acknowledgeOutbox(through: all.last!.sequence)
            #expect(try await store.outboxCount() == 0)
            #expect(try await store.outbox(after: 0, limit: 10).isEmpty)

            // Sequence numbers are never reused, so a relay that remembers the last one misses nothing.
            let (_, third) = try Flow.started("wf-3", plan: "plan-3")
            try await store.commit([third])
            let fresh = try await store.outbox(after: all.last!.sequence, limit: 1_000)
            #expect(fresh.map(\.message) == third.outbox)
        }
    }
}

/// Timers by key.
private func keyed(_ timers: [TimerSpec]) -> [String: TimerSpec] {
    Dictionary(timers.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
}

/// The timer semantics of the store protocol, as a dictionary.
private struct TimerModel {
    var timers: [String: TimerSpec] = [:]

    mutating func apply(_ commit: WorkflowCommit) {
        var rescheduled: Set<String> = []
        for change in commit.timers {
            switch change {
            case .schedule(let timer):
                timers[timer.key] = timer
                rescheduled.insert(timer.key)
            case .cancel(let key):
                timers[key] = nil
            }
        }
        for key in commit.firedTimers where !rescheduled.contains(key) {
            timers[key] = nil
        }
    }
}
