import Foundation
import OrchestratorCore

/// The consolidated result of a finished workflow, for people (table) and machines (JSON).
struct ResultReport: Encodable {
    var state: WorkflowState
    var incidents: [OrchestrationIncident]

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case status, reason, metrics, tickets, incidents
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state.workflowId, forKey: .workflowId)
        try c.encode(state.status, forKey: .status)
        try c.encode(state.reason, forKey: .reason)
        try c.encode(state.metrics, forKey: .metrics)
        try c.encode(state.tickets.map(\.ticket), forKey: .tickets)
        try c.encode(incidents, forKey: .incidents)
    }

    func json() throws -> String {
        String(decoding: try WireJSON.encode(self, pretty: true), as: UTF8.self)
    }

    func table() -> String {
        var lines = ["", "result     \(state.workflowId): \(state.status.rawValue)"]
        if let reason = state.reason { lines.append("reason     \(reason)") }
        if let validation = state.validation, !validation.isValid {
            for problem in validation.problems { lines.append("  - [\(problem.code.rawValue)] \(problem)") }
        }
        if let m = state.metrics {
            lines.append(
                "tickets    \(m.total) total, \(m.successful) successful, \(m.failed) failed, "
                    + "\(m.compensated) compensated, \(m.skipped) skipped"
            )
            lines.append("retries    \(m.retries)   SLA violations \(m.slaViolations)")
            lines.append(
                "duration   \(m.durationMs) ms" + (m.averageTicketDurationMs.map { " (average ticket \($0) ms)" } ?? "")
            )
        }
        if !state.tickets.isEmpty {
            lines.append("")
            lines.append("task_id          type        status       retries  duration  worker")
            for record in state.tickets {
                let t = record.ticket
                lines.append(
                    [
                        t.taskId.padding(toLength: max(15, t.taskId.count), withPad: " ", startingAt: 0),
                        t.taskType.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
                        t.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0),
                        String(t.retryCount).padding(toLength: 7, withPad: " ", startingAt: 0),
                        (t.actualDurationMs.map { "\($0) ms" } ?? "-").padding(
                            toLength: 8,
                            withPad: " ",
                            startingAt: 0
                        ),
                        record.workerId ?? "-",
                    ].joined(separator: "  ")
                )
            }
        }
        lines.append("incidents  \(incidents.count)")
        for incident in incidents {
            lines.append(
                "  - \(incident.incidentType.rawValue) \(incident.severity): \(incident.details.joined(separator: "; "))"
            )
        }
        return lines.joined(separator: "\n")
    }
}
