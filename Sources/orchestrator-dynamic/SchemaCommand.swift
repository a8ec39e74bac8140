import ArgumentParser
import OrchestratorCore

/// `schema NAME`: prints one of the project's Avro schemas.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print one of the Avro schemas the orchestrator reads and writes."
    )

    @Argument(help: "One of: \(ContractSchemas.Record.allCases.map(\.rawValue).joined(separator: ", ")).")
    var name: String

    func run() throws {
        guard let record = ContractSchemas.Record(rawValue: name) else {
            throw ValidationError(
                "unknown schema \"\(name)\"; expected one of \(ContractSchemas.Record.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        print(ContractSchemas.text(record), terminator: "")
    }
}
