/// Lookup tables over a workflow's tickets: position by id and dependents by position. Rebuilt
/// only when the ticket list grows (compensation tickets are appended, never removed).
public struct WorkflowIndex: Sendable {
    public private(set) var position: [String: Int] = [:]
    public private(set) var dependents: [[Int]] = []

    public init() {}

    public init(_ state: WorkflowState) {
        refresh(state)
    }

    /// Brings the index up to date with `state.tickets`.
    public mutating func refresh(_ state: WorkflowState) {
        guard dependents.count != state.tickets.count else { return }
        position = [:]
        position.reserveCapacity(state.tickets.count)
        for (i, record) in state.tickets.enumerated() { position[record.ticketId] = i }
        dependents = [[Int]](repeating: [], count: state.tickets.count)
        for (i, record) in state.tickets.enumerated() {
            for dependency in record.ticket.dependencies {
                if let j = position[dependency] { dependents[j].append(i) }
            }
        }
    }
}
