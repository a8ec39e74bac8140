import OrchestratorCore
import OrchestratorStore

/// A request to the engine loop, with where to send its answer.
enum EngineCommand: Sendable {
    case submitDecision(ConsolidatedDecision, Reply<SubmitOutcome>)
    case submitPlan(CognitivePlan, start: Bool, Reply<SubmitOutcome?>)
    case operatorAction(workflowId: String, OperatorAction, Reply<WorkflowState>)
    case poll(PollRequest, Reply<[LeaseGrant]>)
    case report(TicketReport, Reply<TicketRecord>)
    case registerWorker(WorkerRegistration, Reply<WorkerRecordSnapshot>)
    case tick
    /// Workflows this replica claimed (shared store).
    case adopt([ClaimedWorkflow])
    /// The workflows the store says this replica owns (after its heartbeat had expired).
    case verifyOwnership(Set<String>)
    /// Sent before the owned workflows are read for ``verifyOwnership(_:)``: the workflows this
    /// replica creates from now on are its own whatever that read shows.
    case beginOwnershipCheck
    /// Another replica saved a plan (`nil`: notifications may have been missed).
    case planSaved(String?)
    /// Periodic housekeeping: workflows to read again after a store outage.
    case maintain
    case snapshot(workflowId: String, Reply<WorkflowState?>)
    /// Graceful shutdown begins: answer the parked long polls now (empty).
    case endLongPolls
}

/// A one-shot reply channel.
struct Reply<Value: Sendable>: Sendable {
    let continuation: CheckedContinuation<Value, any Error>
    func succeed(_ value: Value) { continuation.resume(returning: value) }
    func fail(_ error: any Error) { continuation.resume(throwing: error) }
}

/// Operator actions on a workflow.
public enum OperatorAction: Sendable, Equatable {
    case approve(by: String, note: String?)
    case reject(by: String, reason: String)
    case cancel(by: String, reason: String)

    var event: WorkflowEvent {
        switch self {
        case .approve(let by, let note): return .approved(by: by, note: note)
        case .reject(let by, let reason): return .rejected(by: by, reason: reason)
        case .cancel(let by, let reason): return .cancelled(by: by, reason: reason)
        }
    }
}

/// A worker asking for tickets.
public struct PollRequest: Sendable, Equatable {
    public var workerId: String
    public var maxTickets: Int
    public var waitMs: Int64
    public init(workerId: String, maxTickets: Int = 1, waitMs: Int64 = 0) {
        self.workerId = workerId
        self.maxTickets = maxTickets
        self.waitMs = waitMs
    }
}

/// A worker's heartbeat, completion or failure.
public struct TicketReport: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case heartbeat
        case completed(ExecutionResult)
        case failed(error: String, retryable: Bool, result: ExecutionResult?)
    }
    public var ticketId: String
    /// The lease's fencing token; `nil` for unfenced results (from the bus).
    public var fencingToken: Int64?
    public var workerId: String?
    public var kind: Kind

    public init(ticketId: String, fencingToken: Int64?, workerId: String?, kind: Kind) {
        self.ticketId = ticketId
        self.fencingToken = fencingToken
        self.workerId = workerId
        self.kind = kind
    }

    /// The report of an unfenced result (from the bus): COMPLETED and FAILED change the ticket;
    /// RUNNING is progress only (`nil`).
    public init?(unfenced result: ExecutionResult) {
        let kind: Kind
        switch result.status {
        case .COMPLETED:
            kind = .completed(result)
        case .FAILED:
            kind = .failed(error: result.errorMessage ?? "the worker reported FAILED", retryable: true, result: result)
        case .RUNNING:
            return nil
        }
        self.init(ticketId: result.ticketId, fencingToken: nil, workerId: result.agentId, kind: kind)
    }

    /// The result a completion or failure carries.
    var result: ExecutionResult? {
        switch kind {
        case .heartbeat: return nil
        case .completed(let result): return result
        case .failed(_, _, let result): return result
        }
    }
}

/// Registering a worker.
public struct WorkerRegistration: Sendable, Equatable {
    public var workerId: String
    public var capabilities: [String]
    public var labels: [String: String]
    public init(workerId: String, capabilities: [String], labels: [String: String] = [:]) {
        self.workerId = workerId
        self.capabilities = capabilities
        self.labels = labels
    }
}

/// What a registration returns.
public struct WorkerRecordSnapshot: Sendable, Equatable, Codable {
    public var workerId: String
    public var capabilities: [String]
    public var leaseTtlMs: Int64
    public var heartbeatIntervalMs: Int64

    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case capabilities
        case leaseTtlMs = "lease_ttl_ms"
        case heartbeatIntervalMs = "heartbeat_interval_ms"
    }
}
