import Foundation
import OrchestratorCore
import OrchestratorStore
import PostgresNIO
import PostgresStore
import Testing

/// Behaviour particular to the PostgreSQL store: several store instances (separate pools, as
/// separate replicas have) on one database at once, and connections dropped under it.
@Suite struct PostgresWorkflowStoreTests {
    @Test func concurrentNewWorkflowsForOneDecisionMakeExactlyOne() async throws {
        try await withTwoStores { first, second in
            for round in 0..<10 {
                let decision = "decision-\(round)"
                let (_, a) = try Flow.started("wf-a-\(round)", plan: "plan-\(round)", decision: decision)
                let (_, b) = try Flow.started("wf-b-\(round)", plan: "plan-\(round)", decision: decision)
                async let fromFirst = outcome { try await first.commit([a]) }
                async let fromSecond = outcome { try await second.commit([b]) }
                let outcomes = await [fromFirst, fromSecond]
                let winners = zip(["wf-a-\(round)", "wf-b-\(round)"], outcomes).filter { $0.1 == nil }.map(\.0)
                #expect(winners.count == 1, "round \(round): \(outcomes)")
                guard let winner = winners.first else { continue }
                let loser = outcomes.compactMap { $0 }
                #expect(loser == [StoreError.duplicateDecision(decisionId: decision, workflowId: winner)])
                #expect(try await first.workflowId(forDecision: decision) == winner)
                #expect(try await second.workflowExists(winner))
                #expect(try await !first.workflowExists(winner == "wf-a-\(round)" ? "wf-b-\(round)" : "wf-a-\(round)"))
            }
        }
    }

    @Test func concurrentTransitionsFromOneVersionMakeExactlyOne() async throws {
        try await withTwoStores { first, second in
            for round in 0..<10 {
                var (flow, accepted) = try Flow.started("wf-\(round)", plan: "plan-\(round)")
                try await first.commit([accepted])
                let leased = try flow.lease("fetch", at: startTime + 10)
                async let fromFirst = outcome { try await first.commit([leased]) }
                async let fromSecond = outcome { try await second.commit([leased]) }
                let outcomes = await [fromFirst, fromSecond]
                #expect(outcomes.filter { $0 == nil }.count == 1, "round \(round): \(outcomes)")
                #expect(outcomes.compactMap { $0 } == [StoreError.versionConflict(workflowId: "wf-\(round)")])
                let stored = try #require(try await second.workflow("wf-\(round)"))
                #expect(stored.version == 2)
                #expect(stored.state == flow.state)
                #expect(try await first.history("wf-\(round)", after: 0, limit: 10).count == 2)
            }
        }
    }

    @Test func concurrentMigrationsApplyEachVersionOnce() async throws {
        let configuration = try TestPostgres.freshSchema()
        let first = try await TestPostgres.stores.open(configuration)
        let second = try await TestPostgres.stores.open(configuration)
        async let a = outcomeOf { try await first.migrate() }
        async let b = outcomeOf { try await second.migrate() }
        let (fromFirst, fromSecond) = await (a, b)
        let versions = try fromFirst.get() + fromSecond.get()
        // Every version applied exactly once, by one of the two.
        #expect(versions.sorted() == [1, 2, 3, 4])
        #expect(try await first.migrate().isEmpty)
        try await second.ping()
        #expect(try await second.outboxCount() == 0)
        await TestPostgres.stores.close(first)
        await TestPostgres.stores.close(second)
        await TestPostgres.dropSchema(configuration)
    }

    // Time limits: a call whose connection is killed has been seen to hang (about 1 full run in 8);
    // the limit turns that into a failure instead of a stuck test run.
    @Test(.timeLimit(.minutes(1))) func terminatedConnectionsFailCleanlyAndThePoolReconnects() async throws {
        try await withPostgresStore { store, configuration in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([accepted])
            #expect(try await TestPostgres.terminateConnections(configuration) >= 1)

            // The next call may find the dead connection (and fail, retryably) or a new one.
            do {
                try await store.ping()
            } catch let error as PostgresStoreError {
                #expect(error.isRetryable, "\(error)")
            }
            try await store.ping()
            try await store.commit([try flow.lease("fetch", at: startTime + 10)])
            #expect(try await store.workflow("wf-1")?.state == flow.state)
        }
    }

    @Test(.timeLimit(.minutes(1))) func connectionKilledInsideACommitRollsItBack() async throws {
        try await withPostgresStore { store, configuration in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([accepted])
            let leased = try flow.lease("fetch", at: startTime + 10)
            let before = try await StoreSnapshot(of: store, workflows: ["wf-1"])

            // Hold the workflow row so that the commit waits inside its transaction, then kill it there.
            let blocked: Result<Void, any Error> = try await TestPostgres.withAdminConnection(configuration) { admin in
                _ = try await admin.query("BEGIN", logger: TestPostgres.logger).collect()
                _ = try await admin.query(
                    PostgresQuery(
                        unsafeSQL:
                            "SELECT 1 FROM \(configuration.schema ?? "public").workflows WHERE workflow_id = 'wf-1' FOR UPDATE"
                    ),
                    logger: TestPostgres.logger
                ).collect()
                let commit = Task { () -> Result<Void, any Error> in
                    do {
                        try await store.commit([leased])
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                try await waitUntilBlocked(admin, applicationName: configuration.applicationName)
                #expect(try await TestPostgres.terminateConnections(configuration) >= 1)
                let result = await commit.value
                _ = try await admin.query("ROLLBACK", logger: TestPostgres.logger).collect()
                return result
            }
            guard case .failure(let error) = blocked else {
                Issue.record("the commit whose connection was killed succeeded")
                return
            }
            let storeError = try #require(error as? PostgresStoreError, "\(error)")
            #expect(storeError.isRetryable, "\(storeError)")
            #expect(storeError.description.contains(configuration.endpoint), "\(storeError)")
            #expect(try await StoreSnapshot(of: store, workflows: ["wf-1"]) == before)

            // The same commit goes through on a new connection.
            try await store.commit([leased])
            #expect(try await store.workflow("wf-1")?.version == 2)
            #expect(try await store.history("wf-1", after: 0, limit: 10).count == 2)
        }
    }

    @Test func unreachableServerIsReportedWithItsAddressAndCause() async throws {
        var configuration = PostgresStoreConfiguration(host: "127.0.0.1", port: 1, username: "nobody", tls: .disable)
        configuration.connectTimeout = .seconds(2)
        let store = try await TestPostgres.stores.open(configuration)
        do {
            _ = try await store.migrate()
            Issue.record("migrate succeeded against a closed port")
        } catch let error as PostgresStoreError {
            #expect(error.code == .unavailable)
            #expect(error.isRetryable)
            #expect(error.description.contains("127.0.0.1:1"), "\(error)")
            #expect(error.cause != nil, "\(error)")
        }
        await TestPostgres.stores.close(store)
    }
}

/// The result of `body`, thrown or returned.
private func outcomeOf<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

/// `nil` when `body` succeeds, else the ``StoreError`` it threw (any other error is rethrown).
private func outcome(_ body: () async throws -> Void) async -> StoreError? {
    do {
        try await body()
        return nil
    } catch let error as StoreError {
        return error
    } catch {
        return .corrupt("unexpected error: \(error)")
    }
}

/// Runs `body` with a migrated store on a fresh schema, dropped afterwards.
private func withPostgresStore(
    _ body: (PostgresWorkflowStore, PostgresStoreConfiguration) async throws -> Void
) async throws {
    let configuration = try TestPostgres.freshSchema()
    let store = try await TestPostgres.stores.open(configuration)
    do {
        _ = try await store.migrate()
        try await body(store, configuration)
    } catch {
        await TestPostgres.stores.close(store)
        await TestPostgres.dropSchema(configuration)
        throw error
    }
    await TestPostgres.stores.close(store)
    await TestPostgres.dropSchema(configuration)
}

/// Runs `body` with two store instances (two pools) on one fresh, migrated schema.
private func withTwoStores(_ body: (PostgresWorkflowStore, PostgresWorkflowStore) async throws -> Void) async throws {
    try await withPostgresStore { first, configuration in
        let second = try await TestPostgres.stores.open(configuration)
        do {
            #expect(try await second.migrate().isEmpty)
            try await body(first, second)
        } catch {
            await TestPostgres.stores.close(second)
            throw error
        }
        await TestPostgres.stores.close(second)
    }
}

/// Waits until a connection named `applicationName` waits for a lock.
private func waitUntilBlocked(_ admin: PostgresConnection, applicationName: String) async throws {
    var bindings = PostgresBindings()
    bindings.append(applicationName)
    let query = PostgresQuery(
        unsafeSQL: "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        binds: bindings
    )
    for _ in 0..<500 {
        if try await !admin.query(query, logger: TestPostgres.logger).collect().isEmpty { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw MissingPostgres(description: "the commit never waited for the row lock")
}
