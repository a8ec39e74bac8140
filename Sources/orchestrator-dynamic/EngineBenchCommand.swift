import ArgumentParser
import Foundation
import Logging
import OrchestratorCore
import OrchestratorEngine
import OrchestratorServer
import OrchestratorStore
import OrchestratorWorker
import ServiceLifecycle

/// `bench engine`: the end-to-end workload of docs/BENCH-WORKLOAD.md on a real SQLite file or a
/// PostgreSQL database (`--database-url`).
struct EngineBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "End-to-end throughput, latency and scale of the engine (docs/BENCH-WORKLOAD.md)."
    )

    enum WorkerMode: String, ExpressibleByArgument, CaseIterable {
        case inProcess = "in-process"
        case http
    }

    @Option(help: "Where workers run: in-process, or http (a separate `worker` process over the REST API).")
    var workers: WorkerMode = .inProcess

    @Option(help: "Concurrent workers (in-process tasks, or slots of the worker process).")
    var concurrency: Int = 64

    @Option(help: "Plans in measurement A.")
    var plans: Int = 200

    @Option(help: "Runs in measurement B.")
    var latencyRuns: Int = 30

    @Option(help: "Tasks of the scale plans in measurement C.")
    var scaleTasks: Int = 1000

    @Option(help: "Work per task: 0 = no-op, otherwise a sleep of this many milliseconds.")
    var taskMs: Int = 0

    @Option(help: "Base seed.")
    var seed: UInt64 = 42

    @Option(help: "HTTP port for --workers http.")
    var port: Int = 18080

    @Option(
        help: """
            Authentication of the API for --workers http: required (the default; the worker sends the \
            admin token) or none, to measure what authentication costs.
            """
    )
    var auth: String = "required"

    @Option(help: "Data directory (default: a new temporary directory).")
    var dataDir: String?

    @Option(
        help: """
            Database: sqlite:PATH or postgres://user:password@host:port/database (default: a SQLite file \
            in the data directory). Workflows of the run are left in the database.
            """
    )
    var databaseURL: String?

    @Option(help: "Most connections of the PostgreSQL store (per replica).")
    var postgresPoolSize: Int = 10

    @Option(
        help: """
            Replicas sharing the PostgreSQL database, run in this process, each with its own engine, \
            connection pool and share of the in-process workers; plans are submitted round-robin.
            """
    )
    var replicas: Int = 1

    @Option(help: "Log level of the engine under test (info measures the cost of lifecycle logs).")
    var logLevel: String = "warning"

    @Option(help: "Log format of the engine under test: json or text (logs go to standard error).")
    var logFormat: String = "text"

    @Option(help: "Also write the figures as JSON to this file.")
    var json: String?

    @Option(help: "Which measurements to run, comma-separated: A,B,C.")
    var only: String = "A,B,C"

    func run() async throws {
        var configuration = ServerConfiguration()
        configuration.storage.dataDir =
            dataDir ?? (NSTemporaryDirectory() + "orchestrator-bench-" + UUID().uuidString.prefix(8))
        configuration.storage.databaseURL = databaseURL
        configuration.storage.postgresPoolSize = postgresPoolSize
        configuration.http.port = port
        configuration.http.host = "127.0.0.1"
        configuration.http.metricsPort = 0
        configuration.auth.mode = auth
        configuration.engine.policies.validation.maxTasks = max(
            configuration.engine.policies.validation.maxTasks,
            scaleTasks
        )
        let logger = try Logs.make("bench", level: logLevel, format: logFormat)
        guard replicas >= 1 else { throw ValidationError("--replicas must be at least 1") }
        if replicas > 1 {
            guard let url = databaseURL, url.hasPrefix("postgres") else {
                throw ValidationError("--replicas \(replicas) needs a PostgreSQL --database-url")
            }
            guard workers == .inProcess else { throw ValidationError("--replicas works with --workers in-process") }
        }
        let servers = try (1...replicas).map { index in
            var own = configuration
            if replicas > 1 {
                own.storage.dataDir = configuration.storage.dataDir + "/replica-\(index)"
                own.storage.replicaId = "bench-\(index)-" + UUID().uuidString.prefix(6).lowercased()
            }
            return try OrchestratorServer(configuration: own, logger: logger, serveHTTP: workers == .http)
        }
        let server = servers[0]
        let group = ServiceGroup(
            configuration: .init(services: servers.flatMap(\.services).map { .init(service: $0) }, logger: logger)
        )
        let runner = BenchRunner(engines: servers.map(\.engine), seed: seed, taskMs: taskMs)
        var report = BenchReport(
            workers: workers.rawValue,
            concurrency: concurrency,
            taskMs: taskMs,
            database: server.storeLocation.description + (replicas > 1 ? " (\(replicas) replicas)" : ""),
            machine: BenchReport.machineDescription()
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while !servers.allSatisfy(\.engine.isRunning) { try await Task.sleep(for: .milliseconds(10)) }
            var workerProcess: Process?
            if workers == .inProcess {
                for (index, replica) in servers.enumerated() {
                    // The workers are split evenly over the replicas.
                    let size = concurrency / replicas + (index < concurrency % replicas ? 1 : 0)
                    let pool = InProcessWorkerPool(
                        engine: replica.engine,
                        size: max(1, size),
                        capabilities: ["*"],
                        executor: ReferenceExecutor(options: ExecutorOptions(allowShell: false, simulationScale: 0)),
                        idPrefix: "bench-\(index + 1)",
                        logger: logger
                    )
                    tasks.addTask { await pool.run() }
                }
            } else {
                workerProcess = try Self.startWorkerProcess(
                    port: port,
                    concurrency: concurrency,
                    tokenFile: auth == "none" ? nil : AuthSetup.adminTokenPath(configuration)
                )
            }
            // The worker process must not outlive a failed measurement.
            defer {
                if let process = workerProcess, process.isRunning {
                    process.terminate()
                    process.waitUntilExit()
                }
            }
            let parts = Set(only.uppercased().split(separator: ",").map(String.init))
            if parts.contains("A") {
                report.throughput = try await runner.throughput(plans: plans)
                print(report.throughput!.line)
            }
            if parts.contains("B") {
                report.latency = try await runner.latency(runs: latencyRuns)
                print(report.latency!.line)
            }
            if parts.contains("C") {
                for shape in BenchWorkload.Shape.allCases {
                    let scale = try await runner.scale(shape: shape, tasks: scaleTasks)
                    report.scale.append(scale)
                    print(scale.line)
                }
            }
            report.serverPeakRSSMiB = Double(ResourceUsage.peakResidentBytes()) / 1_048_576
            if let process = workerProcess {
                report.workerPeakRSSMiB = Self.peakRSS(pid: process.processIdentifier)
            }
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
        }
        print(report.table())
        if let json {
            try WireJSON.encode(report, pretty: true).write(to: URL(fileURLWithPath: json))
            print("figures written to \(json)")
        }
    }

    static func startWorkerProcess(port: Int, concurrency: Int, tokenFile: String?) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
            process.executableURL = Bundle.main.executableURL
        }
        process.arguments =
            [
                "worker", "--url", "http://127.0.0.1:\(port)", "--concurrency", String(concurrency),
                "--simulation-scale", "0", "--worker-id", "bench-http", "--log-level", "warning",
            ] + (tokenFile.map { ["--token-file", $0] } ?? [])
        try process.run()
        return process
    }

    /// VmHWM of a live process, in MiB.
    static func peakRSS(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.split(separator: " ").compactMap { Double($0) }.first
            return digits.map { $0 / 1024 }
        }
        return nil
    }
}
