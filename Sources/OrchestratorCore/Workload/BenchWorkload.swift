/// The benchmark plan generator of docs/BENCH-WORKLOAD.md, reproduced exactly so figures can be
/// compared with other engines running the same plans (the fingerprint proves it).
public struct BenchWorkload: Sendable {
    /// DAG shapes.
    public enum Shape: String, Sendable, CaseIterable, Codable {
        case random, chain, wide
    }

    /// One generated plan before it becomes a ``CognitivePlan``.
    public struct Generated: Sendable {
        public var planId: String
        public var risks: [RiskBand]
        /// Parent indices of each task, ascending.
        public var dependencies: [[Int]]

        public var dependencyCount: Int { dependencies.reduce(0) { $0 + $1.count } }

        /// FNV-1a 64 over `i:risk:d1,d2,…;` for every task, as 16 hex digits.
        public var fingerprint: String {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            func feed(_ text: String) {
                for byte in text.utf8 {
                    hash ^= UInt64(byte)
                    hash &*= 0x0000_0100_0000_01B3
                }
            }
            for i in risks.indices {
                feed("\(i):\(risks[i].rawValue):")
                feed(dependencies[i].map(String.init).joined(separator: ","))
                feed(";")
            }
            let hex = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }

        /// The number of tasks on the longest dependency chain.
        public var longestChain: Int {
            var depth = [Int](repeating: 1, count: risks.count)
            for i in risks.indices {
                for p in dependencies[i] { depth[i] = max(depth[i], depth[p] + 1) }
            }
            return depth.max() ?? 0
        }

        /// The plan: task `i` is `task-i` with no-op work (`parameters.work = noop`, or a fixed
        /// sleep of `taskMillis`), risk band of the plan = the highest task risk.
        public func plan(taskMillis: Int = 0, createdAt: EpochMillis = 0) -> CognitivePlan {
            let tasks = risks.indices.map { i in
                PlanTask(
                    taskId: "task-\(i)",
                    taskType: "EXECUTE",
                    description: "bench task \(i)",
                    dependencies: dependencies[i].map { "task-\($0)" },
                    estimatedDurationMs: Int64(taskMillis),
                    parameters: taskMillis > 0 ? ["work": "sleep", "sleep_ms": String(taskMillis)] : ["work": "noop"],
                    metadata: ["risk": risks[i].rawValue]
                )
            }
            var plan = CognitivePlan(
                planId: planId,
                intentId: "intent-\(planId)",
                tasks: tasks,
                riskScore: 0.5,
                riskBand: risks.max() ?? .low,
                createdAt: createdAt,
                originalDomain: "TECHNICAL",
                originalPriority: "NORMAL",
                originalSecurityLevel: "INTERNAL"
            )
            plan.metadata = ["workload": "bench", "fingerprint": fingerprint]
            return plan
        }
    }

    public static let bands: [RiskBand] = [.low, .medium, .high, .critical]

    /// Generates one plan. For the k-th plan of a batch (`batchIndex` = k) the generator is seeded
    /// with `seed + k` and the id gets the suffix `-p<k>`; `seed` is the batch's base seed.
    public static func generate(shape: Shape, tasks n: Int, seed: UInt64, batchIndex: Int? = nil) -> Generated {
        var rng = SplitMix64(seed: seed &+ UInt64(batchIndex ?? 0))
        var risks: [RiskBand] = []
        risks.reserveCapacity(n)
        var dependencies: [[Int]] = []
        dependencies.reserveCapacity(n)
        for i in 0..<n {
            risks.append(bands[rng.below(4)])
            switch shape {
            case .random:
                guard i > 0 else {
                    dependencies.append([])
                    continue
                }
                let k = rng.below(min(i, 3) + 1)
                var picked: [Int] = []
                while picked.count < k {
                    let j = rng.below(i)
                    if !picked.contains(j) { picked.append(j) }
                }
                dependencies.append(picked.sorted())
            case .chain:
                dependencies.append(i > 0 ? [i - 1] : [])
            case .wide:
                dependencies.append(i > 0 ? [0] : [])
            }
        }
        var planId = "\(shape.rawValue)-n\(n)-s\(seed)"
        if let batchIndex { planId += "-p\(batchIndex)" }
        return Generated(planId: planId, risks: risks, dependencies: dependencies)
    }
}
