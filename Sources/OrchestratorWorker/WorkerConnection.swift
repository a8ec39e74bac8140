import OrchestratorEngine

/// Where a worker gets tickets and sends reports: the engine in the same process, or the REST API.
protocol WorkerConnection: Sendable {
    func register(_ registration: WorkerRegistration) async throws -> WorkerRecordSnapshot
    func poll(_ request: PollRequest) async throws -> [LeaseGrant]
    func heartbeat(_ grant: LeaseGrant, workerId: String) async throws
    func complete(_ grant: LeaseGrant, workerId: String, outcome: TaskOutcome) async throws
    func fail(_ grant: LeaseGrant, workerId: String, outcome: TaskOutcome) async throws
    /// What an error thrown by this connection means for the worker.
    func fault(of error: any Error) -> WorkerFault
}

/// How a worker reacts to a failed call.
enum WorkerFault: Sendable, Equatable {
    /// A stale lease or a duplicate report: skip it.
    case conflict
    /// The worker or ticket is unknown: register again (poll) or drop the ticket (report).
    case notFound
    /// The request itself was refused as invalid: retrying the same request cannot help.
    case rejected
    /// The orchestrator is stopping or overloaded.
    case unavailable
    /// The orchestrator could not be reached.
    case transport
}
