import ArgumentParser
import Foundation
import Logging
import OrchestratorCore
import OrchestratorEngine
import OrchestratorServer
import OrchestratorWorker
import ServiceLifecycle

/// `run FILE`: one decision or plan end to end on an embedded engine with built-in workers.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one decision or plan to the end on an embedded engine with built-in workers.",
        discussion: """
            Exit status: 0 COMPLETED, 1 FAILED (including a plan that fails validation), 2 unreadable \
            input or configuration, 3 PARTIAL, 4 CANCELLED or REJECTED, 5 parked awaiting approval \
            (use --approve).
            """
    )

    @Argument(help: "A decision or plan file (JSON or Avro binary), or - for standard input.")
    var file: String

    @OptionGroup var options: ServerOptions
    @OptionGroup var listen: ListenOptions

    @Option(help: "Built-in workers running tickets concurrently.")
    var workers: Int = 4

    @Option(help: "Scale of simulated task durations (1 = the hive-mind's simulated executors, 0 = instant).")
    var simulationScale: Double = 1

    @Flag(help: "Let workers run `shell` tasks.")
    var allowShell = false

    @Flag(help: "Approve the workflow if the decision parks it for human review.")
    var approve = false

    @Flag(help: "Print the consolidated result as JSON instead of a table.")
    var json = false

    func run() async throws {
        var configuration: ServerConfiguration
        let submission: Submission
        do {
            configuration = try options.configuration()
            if options.dataDir == nil && ProcessInfo.processInfo.environment["ORCHESTRATOR_DATA_DIR"] == nil {
                configuration.storage.dataDir =
                    NSTemporaryDirectory() + "orchestrator-run-" + UUID().uuidString.prefix(8)
            }
            if options.metricsPort == nil { configuration.http.metricsPort = 0 }
            // `run --port` serves the API for local workers: on loopback unless told otherwise,
            // with the same authentication as `serve` (the admin token in the data directory).
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_HOST"] == nil { configuration.http.host = "127.0.0.1" }
            listen.apply(to: &configuration)
            submission = try InputFile.read(
                file,
                format: .auto,
                kind: .auto,
                maxElements: configuration.engine.policies.validation.maxTasks
            )
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
        let server: OrchestratorServer
        let logger: Logger
        do {
            logger = try Logs.make(
                "orchestrator-dynamic",
                level: options.logLevel ?? "warning",
                format: configuration.logFormat
            )
            server = try OrchestratorServer(
                configuration: configuration,
                logger: logger,
                serveHTTP: options.port != nil
            )
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
        print("data directory \(configuration.storage.dataDir)")
        if options.port != nil, configuration.auth.mode.lowercased() != "none",
            configuration.auth.tokensFile == nil
        {
            print(
                "API on http://\(configuration.http.host):\(configuration.http.port), admin token in \(AuthSetup.adminTokenPath(configuration))"
            )
        }
        let executor = ReferenceExecutor(
            options: ExecutorOptions(allowShell: allowShell, simulationScale: simulationScale)
        )
        let pool = InProcessWorkerPool(
            engine: server.engine,
            size: max(1, workers),
            capabilities: ["*"],
            executor: executor,
            idPrefix: "builtin",
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: server.services.map { .init(service: $0) }, logger: logger)
        )
        // The built-in workers run apart from the services, so that they can be stopped first and
        // the services then shut down gracefully (cancelling them made the HTTP server log errors).
        let workers = Task { await pool.run() }
        let status = try await withThrowingTaskGroup(of: WorkflowStatus?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            tasks.addTask {
                try await drive(server.engine, submission: submission)
            }
            var outcome: WorkflowStatus?
            while let next = try await tasks.next() {
                if let next {
                    outcome = next
                    break
                }
            }
            workers.cancel()
            await workers.value
            await group.triggerGracefulShutdown()
            // The service group returns once every service stopped (in-flight commits finish,
            // long polls end): about a second.
            while try await tasks.next() != nil {}
            return outcome
        }
        switch status {
        case .COMPLETED?: return
        case .PARTIAL?: throw ExitCode(3)
        case .CANCELLED?, .REJECTED?: throw ExitCode(4)
        case .AWAITING_APPROVAL?: throw ExitCode(5)
        default: throw ExitCode(1)
        }
    }

    /// Submits, follows the workflow with a line per ticket change, prints the result.
    func drive(_ engine: Engine, submission: Submission) async throws -> WorkflowStatus {
        while !engine.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        let outcome: SubmitOutcome
        switch submission {
        case .decision(let decision):
            outcome = try await engine.submit(decision: decision)
        case .plan(let plan):
            guard let started = try await engine.submit(plan: plan, start: true) else {
                throw ValidationError("the plan could not be started")
            }
            outcome = started
        }
        print(
            "workflow \(outcome.workflowId) \(outcome.created ? "started" : "already known"): \(outcome.status.rawValue)"
        )
        let progress = ProgressPrinter()
        var approved = false
        while true {
            guard let state = try await engine.workflow(outcome.workflowId) else {
                throw ValidationError("workflow \(outcome.workflowId) vanished")
            }
            progress.update(state)
            if state.status == .AWAITING_APPROVAL {
                guard approve else {
                    print("workflow parked AWAITING_APPROVAL (decision requires human review); rerun with --approve")
                    return state.status
                }
                if !approved {
                    _ = try await engine.perform(.approve(by: "cli", note: "--approve"), on: outcome.workflowId)
                    approved = true
                    print("approved by --approve")
                }
            }
            if state.status.isTerminal {
                let incidents = try await engine.store.incidents(.init(workflowId: state.workflowId))
                if json {
                    print(try ResultReport(state: state, incidents: incidents).json())
                } else {
                    print(ResultReport(state: state, incidents: incidents).table())
                }
                return state.status
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
