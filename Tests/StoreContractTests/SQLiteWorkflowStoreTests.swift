import Foundation
import OrchestratorCore
import OrchestratorStore
import SQLiteDB
import SQLiteStore
import Testing

/// Behaviour particular to the SQLite store: damaged rows, a closed connection, malformed commits.
@Suite struct SQLiteWorkflowStoreTests {
    @Test func unreadableRowsAreReportedAsCorrupt() async throws {
        try await withSQLiteStore { store in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([accepted, try flow.lease("fetch", at: startTime + 10)])
            let raw = try SQLiteConnection(path: store.path)
            defer { raw.close() }

            let ticketId = flow.ticketId("build")
            try raw.run("UPDATE tickets SET record = '{\"ticket\": 1}' WHERE ticket_id = ?", [.text(ticketId)])
            try await expectCorrupt(naming: ["tickets", ticketId]) { try await store.workflow("wf-1") }
            try await expectCorrupt(naming: ["tickets", ticketId]) { try await store.activeWorkflows() }
            try await expectCorrupt(naming: ["tickets", ticketId]) { try await store.ticket(ticketId) }

            try raw.run("DELETE FROM tickets WHERE ticket_id = ?", [.text(ticketId)])
            try await expectCorrupt(naming: ["wf-1"]) { try await store.workflow("wf-1") }

            try raw.run("UPDATE workflows SET state = 'not json', status = 'SLEEPING' WHERE workflow_id = 'wf-1'")
            try await expectCorrupt(naming: ["workflows", "wf-1"]) { try await store.listWorkflows(WorkflowFilter()) }
            try await expectCorrupt(naming: ["workflows", "SLEEPING"]) { try await store.workflowCounts() }

            try raw.run("UPDATE history SET event = '[]' WHERE workflow_id = 'wf-1' AND sequence = 2")
            try await expectCorrupt(naming: ["history", "wf-1#2"]) {
                try await store.history("wf-1", after: 0, limit: 5)
            }
            // Rows that are intact still read.
            #expect(try await store.history("wf-1", after: 0, limit: 1).count == 1)
        }
    }

    @Test func databaseErrorsAreThrownNotFatal() async throws {
        try await withSQLiteStore { store in
            let (_, accepted) = try Flow.started("wf-1", plan: "plan-1")
            await store.close()
            await #expect(throws: SQLiteError.self) { try await store.ping() }
            await #expect(throws: SQLiteError.self) { try await store.commit([accepted]) }
            await #expect(throws: SQLiteError.self) { try await store.workflow("wf-1") }
        }
        #expect(throws: SQLiteError.self) {
            try SQLiteWorkflowStore(path: "/nonexistent-directory/store.sqlite")
        }
    }

    @Test func changedTicketOutsideTheStateFailsTheBatch() async throws {
        try await withSQLiteStore { store in
            var (flow, accepted) = try Flow.started("wf-1", plan: "plan-1")
            try await store.commit([accepted])
            let before = try await StoreSnapshot(of: store, workflows: ["wf-1", "wf-2"])
            let (_, other) = try Flow.started("wf-2", plan: "plan-2")
            var bad = try flow.lease("fetch", at: startTime + 10)
            bad.changedTickets.insert(17)
            await #expect(throws: InvalidCommitError.self) { try await store.commit([other, bad]) }
            #expect(try await StoreSnapshot(of: store, workflows: ["wf-1", "wf-2"]) == before)
        }
    }

    @Test func storeUsesWriteAheadLogging() async throws {
        try await withSQLiteStore { store in
            let raw = try SQLiteConnection(path: store.path)
            defer { raw.close() }
            #expect(try raw.queryFirst("PRAGMA journal_mode")?.string(0).lowercased() == "wal")
        }
    }
}

/// Runs `body` with a migrated store on a temporary file, removed afterwards.
private func withSQLiteStore(_ body: (SQLiteWorkflowStore) async throws -> Void) async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-store-\(UUID().uuidString).sqlite")
        .path
    defer {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
    let store = try SQLiteWorkflowStore(path: path)
    _ = try await store.migrate()
    try await body(store)
    await store.close()
}

/// Expects `body` to throw ``StoreError/corrupt(_:)`` with a message naming every one of `names`.
private func expectCorrupt<T>(
    naming names: [String],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async throws {
    do {
        _ = try await body()
        Issue.record("expected StoreError.corrupt naming \(names)", sourceLocation: sourceLocation)
    } catch StoreError.corrupt(let message) {
        for name in names {
            #expect(message.contains(name), "\(message)", sourceLocation: sourceLocation)
        }
    }
}
