import Testing

@testable import OrchestratorCore

/// C3: priority score, dispatch order, capability matching.
@Suite struct AllocationPolicyTests {
    static func ticket(
        _ id: String,
        band: RiskBand = .medium,
        qos: QoS = QoS(deliveryMode: .AT_LEAST_ONCE, consistency: .EVENTUAL, durability: .PERSISTENT),
        createdAt: EpochMillis = 0,
        deadline: EpochMillis = 1_000,
        capabilities: [String] = []
    ) -> ExecutionTicket {
        ExecutionTicket(
            ticketId: id,
            planId: "p",
            intentId: "i",
            decisionId: "d",
            taskId: id,
            taskType: .EXECUTE,
            description: "",
            dependencies: [],
            priority: .NORMAL,
            riskBand: band,
            sla: SLA(deadline: deadline, timeoutMs: 60_000, maxRetries: 1),
            qos: qos,
            requiredCapabilities: capabilities,
            securityLevel: .INTERNAL,
            createdAt: createdAt
        )
    }

    /// Expected values computed by hand from 0.4·risk_w + 0.3·qos_w + 0.3·sla_urgency, with the
    /// ticket's window 0 → 1 000 ms.
    @Test(
        arguments: [
            // 0.4·1.0 + 0.3·1.0 + 0.3·0.3
            (RiskBand.critical, DeliveryMode.EXACTLY_ONCE, Consistency.STRONG, Durability.PERSISTENT, 0, 0.79),
            // 0.4·0.7 + 0.3·1.0 + 0.3·0.7
            (.high, .EXACTLY_ONCE, .STRONG, .PERSISTENT, 600, 0.79),
            // 0.4·0.5 + 0.3·(0.7·0.85) + 0.3·0.3
            (.medium, .AT_LEAST_ONCE, .EVENTUAL, .PERSISTENT, 0, 0.4685),
            // 0.4·0.3 + 0.3·(0.7·1.0·0.9) + 0.3·1.0
            (.low, .AT_LEAST_ONCE, .STRONG, .TRANSIENT, 850, 0.609),
            // 0.4·0.3 + 0.3·(0.5·0.85·0.9) + 0.3·1.0 (past the deadline)
            (.low, .AT_MOST_ONCE, .EVENTUAL, .TRANSIENT, 1_500, 0.53475),
            // 0.4·1.0 + 0.3·(1.0·0.85·1.0) + 0.3·0.7
            (.critical, .EXACTLY_ONCE, .EVENTUAL, .PERSISTENT, 500, 0.865),
        ] as [(RiskBand, DeliveryMode, Consistency, Durability, EpochMillis, Double)]
    )
    func score(
        band: RiskBand,
        delivery: DeliveryMode,
        consistency: Consistency,
        durability: Durability,
        now: EpochMillis,
        expected: Double
    ) {
        let qos = QoS(deliveryMode: delivery, consistency: consistency, durability: durability)
        let score = AllocationPolicy().score(Self.ticket("t", band: band, qos: qos), now: now)
        #expect(isClose(score, expected), "\(score) != \(expected)")
    }

    @Test(
        arguments: [
            (DeliveryMode.EXACTLY_ONCE, Consistency.STRONG, Durability.PERSISTENT, 1.0),
            (.EXACTLY_ONCE, .STRONG, .TRANSIENT, 0.9),
            (.AT_LEAST_ONCE, .STRONG, .PERSISTENT, 0.7),
            (.AT_LEAST_ONCE, .EVENTUAL, .PERSISTENT, 0.595),
            (.AT_MOST_ONCE, .STRONG, .PERSISTENT, 0.5),
            (.AT_MOST_ONCE, .EVENTUAL, .TRANSIENT, 0.3825),
        ]
    )
    func qosFactor(delivery: DeliveryMode, consistency: Consistency, durability: Durability, expected: Double) {
        let qos = QoS(deliveryMode: delivery, consistency: consistency, durability: durability)
        #expect(isClose(AllocationPolicy().qosFactor(qos), expected))
    }

    @Test(
        arguments: [
            (0, 1_000, 0, 0.3),
            (0, 1_000, 499, 0.3),
            (0, 1_000, 500, 0.7),
            (0, 1_000, 799, 0.7),
            (0, 1_000, 800, 1.0),
            (0, 1_000, 999, 1.0),
            (0, 1_000, 1_000, 1.0),
            (0, 1_000, 50_000, 1.0),
            (1_000, 2_000, 0, 0.3),
            (1_000, 1_000, 0, 1.0),
            (2_000, 1_000, 0, 1.0),
        ] as [(EpochMillis, EpochMillis, EpochMillis, Double)]
    )
    func urgencyThresholds(createdAt: EpochMillis, deadline: EpochMillis, now: EpochMillis, expected: Double) {
        #expect(AllocationPolicy().urgency(createdAt: createdAt, deadline: deadline, now: now) == expected)
    }

    @Test func riskFactorsByBand() {
        let factors = AllocationPolicy().riskFactor
        #expect(RiskBand.allCases.map { factors[$0] } == [0.3, 0.5, 0.7, 1.0])
    }

    @Test func orderIsByScoreThenDeadlineThenId() {
        let strong = QoS(deliveryMode: .EXACTLY_ONCE, consistency: .STRONG, durability: .PERSISTENT)
        let ready = [
            Self.ticket("low", band: .low, deadline: 5_000),
            Self.ticket("tie-b", deadline: 9_000),
            Self.ticket("med-late", deadline: 9_000),
            Self.ticket("crit", band: .critical, qos: strong, deadline: 5_000),
            Self.ticket("late-low", band: .low, deadline: 100),
            Self.ticket("tie-a", deadline: 9_000),
            Self.ticket("med-early", deadline: 3_000),
        ]
        let ordered = AllocationPolicy().order(ready, now: 200).map(\.ticketId)
        #expect(ordered == ["crit", "late-low", "med-early", "med-late", "tie-a", "tie-b", "low"])
    }

    @Test func urgencyChangesTheOrderOverTime() {
        let early = Self.ticket("medium-fresh", band: .medium, createdAt: 0, deadline: 100_000)
        let late = Self.ticket("low-urgent", band: .low, createdAt: 0, deadline: 1_000)
        let policy = AllocationPolicy()
        #expect(policy.order([late, early], now: 0).map(\.ticketId) == ["medium-fresh", "low-urgent"])
        #expect(policy.order([early, late], now: 900).map(\.ticketId) == ["low-urgent", "medium-fresh"])
    }

    @Test(
        arguments: [
            ([], [], true),
            ([], ["python"], true),
            (["python"], [], false),
            (["python"], ["python", "docker"], true),
            (["python", "docker"], ["python"], false),
            (["python", "docker"], ["docker", "python"], true),
            (["Python"], ["PYTHON"], true),
            (["python", "k8s"], ["*"], true),
            (["python"], ["java", "*"], true),
            (["python"], ["pyth"], false),
        ] as [([String], [String], Bool)]
    )
    func capabilityMatching(required: [String], offered: [String], matches: Bool) {
        #expect(AllocationPolicy.matches(required: required, offered: offered) == matches)
    }

    @Test func selectTakesTheBestTicketTheWorkerCanRun() {
        let ready = [
            Self.ticket("gpu-critical", band: .critical, capabilities: ["gpu"]),
            Self.ticket("python-high", band: .high, capabilities: ["python"]),
            Self.ticket("python-low", band: .low, capabilities: ["Python"]),
            Self.ticket("anyone-low", band: .low),
        ]
        let policy = AllocationPolicy()
        #expect(policy.select(from: ready, capabilities: ["python"], now: 0)?.ticketId == "python-high")
        #expect(policy.select(from: ready, capabilities: ["go"], now: 0)?.ticketId == "anyone-low")
        #expect(policy.select(from: ready, capabilities: ["*"], now: 0)?.ticketId == "gpu-critical")
        #expect(policy.select(from: Array(ready.prefix(3)), capabilities: ["go"], now: 0) == nil)
        #expect(policy.select(from: [], capabilities: ["*"], now: 0) == nil)
    }

    @Test func customWeightsAreUsed() {
        var policy = AllocationPolicy()
        policy.riskWeight = 1
        policy.qosWeight = 0
        policy.urgencyWeight = 0
        policy.riskFactor[.medium] = 0.42
        #expect(policy.score(Self.ticket("t"), now: 0) == 0.42)
    }
}
