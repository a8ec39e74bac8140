import Foundation
import Synchronization

/// Runs one command with `/bin/sh -c`, keeping the tails of its stdout and stderr.
///
/// Output goes to temporary files rather than pipes, so a chatty command never blocks on a full
/// pipe and nothing has to be read while it runs.
struct ShellRunner: Sendable {
    /// How a command ended.
    struct Result: Sendable, Equatable {
        /// The exit status, or the signal number when ``signaled``.
        var exitCode: Int32
        var signaled: Bool
        var timedOut: Bool
        var stdout: String
        var stderr: String
    }

    var timeoutMs: Int64
    var excerptBytes: Int
    /// Added to the worker's own environment.
    var environment: [String: String]
    /// How long a timed-out command has between SIGTERM and SIGKILL.
    var killGraceMs: Int64 = 2000

    /// Runs `command` to its end, its timeout, or the cancellation of the calling task (which
    /// kills it).
    /// - Throws: when the temporary files cannot be created or the shell cannot start.
    func run(_ command: String) async throws -> Result {
        let files = FileManager.default
        let directory = files.temporaryDirectory.appendingPathComponent("orchestrator-shell-\(UUID().uuidString)")
        try files.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? files.removeItem(at: directory) }
        let stdoutURL = directory.appendingPathComponent("stdout")
        let stderrURL = directory.appendingPathComponent("stderr")
        guard files.createFile(atPath: stdoutURL.path, contents: nil),
            files.createFile(atPath: stderrURL.path, contents: nil)
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory.path])
        }
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        defer { try? stdoutHandle.close() }
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        defer { try? stderrHandle.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        let exited = ExitSignal()
        process.terminationHandler = { _ in exited.fire() }
        try process.run()

        let timedOut = await withTaskCancellationHandler {
            await waitForExit(process, exited: exited)
        } onCancel: {
            Self.signal(process, SIGKILL)
        }
        return Result(
            exitCode: process.terminationStatus,
            signaled: process.terminationReason == .uncaughtSignal,
            timedOut: timedOut,
            stdout: Self.tail(of: stdoutURL, bytes: excerptBytes),
            stderr: Self.tail(of: stderrURL, bytes: excerptBytes)
        )
    }

    private enum Event: Sendable {
        case exited
        case timeout
        case killDeadline
        case timerStopped
    }

    /// Waits until the process has exited; returns whether it was stopped for taking too long.
    private func waitForExit(_ process: Process, exited: ExitSignal) async -> Bool {
        await withTaskGroup(of: Event.self) { group in
            group.addTask {
                await exited.wait()
                return .exited
            }
            group.addTask { await Self.sleep(timeoutMs, then: .timeout) }
            var timedOut = false
            for await event in group {
                switch event {
                case .exited:
                    group.cancelAll()
                    return timedOut
                case .timeout:
                    timedOut = true
                    Self.signal(process, SIGTERM)
                    group.addTask { await Self.sleep(killGraceMs, then: .killDeadline) }
                case .killDeadline:
                    Self.signal(process, SIGKILL)
                case .timerStopped:
                    continue
                }
            }
            return timedOut
        }
    }

    /// Signals the command's process group (Foundation starts the shell as a group leader, and
    /// the process only counts as exited once every process holding its descriptors is gone), and
    /// the shell itself where there is no such group.
    private static func signal(_ process: Process, _ signal: Int32) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        if kill(-pid, signal) != 0 { kill(pid, signal) }
    }

    private static func sleep(_ milliseconds: Int64, then event: Event) async -> Event {
        do {
            try await Task.sleep(for: .milliseconds(milliseconds))
            return event
        } catch {
            return .timerStopped
        }
    }

    /// The last `bytes` bytes of a file as text, without trailing newlines; `…` marks a cut.
    static func tail(of url: URL, bytes: Int) -> String {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(bytes) ? size - UInt64(bytes) : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        var text = String(decoding: data, as: UTF8.self)
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        return start > 0 ? "…" + text : text
    }
}

/// A one-time signal that any number of tasks can wait for.
final class ExitSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state in
                if !state.fired { state.waiters.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}
