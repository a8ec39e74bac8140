import Foundation
import OrchestratorCore
import OrchestratorEngine
import OrchestratorWorker
import SQLiteStore

/// A running engine on a real SQLite file, with an in-process worker pool serving it.
struct EngineHarness {
    let engine: Engine
    let pool: InProcessWorkerPool
    let executor: ReferenceExecutor
    private let engineTask: Task<Void, any Error>
    private let poolTask: Task<Void, Never>
    private let directory: URL

    /// Starts the engine and `poolSize` workers with a ``ReferenceExecutor`` at `simulationScale`.
    init(
        poolSize: Int = 2,
        simulationScale: Double = 0.01,
        configure: (inout EngineConfiguration) -> Void = { _ in }
    )
        throws
    {
        directory = try makeTemporaryDirectory()
        let store = try SQLiteWorkflowStore(path: directory.appendingPathComponent("orchestrator.sqlite").path)
        var configuration = EngineConfiguration()
        configuration.policies.execution.initialBackoffMs = 50
        configure(&configuration)
        let engine = Engine(store: store, configuration: configuration, sinks: [], logger: testLogger("engine"))
        self.engine = engine
        engineTask = Task { try await engine.run() }
        executor = ReferenceExecutor(options: ExecutorOptions(simulationScale: simulationScale))
        let pool = InProcessWorkerPool(
            engine: engine,
            size: poolSize,
            executor: executor,
            idPrefix: "test-worker",
            pollWaitMs: 500,
            logger: testLogger("pool")
        )
        self.pool = pool
        poolTask = Task { await pool.run() }
    }

    /// Polls the workflow until it reaches a terminal status; `nil` when `timeout` passes first.
    func waitForEnd(of workflowId: String, timeout: Duration = .seconds(30)) async throws -> WorkflowState? {
        var last: WorkflowState?
        let ended = try await eventually(timeout: timeout) {
            last = try await engine.workflow(workflowId)
            return last?.status.isTerminal == true
        }
        // The engine answers a workflow's state once it is durable, at the same moment as the
        // worker's last report: let the pool finish counting that report.
        _ = await eventually(timeout: .seconds(5)) { pool.counters.inFlight == 0 }
        return ended ? last : nil
    }

    /// Stops the engine while the pool still runs; returns once the pool has noticed and stopped.
    func stopEngineFirst() async {
        engineTask.cancel()
        _ = try? await engineTask.value
        await poolTask.value
        await executor.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Stops the pool, then the engine, and removes the database.
    func stop() async {
        poolTask.cancel()
        await poolTask.value
        engineTask.cancel()
        _ = try? await engineTask.value
        await executor.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A low-risk plan with the given tasks, valid for an hour.
func makePlan(id: String, tasks: [PlanTask]) -> CognitivePlan {
    let now = EpochMillis(Date().timeIntervalSince1970 * 1000)
    return CognitivePlan(
        planId: id,
        intentId: "intent-\(id)",
        tasks: tasks,
        riskBand: .low,
        createdAt: now,
        validUntil: now + 3_600_000
    )
}
