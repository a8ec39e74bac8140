import ArgumentParser
import OrchestratorServer

/// `migrate`: applies the store's schema migrations and exits.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database schema migrations (SQLite or PostgreSQL) and exit."
    )

    @OptionGroup var options: ServerOptions

    func run() async throws {
        do {
            let configuration = try options.configuration()
            let logger = try Logs.make(
                "orchestrator-dynamic",
                level: options.logLevel ?? "warning",
                format: configuration.logFormat
            )
            let opened = try OpenedStore.open(configuration, logger: logger)
            let applied = try await opened.withServices { store in try await store.migrate() }
            print(
                applied.isEmpty
                    ? "\(opened.location.description): schema up to date"
                    : "\(opened.location.description): applied migration(s) "
                        + applied.map(String.init).joined(separator: ", ")
            )
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
    }
}
