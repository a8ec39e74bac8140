import Foundation
import Logging
import OrchestratorCore

/// A ticket for executor tests.
func makeTicket(
    id: String = "ticket-1",
    type: TaskType = .EXECUTE,
    parameters: [String: String] = [:],
    retryCount: Int = 0
) -> ExecutionTicket {
    ExecutionTicket(
        ticketId: id,
        planId: "plan-1",
        intentId: "intent-1",
        decisionId: "decision-1",
        taskId: "task-\(id)",
        taskType: type,
        description: "a test ticket",
        dependencies: [],
        priority: .NORMAL,
        riskBand: .low,
        sla: SLA(deadline: 0, timeoutMs: 60_000, maxRetries: 1),
        qos: QoS(deliveryMode: .AT_LEAST_ONCE, consistency: .EVENTUAL, durability: .PERSISTENT),
        parameters: parameters,
        securityLevel: .INTERNAL,
        createdAt: 0,
        retryCount: retryCount
    )
}

/// A quiet logger for tests (warnings and errors only).
func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("worker-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The repository root (three levels above this file).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Waits until `condition` holds, checking every 20 ms; false when `timeout` passes first.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
