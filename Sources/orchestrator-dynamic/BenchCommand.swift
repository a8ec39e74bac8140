import ArgumentParser

/// `bench`: the benchmarks behind docs/BENCHMARKS.md.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark and print its figures (table and JSON).",
        subcommands: [CoreBenchCommand.self, EngineBenchCommand.self, IsolationBenchCommand.self]
    )
}
