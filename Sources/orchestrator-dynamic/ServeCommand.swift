import ArgumentParser
import Logging
import OrchestratorServer
import ServiceLifecycle

/// `serve`: the orchestrator server on the configured store (SQLite by default, or PostgreSQL).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the orchestrator: REST API, engine, timers and outbox relay on SQLite or PostgreSQL."
    )

    @OptionGroup var options: ServerOptions
    @OptionGroup var listen: ListenOptions

    func run() async throws {
        let configuration: ServerConfiguration
        let server: OrchestratorServer
        let logger: Logger
        do {
            var loaded = try options.configuration()
            listen.apply(to: &loaded)
            configuration = loaded
            logger = try Logs.make(
                "orchestrator-dynamic",
                level: configuration.logLevel,
                format: configuration.logFormat
            )
            server = try OrchestratorServer(configuration: configuration, logger: logger)
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
        logger.info(
            "orchestrator-dynamic serving",
            metadata: [
                "host": "\(configuration.http.host)", "port": "\(configuration.http.port)",
                "database": "\(server.storeLocation.description)",
                "outbox": "\(configuration.outboxDirectory ?? "-")",
                "outbox_sink": "\(configuration.outbox.sink.rawValue)",
                "kafka": "\(configuration.kafka.isEnabled ? configuration.kafka.bootstrapServers : "-")",
            ]
        )
        let group = ServiceGroup(
            configuration: .init(
                services: server.services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
