import Foundation

/// The figures of `bench engine`, as a table and as JSON.
struct BenchReport: Encodable {
    var workers: String
    var concurrency: Int
    var taskMs: Int
    var database: String
    var machine: String
    var throughput: Throughput?
    var latency: Latency?
    var scale: [Scale] = []
    var serverPeakRSSMiB: Double = 0
    var workerPeakRSSMiB: Double?

    struct Throughput: Encodable {
        var plans: Int
        var tickets: Int
        var seconds: Double
        var plansPerSecond: Double
        var ticketsPerSecond: Double
        var firstFingerprint: String
        var statuses: [String: Int]

        var line: String {
            String(
                format:
                    "A throughput: %d plans / %d tickets in %.3f s = %.1f plans/s, %.0f tickets/s (fingerprint p0 %@)",
                plans,
                tickets,
                seconds,
                plansPerSecond,
                ticketsPerSecond,
                firstFingerprint
            )
        }
    }

    struct Latency: Encodable {
        var runs: Int
        var completionP50Ms: Double
        var completionP99Ms: Double
        var dispatchP50Ms: Double
        var dispatchP99Ms: Double
        var fingerprint: String

        var line: String {
            String(
                format:
                    "B latency (10-task chain x %d): completion p50 %.0f ms p99 %.0f ms; dispatch p50 %.0f ms p99 %.0f ms",
                runs,
                completionP50Ms,
                completionP99Ms,
                dispatchP50Ms,
                dispatchP99Ms
            )
        }
    }

    struct Scale: Encodable {
        var shape: String
        var tasks: Int
        var dependencies: Int
        var longestChain: Int
        var fingerprint: String
        var totalMs: Double
        var status: String
        var dispatchP50Ms: Double
        var dispatchP99Ms: Double

        var line: String {
            String(
                format: "C scale %@ n=%d (%d deps, chain %d, fp %@): %.0f ms %@; dispatch p50 %.0f ms p99 %.0f ms",
                shape,
                tasks,
                dependencies,
                longestChain,
                fingerprint,
                totalMs,
                status,
                dispatchP50Ms,
                dispatchP99Ms
            )
        }
    }

    func table() -> String {
        var lines = ["", "bench engine: workers \(workers) x\(concurrency), task work \(taskMs) ms, \(machine)"]
        lines.append("database \(database)")
        if let throughput { lines.append(throughput.line) }
        if let latency { lines.append(latency.line) }
        for scale in scale { lines.append(scale.line) }
        var memory = String(format: "D peak RSS: server %.1f MiB", serverPeakRSSMiB)
        if let workerPeakRSSMiB { memory += String(format: ", HTTP worker process %.1f MiB", workerPeakRSSMiB) }
        lines.append(memory)
        return lines.joined(separator: "\n")
    }

    static func machineDescription() -> String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        var model = "unknown CPU"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
        {
            model =
                line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? model
        }
        return String(format: "%d cores, %.0f GiB, %@", cores, memory, model)
    }
}
