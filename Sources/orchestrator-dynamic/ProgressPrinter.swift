import Foundation
import OrchestratorCore

/// Prints a line whenever a ticket changes phase (works on terminals and in logs alike).
final class ProgressPrinter {
    private var seen: [String: String] = [:]
    private var status: WorkflowStatus?
    private let start = Date()

    func update(_ state: WorkflowState) {
        // A final status reads last, after the tickets' final phases.
        let changed = state.status != status
        status = state.status
        if changed && !state.status.isTerminal { line("workflow \(state.status.rawValue)") }
        defer { if changed && state.status.isTerminal { line("workflow \(state.status.rawValue)") } }
        for record in state.tickets {
            var label = record.phase.rawValue
            if record.phase == .LEASED { label += " by \(record.workerId ?? "?")" }
            if record.phase == .RETRY_WAIT { label += " (retry \(record.ticket.retryCount))" }
            if record.compensation != .none { label += " [compensation \(record.compensation.rawValue)]" }
            guard seen[record.ticketId] != label else { continue }
            seen[record.ticketId] = label
            let name = record.ticket.taskId.padding(
                toLength: max(14, record.ticket.taskId.count),
                withPad: " ",
                startingAt: 0
            )
            let type = record.ticket.taskType.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            var text = "  \(name)  \(type)  \(label)"
            if let error = record.ticket.errorMessage, record.phase != .COMPLETED { text += ": \(error)" }
            line(text)
        }
    }

    private func line(_ text: String) {
        let elapsed = Date().timeIntervalSince(start)
        print(String(format: "[%7.3fs] ", elapsed) + text)
    }
}
