import ArgumentParser

@main
struct OrchestratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orchestrator-dynamic",
        abstract: "The execution orchestrator of the Neural Hive-Mind (Flow C).",
        version: OrchestratorVersion.current,
        subcommands: [
            RunCommand.self, ServeCommand.self, ValidateCommand.self, SubmitCommand.self, StatusCommand.self,
            WorkerCommand.self, ReplayCommand.self, MigrateCommand.self, BenchCommand.self, SchemaCommand.self,
            AvroCommand.self, DoctorCommand.self,
        ]
    )
}

enum OrchestratorVersion {
    static let current = "0.2.0"
}
