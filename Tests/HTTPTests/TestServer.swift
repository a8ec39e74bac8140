import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OrchestratorCore
import OrchestratorEngine
import OrchestratorHTTP
import Prometheus
import SQLiteStore

/// A real engine on a temporary SQLite file, running in the background, with the API in front
/// of it. Metrics the engine records go to `registry` (a task-local factory: no global bootstrap).
struct TestServer {
    let engine: Engine
    let store: SQLiteWorkflowStore
    let registry: PrometheusCollectorRegistry
    let options: HTTPOptions
    /// Who may call the API; `.none` (no checks) unless a test is about authentication.
    var access: AccessControl = .none

    var application: some ApplicationProtocol {
        Application(
            router: buildRouter(engine: engine, options: options, metrics: registry, access: access),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            logger: quietLogger
        )
    }

    /// Runs `body` against a fresh server; stops the engine and removes the database afterwards.
    static func with<T>(
        options: HTTPOptions = HTTPOptions(version: "9.9.9-test"),
        configuration: EngineConfiguration = EngineConfiguration(),
        start: Bool = true,
        _ body: (TestServer) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("http-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteWorkflowStore(path: directory.appendingPathComponent("orchestrator.sqlite").path)
        let engine = Engine(store: store, configuration: configuration, logger: quietLogger)
        let registry = PrometheusCollectorRegistry()
        let server = TestServer(engine: engine, store: store, registry: registry, options: options)
        guard start else { return try await body(server) }
        let running = withMetricsFactory(PrometheusMetricsFactory(registry: registry)) {
            Task { try await engine.run() }
        }
        let outcome: Result<T, any Error>
        do {
            try await waitUntil("the engine runs", seconds: 60) { engine.isRunning }
            outcome = .success(try await body(server))
        } catch {
            outcome = .failure(error)
        }
        running.cancel()
        _ = await running.result
        await store.close()
        return try outcome.get()
    }
}

let quietLogger = Logger(label: "http-tests") { _ in SwiftLogNoOpLogHandler() }

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting until \(what)" }
}

/// Polls `condition` every 10 ms for up to `seconds`. The ceiling is generous: the whole test
/// suite runs in parallel on the machine's cores, and the CPU-heavy core tests (100 000-task
/// plans) can hold them for several seconds.
func waitUntil(_ what: String, seconds: Double = 60, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw TimedOut(what: what)
}

extension EngineConfiguration {
    /// Leases of `leaseTtlMs`, retries after `backoffMs`.
    static func leases(ttlMs: Int64, backoffMs: Int64 = 1000) -> EngineConfiguration {
        var configuration = EngineConfiguration()
        configuration.policies.execution.leaseTtlMs = ttlMs
        configuration.policies.execution.initialBackoffMs = backoffMs
        return configuration
    }
}
