import Foundation
import Prometheus
import Synchronization

/// The standard `process_*` series (resident and virtual memory, CPU seconds, open and maximum
/// file descriptors, start time), read from `/proc/self` each time `/metrics` is scraped and set
/// in the registry being scraped.
///
/// Ours: swift-prometheus has no process collector, and these are a few reads of `/proc`.
enum ProcessMetrics {
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
            registry.makeCounter(name: "process_cpu_seconds_total").increment(by: delta)
            registry.makeGauge(name: "process_virtual_memory_bytes").set(Double(stat[20]) ?? 0)
            registry.makeGauge(name: "process_resident_memory_bytes").set(
                (Double(stat[21]) ?? 0) * Double(sysconf(Int32(_SC_PAGESIZE)))
            )
            if let ticks = Double(stat[19]), let bootTime = bootTime() {
                registry.makeGauge(name: "process_start_time_seconds").set(bootTime + ticks / ticksPerSecond)
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            registry.makeGauge(name: "process_open_fds").set(Double(entries.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            registry.makeGauge(name: "process_max_fds").set(Double(limit.rlim_cur))
        }
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
