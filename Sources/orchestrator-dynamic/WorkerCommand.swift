import ArgumentParser
import Foundation
import Logging
import OrchestratorWorker
import ServiceLifecycle

/// `worker`: the reference worker, pulling tickets from a running orchestrator over HTTP.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the reference worker: lease tickets over HTTP, execute them, report results.",
        discussion: """
            Executes `noop`, `sleep`, `http` and `fail` tasks, `shell` tasks only with --allow-shell, and \
            simulates any other task by its type (durations scaled by --simulation-scale).
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "Worker id (default: worker-<host>-<pid>).")
    var workerId: String?

    @Option(help: "Capabilities offered, comma-separated (* = any).")
    var capabilities: String = "*"

    @Option(help: "Tickets run at once.")
    var concurrency: Int = 4

    @Option(help: "Scale of simulated durations (0 = instant).")
    var simulationScale: Double = 1

    @Flag(help: "Allow `shell` tasks (they run /bin/sh -c with this process's rights).")
    var allowShell = false

    @Option(help: "Long-poll wait in milliseconds.")
    var pollWaitMs: Int64 = 20_000

    @Option(help: "Log level.")
    var logLevel: String = "info"

    @Option(
        help: "Log format: json, text, or auto: text on a terminal, json otherwise (env ORCHESTRATOR_LOG_FORMAT)."
    )
    var logFormat: String?

    func run() async throws {
        let logger: Logger
        do {
            logger = try Logs.make(
                "orchestrator-worker",
                level: logLevel,
                format: logFormat ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_LOG_FORMAT"] ?? "auto"
            )
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
        let api = try client.apiClient()
        let executor = ReferenceExecutor(
            options: ExecutorOptions(allowShell: allowShell, simulationScale: simulationScale)
        )
        let id = workerId ?? "worker-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        let worker = HTTPWorker(
            client: api,
            workerId: id,
            capabilities: capabilities.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            concurrency: concurrency,
            executor: executor,
            pollWaitMs: pollWaitMs,
            logger: logger
        )
        logger.info("worker started", metadata: ["worker_id": "\(id)", "url": "\(client.baseURL)"])
        do {
            try await withGracefulShutdownHandler {
                try await worker.run()
            } onGracefulShutdown: {
                logger.info("worker stopping")
            }
        } catch {
            warn("error: \(error)")
            await executor.shutdown()
            await api.shutdown()
            throw ExitCode(1)
        }
        await executor.shutdown()
        await api.shutdown()
    }
}
