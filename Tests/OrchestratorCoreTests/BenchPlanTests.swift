import Testing

@testable import OrchestratorCore

/// The test support's plan generator reproduces BENCH-WORKLOAD.md's check values, so the plans the
/// scale tests use are the benchmark's.
@Suite struct BenchPlanTests {
    @Test func splitMix64FirstValuesFromSeedZero() {
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(rng.next() == 0x06C4_5D18_8009_454F)
    }

    @Test(
        arguments: [
            (BenchPlan.Shape.random, 10, "2e097ca17fe18549"),
            (.random, 1000, "533722745a5130c2"),
            (.chain, 10, "d186804e12cb1886"),
            (.wide, 1000, "39067fd3cab956b4"),
        ]
    )
    func fingerprintMatchesTheCheckValue(shape: BenchPlan.Shape, count: Int, fingerprint: String) {
        #expect(BenchPlan(shape: shape, count: count, seed: 42).fingerprint == fingerprint)
    }

    @Test func randomPlanDependencyCountsAndLongestChain() {
        #expect(BenchPlan(shape: .random, count: 10, seed: 42).dependencyCount == 13)
        let thousand = BenchPlan(shape: .random, count: 1000, seed: 42)
        #expect(thousand.dependencyCount == 1515)
        #expect(thousand.longestChain == 20)
    }

    @Test func chainAndWideShapes() {
        let chain = BenchPlan(shape: .chain, count: 5, seed: 1)
        #expect(chain.dependencies == [[], [0], [1], [2], [3]])
        #expect(chain.longestChain == 5)
        let wide = BenchPlan(shape: .wide, count: 4, seed: 1)
        #expect(wide.dependencies == [[], [0], [0], [0]])
        #expect(wide.longestChain == 2)
    }
}
