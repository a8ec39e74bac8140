import ArgumentParser
import Foundation
import OrchestratorCore

/// `bench core`: C1 validation + C2 ticket generation + C3 scoring time and memory by plan size.
struct CoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Time validation and ticket generation of generated plans (docs/BENCH-WORKLOAD.md generator)."
    )

    @Option(help: "Plan sizes in tasks, comma-separated.")
    var sizes: String = "1000,10000,100000,1000000"

    @Option(help: "DAG shape: random, chain or wide.")
    var shape: BenchWorkload.Shape = .random

    @Option(help: "Generator seed.")
    var seed: UInt64 = 42

    @Option(help: "Runs per size; the table gives the median and the best.")
    var repeats: Int = 3

    @Option(help: "Also write the figures as JSON to this file.")
    var json: String?

    struct Row: Codable {
        var tasks: Int
        var dependencies: Int
        var fingerprint: String
        var validateMedianMs: Double
        var generateMedianMs: Double
        var totalMedianMs: Double
        var totalBestMs: Double
        var tasksPerSecond: Double
        var residentAfterMiB: Double
        var peakResidentMiB: Double
    }

    func run() throws {
        let counts = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes must list positive task counts, e.g. 1000,10000")
        }
        var limits = ValidationLimits()
        limits.maxTasks = max(limits.maxTasks, counts.max()!)
        let validator = PlanValidator(limits: limits)
        let generator = TicketGenerator()
        let allocation = AllocationPolicy()
        var rows: [Row] = []
        print("bench core: shape \(shape.rawValue), seed \(seed), \(repeats) run(s) per size")
        print(
            "tasks      deps       fingerprint       validate   tickets    total(med) total(best) tasks/s      RSS after  peak RSS"
        )
        for n in counts {
            let generated = BenchWorkload.generate(shape: shape, tasks: n, seed: seed)
            let plan = generated.plan(createdAt: 0)
            var validateTimes: [Double] = []
            var generateTimes: [Double] = []
            var produced = 0
            for _ in 0..<max(1, repeats) {
                let clock = ContinuousClock()
                let start = clock.now
                let outcome = validator.validate(plan: plan, now: 0)
                let validated = clock.now
                guard let order = outcome.order else {
                    throw ValidationError("generated plan unexpectedly invalid: \(outcome.report.problems.first!)")
                }
                let context = TicketContext(workflowId: "orch-\(plan.planId)", decisionId: "bench", createdAt: 0)
                let tickets = generator.generate(plan: plan, graph: outcome.graph, order: order, context: context)
                var checksum = 0.0
                for ticket in tickets { checksum += allocation.score(ticket, now: 0) }
                let done = clock.now
                produced = tickets.count + (checksum < 0 ? 1 : 0)
                validateTimes.append(Self.millis(validated - start))
                generateTimes.append(Self.millis(done - validated))
            }
            precondition(produced == n)
            let totals = zip(validateTimes, generateTimes).map { $0 + $1 }
            let median = Self.median(totals)
            let row = Row(
                tasks: n,
                dependencies: generated.dependencyCount,
                fingerprint: generated.fingerprint,
                validateMedianMs: Self.median(validateTimes),
                generateMedianMs: Self.median(generateTimes),
                totalMedianMs: median,
                totalBestMs: totals.min()!,
                tasksPerSecond: Double(n) / (median / 1000),
                residentAfterMiB: Double(ResourceUsage.currentResidentBytes()) / 1_048_576,
                peakResidentMiB: Double(ResourceUsage.peakResidentBytes()) / 1_048_576
            )
            rows.append(row)
            print(
                [
                    String(n).padding(9), String(row.dependencies).padding(9), row.fingerprint.padding(16),
                    Self.fixed(row.validateMedianMs, "ms").padding(9),
                    Self.fixed(row.generateMedianMs, "ms").padding(9),
                    Self.fixed(row.totalMedianMs, "ms").padding(9), Self.fixed(row.totalBestMs, "ms").padding(10),
                    String(Int(row.tasksPerSecond)).padding(11), Self.fixed(row.residentAfterMiB, "MiB").padding(9),
                    Self.fixed(row.peakResidentMiB, "MiB"),
                ].joined(separator: "  ")
            )
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
            print("figures written to \(json)")
        }
    }

    static func millis(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    static func fixed(_ value: Double, _ unit: String) -> String {
        String(format: "%.1f %@", value, unit)
    }
}

extension BenchWorkload.Shape: ExpressibleByArgument {}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
