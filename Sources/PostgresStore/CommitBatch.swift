import OrchestratorCore
import OrchestratorStore

/// A batch of ``WorkflowCommit``s turned into the rows to write, one array per kind, so that each
/// kind is written by one statement.
///
/// The rows are the net effect of applying the commits one after another, as the SQLite store
/// does: several commits of one workflow become one row with the last state and the version they
/// add up to (checked against the first commit's expected version); a ticket is written as the
/// last commit that changed it left it; a timer ends scheduled or deleted as its last change says.
/// A batch whose commits of one workflow do not follow each other fails here, before anything is
/// sent.
struct CommitBatch: Sendable {
    struct WorkflowRow {
        var workflowId: String
        var decisionId: String
        var planId: String
        var createdAt: EpochMillis
        var status: String
        /// Empty for none.
        var riskBand: String
        var ticketCount: Int64
        var updatedAt: EpochMillis
        /// ``CommitBatch/noTime`` for none.
        var completedAt: EpochMillis
        var state: String
        /// Empty for none (the stored decision is kept).
        var decision: String
        var expectedVersion: Int64
        var version: Int64
    }

    struct TicketRow {
        var ticketId: String
        var workflowId: String
        var position: Int64
        var planId: String
        var phase: String
        var status: String
        var score: Double
        var deadline: EpochMillis
        var record: String
    }

    struct HistoryRow {
        var workflowId: String
        var sequence: Int64
        var name: String
        var at: EpochMillis
        var event: String
    }

    struct AuditRow {
        var workflowId: String
        var decisionId: String
        var planId: String
        var valid: Bool
        var report: String
        var createdAt: EpochMillis
    }

    /// Stands for a missing epoch time in a `BIGINT[]` (arrays cannot hold optionals here).
    static let noTime = EpochMillis.min

    /// New workflows, in batch order.
    var inserts: [WorkflowRow] = []
    /// Existing workflows, in batch order.
    var updates: [WorkflowRow] = []
    /// Ordered by workflow and position, one row per ticket.
    var tickets: [TicketRow] = []
    var history: [HistoryRow] = []
    /// Keys of the timers to delete.
    var deletedTimers: [String] = []
    /// Timers to create or replace, one per key.
    var scheduledTimers: [TimerSpec] = []
    var outbox: [OutboxMessage] = []
    /// Once per id (the first one wins, as `INSERT OR IGNORE` does).
    var incidents: [OrchestrationIncident] = []
    var audits: [AuditRow] = []

    /// - Parameter json: encodes a model to its JSON text.
    init(_ commits: [WorkflowCommit], json: (any Encodable) throws -> String) throws {
        var order: [String] = []
        var chains: [String: [WorkflowCommit]] = [:]
        for commit in commits {
            let id = commit.state.workflowId
            if chains[id] == nil { order.append(id) }
            chains[id, default: []].append(commit)
        }
        for id in order {
            try addWorkflow(chains[id]!, json: json)
        }
        try addTimers(commits)
        var incidentIds: Set<String> = []
        for commit in commits {
            outbox += commit.outbox
            for incident in commit.incidents where incidentIds.insert(incident.incidentId).inserted {
                incidents.append(incident)
            }
        }
    }

    /// The rows of one workflow's commits (in batch order).
    private mutating func addWorkflow(_ chain: [WorkflowCommit], json: (any Encodable) throws -> String) throws {
        let first = chain[0]
        let workflowId = first.state.workflowId
        for (previous, next) in zip(chain, chain.dropFirst()) where next.expectedVersion != previous.expectedVersion + 1
        {
            // Applied one after another, `next` would find the version `previous` wrote.
            if next.expectedVersion == 0 && next.state.decisionId == first.state.decisionId {
                throw StoreError.duplicateDecision(decisionId: first.state.decisionId, workflowId: workflowId)
            }
            throw StoreError.versionConflict(workflowId: workflowId)
        }
        let last = chain[chain.count - 1]
        let state = try last.encoded?.state ?? json(last.state)
        let decision = try chain.last { $0.decision != nil }?.decision.map { try json($0) }
        let row = WorkflowRow(
            workflowId: workflowId,
            decisionId: first.state.decisionId,
            planId: first.state.planId,
            createdAt: first.state.createdAt,
            status: last.state.status.rawValue,
            riskBand: last.state.riskBand?.rawValue ?? "",
            ticketCount: Int64(last.ticketCount),
            updatedAt: last.state.updatedAt,
            completedAt: last.state.completedAt ?? Self.noTime,
            state: state,
            decision: decision ?? "",
            expectedVersion: first.expectedVersion,
            version: first.expectedVersion + Int64(chain.count)
        )
        if first.expectedVersion == 0 { inserts.append(row) } else { updates.append(row) }

        // Each position as the last commit that wrote it left it (a new workflow writes them all).
        // The engine's own encoding of a record is used when the commit carries it.
        var written: [Int: (record: TicketRecord, json: String?)] = [:]
        for commit in chain {
            for position in commit.ticketPositions {
                written[position] = (try commit.ticket(at: position), commit.encoded?.tickets[position])
            }
        }
        for (position, entry) in written.sorted(by: { $0.key < $1.key }) {
            let record = entry.record
            tickets.append(
                TicketRow(
                    ticketId: record.ticketId,
                    workflowId: workflowId,
                    position: Int64(position),
                    planId: record.ticket.planId,
                    phase: record.phase.rawValue,
                    status: record.ticket.status.rawValue,
                    score: record.score,
                    deadline: record.ticket.sla.deadline,
                    record: try entry.json ?? json(record)
                )
            )
        }
        for commit in chain {
            history.append(
                HistoryRow(
                    workflowId: workflowId,
                    sequence: Int64(commit.state.eventCount),
                    name: commit.event.event.name,
                    at: commit.event.at,
                    event: try commit.encoded?.event ?? json(commit.event)
                )
            )
            if let report = commit.audit {
                audits.append(
                    AuditRow(
                        workflowId: workflowId,
                        decisionId: commit.state.decisionId,
                        planId: commit.state.planId,
                        valid: report.isValid,
                        report: try json(report),
                        createdAt: report.validatedAt
                    )
                )
            }
        }
    }

    /// The net effect on each timer key: per commit, its changes in order, then its fired timers
    /// are consumed unless the same commit scheduled them again.
    private mutating func addTimers(_ commits: [WorkflowCommit]) throws {
        enum Net {
            case schedule(TimerSpec)
            case delete
        }
        var keys: [String] = []
        var net: [String: Net] = [:]
        func set(_ key: String, _ value: Net) {
            if net.updateValue(value, forKey: key) == nil { keys.append(key) }
        }
        for commit in commits {
            var rescheduled: Set<String> = []
            for change in commit.timers {
                switch change {
                case .schedule(let timer):
                    rescheduled.insert(timer.key)
                    set(timer.key, .schedule(timer))
                case .cancel(let key):
                    set(key, .delete)
                }
            }
            for key in commit.firedTimers where !rescheduled.contains(key) {
                set(key, .delete)
            }
        }
        for key in keys {
            switch net[key]! {
            case .schedule(let timer): scheduledTimers.append(timer)
            case .delete: deletedTimers.append(key)
            }
        }
    }
}
