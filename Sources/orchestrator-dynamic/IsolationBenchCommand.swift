import ArgumentParser
import Foundation
import Logging
import OrchestratorCore
import OrchestratorEngine
import OrchestratorServer
import OrchestratorStore
import OrchestratorWorker
import ServiceLifecycle
import Synchronization

/// `bench isolation`: whether one huge workflow hurts the others (docs/BENCHMARKS.md).
///
/// - S, the SLA-deadline storm: a plan of `--storm-tasks` tasks that no worker can run, whose
///   deadlines all pass at about the same instant; measured until every SLA incident is raised.
/// - L, the large chain plan: `--chains` chains of `--chain-length` no-op tasks worked by the
///   in-process workers; measured until it completes.
///
/// Meanwhile a small unrelated plan is submitted every `--probe-interval-ms`, and the time until
/// its submission is answered (durably accepted) is recorded; the resident set size is sampled.
struct IsolationBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isolation",
        abstract: "An unrelated submission's latency and the memory while a huge workflow is worked."
    )

    @Option(help: "Which measurements to run, comma-separated: S (SLA storm), L (large chain plan).")
    var only: String = "S,L"

    @Option(help: "Tasks of the storm plan.")
    var stormTasks: Int = 10_000

    @Option(
        help: """
            The storm plan's task estimate and minimum timeout in milliseconds (its deadlines pass about \
            this long after acceptance); 0 keeps the default ticket policy (60 s).
            """
    )
    var stormDeadlineMs: Int64 = 1000

    @Option(help: "Chains of the large plan.")
    var chains: Int = 1000

    @Option(help: "No-op tasks per chain of the large plan.")
    var chainLength: Int = 100

    @Option(help: "In-process workers for the large plan.")
    var concurrency: Int = 64

    @Option(help: "Milliseconds between two unrelated submissions.")
    var probeIntervalMs: Int = 50

    @Option(help: "Data directory (default: a new temporary directory).")
    var dataDir: String?

    @Option(help: "Also write the figures as JSON to this file.")
    var json: String?

    func run() async throws {
        let parts = Set(only.uppercased().split(separator: ",").map(String.init))
        var results: [IsolationFigures] = []
        if parts.contains("S") { results.append(try await storm()) }
        if parts.contains("L") { results.append(try await largeChain()) }
        for figures in results { print(figures.line) }
        if let json {
            try WireJSON.encode(results, pretty: true).write(to: URL(fileURLWithPath: json))
            print("figures written to \(json)")
        }
    }

    /// S: every deadline of a plan nobody can run passes at once.
    func storm() async throws -> IsolationFigures {
        var configuration = serverConfiguration("storm")
        if stormDeadlineMs > 0 {
            configuration.engine.policies.tickets.minTimeoutMs = stormDeadlineMs
            configuration.engine.policies.tickets.timeoutMultiplier = 1
        }
        configuration.engine.policies.validation.maxTasks = max(stormTasks, 1)
        let estimate = stormDeadlineMs > 0 ? stormDeadlineMs : 1000
        let tasks = (0..<stormTasks).map {
            PlanTask(
                taskId: "t\($0)",
                taskType: "noop",
                estimatedDurationMs: estimate,
                requiredCapabilities: ["nobody"]
            )
        }
        let expected = stormTasks
        return try await measure("S storm", configuration: configuration, workers: 0, tasks: tasks) { progress in
            progress.incidents >= expected
        }
    }

    /// L: a plan of many long chains, worked by in-process workers.
    func largeChain() async throws -> IsolationFigures {
        var configuration = serverConfiguration("chains")
        configuration.engine.policies.validation.maxTasks = max(chains * chainLength, 1)
        var tasks: [PlanTask] = []
        tasks.reserveCapacity(chains * chainLength)
        for chain in 0..<chains {
            for step in 0..<chainLength {
                tasks.append(
                    PlanTask(
                        taskId: "c\(chain)-\(step)",
                        taskType: "noop",
                        dependencies: step == 0 ? [] : ["c\(chain)-\(step - 1)"],
                        parameters: ["work": "noop"]
                    )
                )
            }
        }
        return try await measure("L chains", configuration: configuration, workers: concurrency, tasks: tasks) {
            $0.finalStatus != nil
        }
    }

    func serverConfiguration(_ name: String) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.storage.dataDir =
            (dataDir ?? NSTemporaryDirectory() + "orchestrator-isolation-" + UUID().uuidString.prefix(8)) + "/" + name
        configuration.http.metricsPort = 0
        return configuration
    }

    /// Accepts the big plan, then probes with small plans until `done` holds for the big workflow.
    func measure(
        _ name: String,
        configuration: ServerConfiguration,
        workers: Int,
        tasks: [PlanTask],
        done: @escaping @Sendable (FeedProgress) -> Bool
    ) async throws -> IsolationFigures {
        let logger = try Logs.make("bench", level: "warning", format: "text")
        let server = try OrchestratorServer(configuration: configuration, logger: logger, serveHTTP: false)
        let group = ServiceGroup(
            configuration: .init(services: server.services.map { .init(service: $0) }, logger: logger)
        )
        let engine = server.engine
        return try await withThrowingTaskGroup(of: Void.self) { running in
            running.addTask { try await group.run() }
            while !engine.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            if workers > 0 {
                let pool = InProcessWorkerPool(
                    engine: engine,
                    size: workers,
                    capabilities: ["*"],
                    executor: ReferenceExecutor(options: ExecutorOptions(allowShell: false, simulationScale: 0)),
                    idPrefix: "isolation",
                    logger: logger
                )
                running.addTask { await pool.run() }
            }
            let sampler = MemorySampler()
            let sampling = Task { await sampler.run() }
            defer { sampling.cancel() }
            let now = SystemClock().nowMillis()
            let planId = "big-\(UUID().uuidString.prefix(6))"
            // Progress is read from the live feed: asking the engine for a 100 000-ticket state
            // every round would itself load it.
            let progress = FeedWatcher(feed: engine.feed.subscribe(buffer: 1 << 20), planId: planId)
            let watching = Task { await progress.run() }
            defer { watching.cancel() }
            let plan = CognitivePlan(
                planId: planId,
                intentId: "isolation",
                tasks: tasks,
                riskBand: .low,
                createdAt: now,
                validUntil: now + 86_400_000
            )
            let clock = ContinuousClock()
            let acceptStart = clock.now
            guard let big = try await engine.submit(plan: plan, start: true) else {
                throw ValidationError("the big plan was not started")
            }
            let acceptSeconds = seconds(clock.now - acceptStart)
            let start = clock.now
            var probes: [Double] = []
            var probeIndex = 0
            while !done(progress.current) {
                probeIndex += 1
                let small = CognitivePlan(
                    planId: "probe-\(big.workflowId)-\(probeIndex)",
                    intentId: "probe",
                    tasks: [PlanTask(taskId: "a", taskType: "noop", requiredCapabilities: ["nobody"])],
                    riskBand: .low,
                    createdAt: SystemClock().nowMillis(),
                    validUntil: SystemClock().nowMillis() + 86_400_000
                )
                let sent = clock.now
                _ = try await engine.submit(plan: small, start: true)
                probes.append(seconds(clock.now - sent) * 1000)
                try await Task.sleep(for: .milliseconds(probeIntervalMs))
            }
            let workedSeconds = seconds(clock.now - start)
            await group.triggerGracefulShutdown()
            running.cancelAll()
            return IsolationFigures(
                name: name,
                tasks: tasks.count,
                acceptSeconds: acceptSeconds,
                workedSeconds: workedSeconds,
                finalStatus: progress.current.finalStatus ?? "not finished",
                incidents: progress.current.incidents,
                probes: probes.count,
                probeP50Ms: BenchRunner.percentile(probes, 50),
                probeP99Ms: BenchRunner.percentile(probes, 99),
                probeMaxMs: probes.max() ?? 0,
                peakRSSMiB: Double(sampler.peak) / 1_048_576,
                processPeakRSSMiB: Double(ResourceUsage.peakResidentBytes()) / 1_048_576
            )
        }
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The figures of one isolation measurement.
struct IsolationFigures: Codable {
    var name: String
    var tasks: Int
    var acceptSeconds: Double
    var workedSeconds: Double
    var finalStatus: String
    var incidents: Int
    var probes: Int
    var probeP50Ms: Double
    var probeP99Ms: Double
    var probeMaxMs: Double
    /// Largest resident set size sampled (every 50 ms) during this measurement.
    var peakRSSMiB: Double
    /// The process's peak since it started (getrusage): includes earlier measurements of the run.
    var processPeakRSSMiB: Double

    var line: String {
        String(
            format:
                "%@: %d tasks accepted in %.2f s, worked %.1f s (%@, %d incidents); unrelated submission p50 %.1f ms, "
                + "p99 %.1f ms, max %.1f ms over %d; peak RSS %.0f MiB sampled, %.0f MiB process",
            name,
            tasks,
            acceptSeconds,
            workedSeconds,
            finalStatus,
            incidents,
            probeP50Ms,
            probeP99Ms,
            probeMaxMs,
            probes,
            peakRSSMiB,
            processPeakRSSMiB
        )
    }
}

/// Samples the resident set size every 50 ms and keeps the largest.
final class MemorySampler: Sendable {
    private let largest = Mutex<Int>(0)
    var peak: Int { largest.withLock { $0 } }

    func run() async {
        while !Task.isCancelled {
            let current = ResourceUsage.currentResidentBytes()
            largest.withLock { $0 = max($0, current) }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// What the live feed has shown of the big workflow so far.
struct FeedProgress: Sendable {
    var incidents = 0
    var finalStatus: String?
}

/// Counts the big workflow's incidents and notes its final frame, from the engine's live feed.
final class FeedWatcher: Sendable {
    let feed: AsyncStream<StoredOutboxMessage>
    let planId: String
    private let progress = Mutex(FeedProgress())

    init(feed: AsyncStream<StoredOutboxMessage>, planId: String) {
        self.feed = feed
        self.planId = planId
    }

    var current: FeedProgress { progress.withLock { $0 } }

    func run() async {
        for await stored in feed where stored.message.workflowId.hasSuffix(planId) {
            switch stored.message.topic {
            case .incidents:
                progress.withLock { $0.incidents += 1 }
            case .telemetryFrames:
                let status = (try? JSONDecoder().decode(TelemetryFrame.self, from: Data(stored.message.payload.utf8)))?
                    .status
                progress.withLock { $0.finalStatus = status ?? "?" }
            default:
                break
            }
        }
    }
}
