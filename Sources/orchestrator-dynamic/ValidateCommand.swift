import ArgumentParser
import Foundation
import OrchestratorCore

/// `validate FILE`: C1–C3 as a dry run.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate a decision or a plan and print the tickets it would produce (dry run of C1-C3).",
        discussion: """
            Exit status: 0 when valid, 1 when invalid (every problem is listed), 2 when the input \
            cannot be read.
            """
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Argument(help: "A decision or plan file (JSON or Avro binary), or - for standard input.")
    var file: String

    @Option(help: "Output: a readable table or JSON.")
    var format: OutputFormat = .table

    @Option(
        name: .customLong("input-format"),
        help: "Input encoding: auto (JSON, or Avro for a .avro file or Confluent-framed bytes), json or avro."
    )
    var inputFormat: SubmissionDecoder.Format = .auto

    @Option(help: "What the input holds: auto, decision or plan.")
    var kind: SubmissionDecoder.Kind = .auto

    @Option(help: "Evaluate expiry and SLA at this instant (epoch milliseconds) instead of now.")
    var now: Int64?

    @Option(help: "A JSON configuration file overriding policy defaults (see docs/CONFIGURATION.md).")
    var config: String?

    func run() throws {
        let prepared: PlanPreparation.Prepared
        let submission: Submission
        do {
            let policies = try ConfigurationFile.load(path: config)
            submission = try InputFile.read(
                file,
                format: inputFormat,
                kind: kind,
                maxElements: policies.validation.maxTasks
            )
            let instant = now ?? Int64(Date().timeIntervalSince1970 * 1000)
            prepared = PlanPreparation(policies: policies).prepare(submission, now: instant)
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        switch format {
        case .json:
            print(try JSONReport(prepared: prepared).render())
        case .table:
            print(TicketTable(prepared: prepared, submission: submission).render())
        }
        if !prepared.report.isValid { throw ExitCode(1) }
    }
}

/// The JSON form of a dry run.
struct JSONReport: Encodable {
    var valid: Bool
    var workflowId: String
    var report: ValidationReport
    var tickets: [ScoredTicket]

    struct ScoredTicket: Encodable {
        var ticket: ExecutionTicket
        var priorityScore: Double

        func encode(to encoder: any Encoder) throws {
            try ticket.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(priorityScore, forKey: .priorityScore)
        }

        enum Key: String, CodingKey { case priorityScore = "priority_score" }
    }

    enum CodingKeys: String, CodingKey {
        case valid
        case workflowId = "workflow_id"
        case report
        case tickets
    }

    init(prepared: PlanPreparation.Prepared) {
        valid = prepared.report.isValid
        workflowId = prepared.workflowId
        report = prepared.report
        tickets = prepared.tickets.map { ScoredTicket(ticket: $0, priorityScore: prepared.scores[$0.ticketId] ?? 0) }
    }

    func render() throws -> String {
        String(decoding: try WireJSON.encode(self, pretty: true), as: UTF8.self)
    }
}
