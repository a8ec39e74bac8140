import OrchestratorCore

/// A ticket's parameters as the ``ReferenceExecutor`` reads them.
///
/// On `COMPENSATE` tickets every name is read with the `compensate_` prefix, because those
/// tickets carry a copy of the parameters of the ticket they undo.
struct WorkParameters: Sendable {
    let ticket: ExecutionTicket
    let prefix: String

    init(ticket: ExecutionTicket) {
        self.ticket = ticket
        self.prefix = ticket.taskType == .COMPENSATE ? "compensate_" : ""
    }

    /// The kind of work (`work`, or `compensate_work` on compensation tickets).
    var kind: String? { self["work"] }

    /// The parameter `name` (prefixed on compensation tickets), `nil` when absent or blank.
    subscript(name: String) -> String? {
        guard let value = ticket.parameters[prefix + name], !value.allSatisfy(\.isWhitespace) else { return nil }
        return value
    }

    /// The parameter's name as the ticket spells it.
    func name(_ name: String) -> String { "parameters." + prefix + name }

    /// A boolean parameter (`true/false`, `yes/no`, `1/0`); `nil` when absent or unreadable.
    func flag(_ name: String) -> Bool? {
        switch self[name]?.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: return nil
        }
    }

    /// A positive integer parameter.
    func positiveInt(_ name: String) -> Int64? {
        self[name].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// The message for a required parameter that is missing or unreadable.
    func missing(_ name: String, _ expected: String) -> String {
        "\(kind ?? "this") task needs \(self.name(name)): \(expected)"
    }
}
