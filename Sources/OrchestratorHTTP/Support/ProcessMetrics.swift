import Foundation
import Prometheus
import Synchronization

/// The standard `process_*` series (resident and virtual memory, CPU seconds, open and maximum
/// file descriptors, start time), read from `/proc/self` each time `/metrics` is scraped and set
/// in the registry being scraped.
///
/// Ours: swift-prometheus has no process collector, and these are a few reads of `/proc`.
enum ProcessMetrics {
    /// The process's start time (seconds since the epoch): read once, it does not change.
    private static let startTime: Double? = {
        guard let stat = stat(), stat.count > 19, let ticks = Double(stat[19]), let bootTime = bootTime() else {
            return nil
        }
        return bootTime + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }()

    /// CPU seconds already added to each registry's counter.
    private static let reportedCPU = Mutex<[ObjectIdentifier: Double]>([:])

    static func update(_ registry: PrometheusCollectorRegistry) {
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = stat(), stat.count > 21 {
            let seconds = ((Double(stat[11]) ?? 0) + (Double(stat[12]) ?? 0)) / ticksPerSecond
            let delta = reportedCPU.withLock { reported -> Double in
                let before = reported[ObjectIdentifier(registry), default: 0]
                let delta = max(0, seconds - before)
                reported[ObjectIdentifier(registry)] = before + delta
                return delta
            }
            registry.makeCounter(descriptor: name("process_cpu", "seconds_total", "User and system CPU time spent"))
                .increment(by: delta)
            registry.makeGauge(descriptor: name("process_virtual_memory", "bytes", "Virtual memory size"))
                .set(Double(stat[20]) ?? 0)
            registry.makeGauge(descriptor: name("process_resident_memory", "bytes", "Resident memory size"))
                .set((Double(stat[21]) ?? 0) * Double(sysconf(Int32(_SC_PAGESIZE))))
            if let startTime {
                registry.makeGauge(
                    descriptor: name("process_start_time", "seconds", "Start time of the process since the epoch")
                )
                .set(startTime)
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            registry.makeGauge(descriptor: name("process_open", "fds", "Open file descriptors"))
                .set(Double(entries.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            registry.makeGauge(descriptor: name("process_max", "fds", "Maximum number of open file descriptors"))
                .set(Double(limit.rlim_cur))
        }
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: metric, unitName: unit, helpText: help)
    }

    /// The fields of `/proc/self/stat` after the command name: index 0 is the state (field 3 of
    /// proc(5)), so field N is at N - 3.
    private static func stat() -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// The boot time in seconds since the epoch (`btime` of `/proc/stat`).
    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
