/// Lookup tables over a workflow's tickets: position by id, dependents by position, and how many
/// tickets are not yet terminal. Rebuilt only when the ticket list grows (compensation tickets are
/// appended, never removed); between rebuilds the state machine keeps ``open`` current, so that
/// no transition has to scan the whole ticket list.
public struct WorkflowIndex: Sendable, Equatable {
    public private(set) var position: [String: Int] = [:]
    public private(set) var dependents: [[Int]] = []
    /// Tickets whose phase is not terminal.
    public internal(set) var open = 0

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
        open = 0
        for (i, record) in state.tickets.enumerated() {
            if !record.phase.isTerminal { open += 1 }
            for dependency in record.ticket.dependencies {
                if let j = position[dependency] { dependents[j].append(i) }
            }
        }
    }
}
