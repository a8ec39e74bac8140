import ArgumentParser
import OrchestratorServer
import SQLiteStore

/// `migrate`: applies the store's schema migrations and exits.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database schema migrations and exit."
    )

    @OptionGroup var options: ServerOptions

    func run() async throws {
        do {
            let configuration = try options.configuration()
            let lock = try DataDirectoryLock(directory: configuration.storage.dataDir)
            let store = try SQLiteWorkflowStore(path: configuration.sqlitePath)
            let applied = try await store.migrate()
            print(
                applied.isEmpty
                    ? "\(configuration.sqlitePath): schema up to date"
                    : "\(configuration.sqlitePath): applied migration(s) \(applied.map(String.init).joined(separator: ", "))"
            )
            withExtendedLifetime(lock) {}
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
    }
}
