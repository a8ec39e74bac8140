import OrchestratorCore

/// Runs the work an execution ticket describes.
///
/// Executors never throw: every problem, including cancellation, becomes a failed
/// ``TaskOutcome`` that says whether trying again could help. Implementations should honour task
/// cancellation (a worker cancels the execution when its lease is lost or it is stopping).
public protocol TaskExecutor: Sendable {
    /// Executes `ticket`.
    ///
    /// - Parameters:
    ///   - ticket: The leased ticket.
    ///   - attempt: The 0-based retry count of this attempt (the ticket's `retry_count`).
    func execute(_ ticket: ExecutionTicket, attempt: Int) async -> TaskOutcome
}
