import ArgumentParser
import Foundation
import Logging
import OrchestratorServer
import OrchestratorWorker

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

    @Option(
        help: """
            Log format: json (one object per line), text, or auto: text on a terminal, json \
            otherwise (env ORCHESTRATOR_LOG_FORMAT; default auto).
            """
    )
    var logFormat: String?

    /// The configuration: defaults < file < environment < these flags.
    func configuration() throws -> ServerConfiguration {
        var configuration = try ConfigurationLoader.load(path: config)
        if let port { configuration.http.port = port }
        if let metricsPort { configuration.http.metricsPort = metricsPort }
        if let dataDir { configuration.storage.dataDir = dataDir }
        if let databaseURL { configuration.storage.databaseURL = databaseURL }
        if let replicaId { configuration.storage.replicaId = replicaId }
        if let logLevel { configuration.logLevel = logLevel }
        if let logFormat { configuration.logFormat = logFormat }
        return configuration
    }
}

/// Flags of client commands.
struct ClientOptions: ParsableArguments {
    @Option(help: "Base URL of the orchestrator API (env ORCHESTRATOR_URL; default http://127.0.0.1:8000).")
    var url: String?

    @Option(
        help: """
            Bearer token (API token or JWT). Prefer --token-file or env ORCHESTRATOR_TOKEN: a flag's \
            value shows in the process list.
            """
    )
    var token: String?

    @Option(help: "File holding the bearer token, e.g. <data-dir>/admin.token (env ORCHESTRATOR_TOKEN_FILE).")
    var tokenFile: String?

    @Option(
        help:
            "PEM file of the CA certificates to trust for an https:// --url (env ORCHESTRATOR_CA_FILE; default: the system's)."
    )
    var caFile: String?

    var baseURL: String {
        url ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_URL"] ?? "http://127.0.0.1:8000"
    }

    /// The token: --token, else --token-file, else ORCHESTRATOR_TOKEN, else ORCHESTRATOR_TOKEN_FILE.
    func bearerToken() throws -> String? {
        let env = ProcessInfo.processInfo.environment
        if let token { return token }
        if let file = tokenFile ?? (env["ORCHESTRATOR_TOKEN"] == nil ? env["ORCHESTRATOR_TOKEN_FILE"] : nil) {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CLIError.unreadableInput("cannot read the token file \(file): \(error.localizedDescription)")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw CLIError.unreadableInput("the token file \(file) is empty") }
            return trimmed
        }
        if let token = env["ORCHESTRATOR_TOKEN"], !token.isEmpty { return token }
        return nil
    }

    /// An API client of ``baseURL`` sending the bearer token; exit status 2 when the token file
    /// cannot be read.
    func apiClient() throws -> OrchestratorClient {
        do {
            return OrchestratorClient(
                baseURL: baseURL,
                token: try bearerToken(),
                caFile: caFile ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_CA_FILE"]
            )
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
    }
}

enum Logs {
    /// Sets the process's log format and level (``LogSetup``) and returns a logger writing to
    /// standard error; every library logger made afterwards writes the same way.
    static func make(_ label: String, level: String, format: String) throws -> Logger {
        let resolved = try LogFormat.resolve(format)
        let level = Logger.Level(rawValue: level.lowercased()) ?? .info
        LogSetup.configure(format: resolved, level: level)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// Writes a line to standard error.
/// Writes a line to standard error: as a JSON object once the log format is `json`.
func warn(_ text: String) {
    LogSetup.writeLine(text)
}

/// Flags of the commands that listen (`serve`, and `run` with --port): bind address and
/// authentication.
struct ListenOptions: ParsableArguments {
    @Option(
        help: """
            Address to bind (env ORCHESTRATOR_HOST; default 0.0.0.0 for serve, 127.0.0.1 for run).
            """
    )
    var host: String?

    @Option(
        help: """
            Authentication: required (default; a bearer token on every API route) or none (no checks, \
            for experiments only) (env ORCHESTRATOR_AUTH). See docs/SECURITY.md.
            """
    )
    var auth: String?

    @Option(
        help: """
            JSON file of named API tokens with their roles (env ORCHESTRATOR_AUTH_FILE). Without it, \
            <data-dir>/admin.token is created and accepted as admin.
            """
    )
    var authFile: String?

    @Option(help: "PEM certificate chain: serve HTTPS (with --tls-key) (env ORCHESTRATOR_TLS_CERT).")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert (env ORCHESTRATOR_TLS_KEY).")
    var tlsKey: String?

    func apply(to configuration: inout ServerConfiguration) {
        if let tlsCert { configuration.http.tlsCertFile = tlsCert }
        if let tlsKey { configuration.http.tlsKeyFile = tlsKey }
        if let host { configuration.http.host = host }
        if let auth { configuration.auth.mode = auth }
        if let authFile { configuration.auth.tokensFile = authFile }
    }
}
