import Foundation
import OrchestratorCore

/// The readable form of a dry run: a summary, the problems, and the tickets in order.
struct TicketTable {
    var prepared: PlanPreparation.Prepared
    var submission: Submission

    func render() -> String {
        var lines: [String] = []
        let plan = submission.plan
        lines.append("workflow   \(prepared.workflowId)")
        if case .decision(let decision) = submission {
            lines.append("decision   \(decision.decisionId) (\(decision.finalDecisionText))")
        }
        if let plan {
            lines.append(
                "plan       \(plan.planId): \(plan.tasks.count) task(s), risk band \(plan.riskBandText), "
                    + "priority \(plan.originalPriority), security \(plan.originalSecurityLevel)"
            )
        }
        for warning in prepared.report.warnings { lines.append("note       \(warning)") }
        guard prepared.report.isValid else {
            lines.append("")
            lines.append("INVALID: \(prepared.report.problems.count) problem(s)")
            for problem in prepared.report.problems {
                lines.append("  - [\(problem.code.rawValue)] \(problem)")
            }
            return lines.joined(separator: "\n")
        }
        lines.append("")
        let byTicket = Dictionary(uniqueKeysWithValues: prepared.tickets.map { ($0.ticketId, $0.taskId) })
        let header = [
            "#", "ticket_id", "task_id", "type", "depends on", "timeout", "deadline", "retries", "qos", "score",
        ]
        var rows: [[String]] = []
        for (i, ticket) in prepared.tickets.enumerated() {
            let qos =
                "\(ticket.qos.deliveryMode.rawValue)/\(ticket.qos.consistency.rawValue)/\(ticket.qos.durability.rawValue)"
            rows.append([
                String(i + 1), ticket.ticketId, ticket.taskId, ticket.taskType.rawValue,
                ticket.dependencies.isEmpty
                    ? "-" : ticket.dependencies.map { byTicket[$0] ?? $0 }.joined(separator: ","),
                Self.duration(ticket.sla.timeoutMs), "+" + Self.duration(ticket.sla.deadline - ticket.createdAt),
                String(ticket.sla.maxRetries), qos, Self.score(prepared.scores[ticket.ticketId] ?? 0),
            ])
        }
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
        lines.append(line(header))
        lines.append(line(widths.map { String(repeating: "-", count: $0) }))
        lines.append(contentsOf: rows.map(line))
        lines.append("")
        lines.append("VALID: \(prepared.tickets.count) ticket(s) in dependency order")
        return lines.joined(separator: "\n")
    }

    static func duration(_ millis: Int64) -> String {
        if millis % 1000 == 0 { return "\(millis / 1000)s" }
        return "\(millis)ms"
    }

    static func score(_ value: Double) -> String {
        let scaled = Int((value * 1000).rounded())
        let fraction = String(scaled % 1000)
        return "\(scaled / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
