import ArgumentParser
import Foundation
import OrchestratorCore
import OrchestratorWorker

/// `submit FILE`: sends a decision or a plan to a running orchestrator.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a decision or a plan (JSON) to a running orchestrator.",
        discussion: "Exit status: 0 accepted, 1 refused by the server, 2 unreadable input or server unreachable."
    )

    @Argument(help: "A decision or plan JSON file, or - for standard input.")
    var file: String

    @OptionGroup var client: ClientOptions

    @Flag(help: "For a plan: keep it in the plan ledger only, do not start a workflow for it.")
    var ledgerOnly = false

    @Flag(help: "Wait until the workflow has finished and print its status.")
    var wait = false

    func run() async throws {
        let bytes: [UInt8]
        let submission: Submission
        do {
            let data =
                file == "-"
                ? FileHandle.standardInput.readDataToEndOfFile()
                : try Data(contentsOf: URL(fileURLWithPath: file))
            bytes = Array(data)
            submission = try SubmissionDecoder.decode(bytes, format: .json)
        } catch {
            warn("error: cannot read \(file): \(error)")
            throw ExitCode(2)
        }
        let api = try client.apiClient()
        defer { Task { await api.shutdown() } }
        do {
            let response: SubmitResponse
            switch submission {
            case .decision: response = try await api.submitDecision(jsonBytes: bytes)
            case .plan: response = try await api.submitPlan(jsonBytes: bytes, start: !ledgerOnly)
            }
            if let json = response.json {
                print(String(decoding: try WireJSON.encode(json, pretty: true), as: UTF8.self))
            }
            guard wait, let workflowId = response.outcome?.workflowId else { return }
            while true {
                let view = try await api.workflow(workflowId)
                if view.isTerminal {
                    print("workflow \(workflowId): \(view.status)")
                    if view.workflowStatus != .COMPLETED { throw ExitCode(1) }
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        } catch let error as ClientError {
            warn("error: \(error)")
            throw ExitCode(error.status == nil ? 2 : 1)
        }
    }
}

/// `status [WORKFLOW_ID]`: one workflow in detail, or the latest workflows.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a workflow, or list the latest workflows, of a running orchestrator."
    )

    @Argument(help: "A workflow id; omit to list workflows.")
    var workflowId: String?

    @Option(help: "With no id: only workflows in this status.")
    var state: String?

    @Option(help: "With no id: how many workflows to list.")
    var limit: Int = 20

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let api = try client.apiClient()
        defer { Task { await api.shutdown() } }
        do {
            guard let workflowId else {
                let views = try await api.listWorkflows(status: state, limit: limit)
                print("workflow_id".padding(toLength: 48, withPad: " ", startingAt: 0) + "status")
                for view in views {
                    print(
                        view.workflowId.padding(
                            toLength: max(48, view.workflowId.count + 1),
                            withPad: " ",
                            startingAt: 0
                        ) + view.status
                    )
                }
                return
            }
            let view = try await api.workflow(workflowId)
            print("workflow   \(view.workflowId): \(view.status)")
            if let reason = view.reason { print("reason     \(reason)") }
            if let m = view.metrics {
                print(
                    "tickets    \(m.total) total, \(m.successful) successful, \(m.failed) failed, \(m.compensated) compensated, \(m.skipped) skipped; \(m.retries) retries, \(m.slaViolations) SLA violations, \(m.durationMs) ms"
                )
            }
            for ticket in view.tickets {
                print(
                    "  \(ticket.taskId)  \(ticket.taskType)  \(ticket.status)  \(ticket.phase ?? "")  retries \(ticket.retryCount)"
                )
            }
        } catch let error as ClientError {
            warn("error: \(error)")
            throw ExitCode(error.status == 404 ? 1 : 2)
        }
    }
}
