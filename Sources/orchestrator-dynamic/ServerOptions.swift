import ArgumentParser
import Foundation
import Logging
import OrchestratorServer

/// Flags shared by `serve`, `run`, `replay` and `migrate`; each also has an environment variable.
struct ServerOptions: ParsableArguments {
    @Option(help: "HTTP port of the API (env ORCHESTRATOR_PORT; default 8000 for serve).")
    var port: Int?

    @Option(help: "Port of the /metrics-only listener, 0 to disable (env ORCHESTRATOR_METRICS_PORT; default 9090).")
    var metricsPort: Int?

    @Option(help: "Directory of the SQLite file, lock and outbox files (env ORCHESTRATOR_DATA_DIR; default ./data).")
    var dataDir: String?

    @Option(
        help: """
            Database: sqlite:PATH or postgres://user:password@host:port/database[?sslmode=disable] \
            (env ORCHESTRATOR_DATABASE_URL; default sqlite:<data-dir>/orchestrator.sqlite).
            """
    )
    var databaseURL: String?

    @Option(
        help: """
            PostgreSQL: this replica's id, unique among the replicas sharing the database \
            (env ORCHESTRATOR_REPLICA_ID; default: host name and random digits).
            """
    )
    var replicaId: String?

    @Option(help: "A JSON configuration file (env ORCHESTRATOR_CONFIG); see docs/CONFIGURATION.md.")
    var config: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env ORCHESTRATOR_LOG_LEVEL).")
    var logLevel: String?

    /// The configuration: defaults < file < environment < these flags.
    func configuration() throws -> ServerConfiguration {
        var configuration = try ConfigurationLoader.load(path: config)
        if let port { configuration.http.port = port }
        if let metricsPort { configuration.http.metricsPort = metricsPort }
        if let dataDir { configuration.storage.dataDir = dataDir }
        if let databaseURL { configuration.storage.databaseURL = databaseURL }
        if let replicaId { configuration.storage.replicaId = replicaId }
        if let logLevel { configuration.logLevel = logLevel }
        return configuration
    }
}

/// Flags of client commands.
struct ClientOptions: ParsableArguments {
    @Option(help: "Base URL of the orchestrator API (env ORCHESTRATOR_URL; default http://127.0.0.1:8000).")
    var url: String?

    var baseURL: String {
        url ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_URL"] ?? "http://127.0.0.1:8000"
    }
}

enum Logs {
    /// A logger writing to standard error at the given level.
    static func make(_ label: String, level: String) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: level.lowercased()) ?? .info
        return logger
    }
}

/// Writes a line to standard error.
func warn(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
