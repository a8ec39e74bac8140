import OrchestratorCore

/// `WorkflowStatus` values as SQL literal lists, for `status IN (...)` in constant statements.
enum WorkflowStatusSQL {
    /// The statuses that are not terminal, e.g. `'WAITING_FOR_PLAN', 'RUNNING'`.
    static let active = list(WorkflowStatus.allCases.filter { !$0.isTerminal })
    /// The terminal statuses.
    static let terminal = list(WorkflowStatus.allCases.filter(\.isTerminal))

    /// The raw values are plain identifiers, so quoting them is enough.
    private static func list(_ statuses: [WorkflowStatus]) -> String {
        statuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")
    }
}
