import Foundation
import Testing

@testable import OrchestratorCore

/// C2: tickets from a validated plan with the default ``TicketPolicy`` (and a custom one).
@Suite struct TicketGeneratorTests {
    static func fixtureTickets() throws -> [ExecutionTicket] {
        let decision = try Fixture.decision()
        let plan = try #require(decision.cognitivePlan.plan)
        let outcome = PlanValidator().validate(decision: decision, plan: plan, now: Fixture.now)
        let order = try #require(outcome.order)
        let context = TicketContext(
            workflowId: TicketContext.workflowId(planId: decision.planId),
            decisionId: decision.decisionId,
            correlationId: decision.correlationId,
            traceId: decision.traceId,
            spanId: decision.spanId,
            createdAt: Fixture.now
        )
        return TicketGenerator().generate(plan: plan, graph: outcome.graph, order: order, context: context)
    }

    static let fixtureWorkflow = "orch-6f1c2a9e-1111-4c1d-9a7e-000000000001"

    @Test func fixtureTicketsInDependencyOrder() throws {
        let tickets = try Self.fixtureTickets()
        #expect(tickets.map(\.taskId) == Fixture.taskIds)
        #expect(tickets.map(\.taskType) == [.VALIDATE, .BUILD, .TEST, .DEPLOY])
        let ids = Fixture.taskIds.map { TicketID.ticket(workflowId: Self.fixtureWorkflow, taskId: $0) }
        #expect(tickets.map(\.ticketId) == ids)
        #expect(tickets.map(\.dependencies) == [[], [ids[0]], [ids[1]], [ids[2]]])
    }

    @Test func fixtureTicketsCarryThePlansPriorityBandAndSecurity() throws {
        for ticket in try Self.fixtureTickets() {
            #expect(ticket.priority == .HIGH)
            #expect(ticket.securityLevel == .CONFIDENTIAL)
            #expect(ticket.riskBand == .medium)
            #expect(ticket.qos == QoS(deliveryMode: .AT_LEAST_ONCE, consistency: .EVENTUAL, durability: .PERSISTENT))
            #expect(ticket.sla.maxRetries == 2)
            #expect(ticket.status == .PENDING)
            #expect(ticket.createdAt == Fixture.now)
            #expect(ticket.planId == "6f1c2a9e-1111-4c1d-9a7e-000000000001")
            #expect(ticket.intentId == "6f1c2a9e-2222-4c1d-9a7e-000000000002")
            #expect(ticket.decisionId == "decision-0a1b2c3d")
            #expect(ticket.correlationId == "e2e-avro-0a1b2c3d")
            #expect(ticket.traceId == "trace-0123456789abcdef")
            #expect(ticket.spanId == "span-01234567")
            #expect(ticket.metadata["workflow_id"] == Self.fixtureWorkflow)
            #expect(ticket.retryCount == 0)
            #expect(ticket.startedAt == nil)
            #expect(ticket.completedAt == nil)
            #expect(ticket.actualDurationMs == nil)
            #expect(ticket.errorMessage == nil)
            #expect(ticket.compensationTicketId == nil)
            #expect(ticket.schemaVersion == 1)
        }
    }

    @Test func fixtureTicketsSLA() throws {
        let tickets = try Self.fixtureTickets()
        #expect(tickets.map(\.estimatedDurationMs) == [30_000, 60_000, 45_000, 120_000])
        #expect(tickets.map(\.sla.timeoutMs) == [90_000, 180_000, 135_000, 360_000])
        #expect(tickets.map { $0.sla.deadline - Fixture.now } == [90_000, 270_000, 405_000, 765_000])
    }

    @Test func fixtureTicketsCarryTheTaskFields() throws {
        let tickets = try Self.fixtureTickets()
        #expect(tickets[0].description == "Validar requisitos e dependências do sistema")
        #expect(tickets[0].requiredCapabilities == ["python", "validation"])
        #expect(tickets[0].parameters == ["strict_mode": "true"])
        #expect(tickets[3].parameters == ["environment": "staging"])
        #expect(tickets[1].metadata == ["component": "auth", "workflow_id": Self.fixtureWorkflow])
    }

    @Test func fixtureTicketsEncode() throws {
        let object = try jsonObject(try Self.fixtureTickets()[1])
        #expect(object.keys.count == 29)
        #expect(object["task_type"] as? String == "BUILD")
        #expect(object["priority"] as? String == "HIGH")
        #expect(object["security_level"] as? String == "CONFIDENTIAL")
        #expect(object["risk_band"] as? String == "medium")
        #expect(object["status"] as? String == "PENDING")
        #expect(object["created_at"] as? Int64 == Fixture.now)
        let sla = try #require(object["sla"] as? [String: Any])
        #expect(sla["deadline"] as? Int64 == Fixture.now + 270_000)
    }

    // MARK: - ids

    @Test func ticketIdsAreDeterministic() throws {
        let plan = plan([task("a"), task("b", ["a"])])
        let first = try tickets(for: plan, workflowId: "orch-1").map(\.ticketId)
        let second = try tickets(for: plan, workflowId: "orch-1").map(\.ticketId)
        let other = try tickets(for: plan, workflowId: "orch-2").map(\.ticketId)
        #expect(first == second)
        #expect(Set(first).isDisjoint(with: other))
        #expect(first[0] != first[1])
        #expect(first == ["a", "b"].map { TicketID.ticket(workflowId: "orch-1", taskId: $0) })
    }

    @Test(arguments: ["orch-1/a", "orch-plan/task-1", "", "é/☃"])
    func ticketIdsAreVersion5UUIDs(name: String) throws {
        let id = TicketID.uuid5(name: name)
        #expect(UUID(uuidString: id) != nil)
        #expect(id == id.lowercased())
        #expect(id.count == 36)
        let characters = Array(id)
        #expect([8, 13, 18, 23].allSatisfy { characters[$0] == "-" })
        #expect(characters[14] == "5")
        #expect("89ab".contains(characters[19]))
    }

    /// Values from an independent RFC 4122 implementation (Python's `uuid.uuid5` with the namespace
    /// `6f726368-2d64-796e-616d-69632d746b74`).
    @Test(
        arguments: [
            ("orch-1", "a", "ce61defe-1b74-5688-aeab-69ae1ee2f6f9"),
            ("orch-6f1c2a9e-1111-4c1d-9a7e-000000000001", "task-1a2b3c4d", "c2ae6a4a-b8a5-522b-a6d8-7857abf4a30c"),
        ]
    )
    func ticketIdMatchesRFC4122(workflowId: String, taskId: String, expected: String) {
        #expect(TicketID.ticket(workflowId: workflowId, taskId: taskId) == expected)
    }

    @Test func compensationIdsDifferFromTicketIds() {
        let ticket = TicketID.ticket(workflowId: "w", taskId: "t")
        let compensation = TicketID.compensation(workflowId: "w", taskId: "t")
        #expect(ticket != compensation)
        #expect(compensation == TicketID.uuid5(name: "w/compensate/t"))
        #expect(TicketContext.workflowId(planId: "p-1") == "orch-p-1")
    }

    // MARK: - order and dependencies

    @Test func ticketsFollowTheDerivedTopologicalOrder() throws {
        let plan = plan([task("d", ["b", "c"]), task("c", ["a"]), task("b", ["a"]), task("a")])
        let tickets = try tickets(for: plan)
        #expect(tickets.map(\.taskId) == ["a", "c", "b", "d"])
        let idOf = Dictionary(uniqueKeysWithValues: tickets.map { ($0.taskId, $0.ticketId) })
        #expect(tickets[3].dependencies == [idOf["b"], idOf["c"]].compactMap { $0 })
        #expect(tickets[1].dependencies == [idOf["a"]].compactMap { $0 })
    }

    @Test func ticketsFollowAGivenExecutionOrder() throws {
        let plan = plan([task("a"), task("b"), task("c", ["a"])], order: ["b", "a", "c"])
        #expect(try tickets(for: plan).map(\.taskId) == ["b", "a", "c"])
    }

    @Test func repeatedDependencyIsMappedOnce() throws {
        let plan = plan([task("a"), task("b", ["a", "a"])])
        let tickets = try tickets(for: plan)
        #expect(tickets[1].dependencies == [tickets[0].ticketId])
    }

    // MARK: - SLA

    @Test(
        arguments: [
            (nil, 180_000),
            (0, 60_000),
            (10_000, 60_000),
            (20_000, 60_000),
            (20_001, 60_003),
            (30_000, 90_000),
            (60_000, 180_000),
            (120_000, 360_000),
        ] as [(Int64?, Int64)]
    )
    func timeoutIsThreeTimesTheEstimateButAtLeastAMinute(estimate: Int64?, timeout: Int64) throws {
        let ticket = try #require(try tickets(for: plan([task("a", estimate: estimate)])).first)
        #expect(ticket.sla.timeoutMs == timeout)
        #expect(ticket.estimatedDurationMs == (estimate ?? 60_000))
        #expect(ticket.sla.deadline == Fixture.createdAt + timeout)
    }

    @Test func chainDeadlinesAddTheTimeoutsOfThePredecessors() throws {
        let plan = plan([
            task("a", estimate: 30_000), task("b", ["a"], estimate: 60_000), task("c", ["b"], estimate: 45_000),
            task("d", ["c"], estimate: 120_000),
        ])
        let tickets = try tickets(for: plan)
        #expect(tickets.map { $0.sla.deadline - Fixture.createdAt } == [90_000, 270_000, 405_000, 765_000])
    }

    @Test func diamondDeadlineTakesTheLongestBranch() throws {
        let plan = plan([
            task("a", estimate: 60_000), task("b", ["a"], estimate: 30_000), task("c", ["a"], estimate: 100_000),
            task("d", ["b", "c"], estimate: 10_000),
        ])
        let tickets = try tickets(for: plan)
        #expect(tickets.map(\.sla.timeoutMs) == [180_000, 90_000, 300_000, 60_000])
        #expect(tickets.map { $0.sla.deadline - Fixture.createdAt } == [180_000, 270_000, 480_000, 540_000])
    }

    @Test func independentTasksShareNoChain() throws {
        let plan = plan([task("a", estimate: 100_000), task("b"), task("c", ["b"])])
        let tickets = try tickets(for: plan)
        #expect(tickets.map { $0.sla.deadline - Fixture.createdAt } == [300_000, 180_000, 360_000])
    }

    // MARK: - band-driven fields

    @Test(
        arguments: [
            (RiskBand.critical, 5, DeliveryMode.EXACTLY_ONCE, Consistency.STRONG),
            (.high, 3, .EXACTLY_ONCE, .STRONG),
            (.medium, 2, .AT_LEAST_ONCE, .EVENTUAL),
            (.low, 1, .AT_LEAST_ONCE, .EVENTUAL),
        ]
    )
    func retriesAndQoSByBand(band: RiskBand, retries: Int, delivery: DeliveryMode, consistency: Consistency) throws {
        let tickets = try tickets(for: plan([task("a"), task("b", ["a"])], band: band))
        for ticket in tickets {
            #expect(ticket.riskBand == band)
            #expect(ticket.sla.maxRetries == retries)
            #expect(ticket.qos == QoS(deliveryMode: delivery, consistency: consistency, durability: .PERSISTENT))
        }
    }

    @Test(
        arguments: [
            ("HIGH", "CONFIDENTIAL", Priority.HIGH, SecurityLevel.CONFIDENTIAL),
            ("critical", "restricted", .CRITICAL, .RESTRICTED),
            ("low", "public", .LOW, .PUBLIC),
            ("Normal", "Internal", .NORMAL, .INTERNAL),
            ("medium", "PUBLIC", .NORMAL, .PUBLIC),
            ("urgent", "confidential", .CRITICAL, .CONFIDENTIAL),
            ("", "", .NORMAL, .INTERNAL),
        ]
    )
    func priorityAndSecurityComeFromThePlan(
        priority: String,
        security: String,
        expectedPriority: Priority,
        expectedSecurity: SecurityLevel
    ) throws {
        let ticket = try #require(try tickets(for: plan([task("a")], priority: priority, security: security)).first)
        #expect(ticket.priority == expectedPriority)
        #expect(ticket.securityLevel == expectedSecurity)
    }

    @Test(
        arguments: [
            ("create", TaskType.EXECUTE, nil),
            ("update", .EXECUTE, nil),
            ("query", .QUERY, nil),
            ("transform", .TRANSFORM, nil),
            ("validate", .VALIDATE, nil),
            ("build", .BUILD, nil),
            ("DEPLOY", .DEPLOY, nil),
            ("deploy_canary", .EXECUTE, "deploy_canary"),
        ] as [(String, TaskType, String?)]
    )
    func taskTypeIsNormalised(text: String, type: TaskType, original: String?) throws {
        let ticket = try #require(try tickets(for: plan([task("a", type: text)])).first)
        #expect(ticket.taskType == type)
        #expect(ticket.metadata["original_task_type"] == original)
    }

    @Test func decodedLooseValuesReachTheTicket() throws {
        let json = #"""
            {"plan_id": "p", "intent_id": "i", "risk_band": "high", "original_priority": "low",
             "original_security_level": "public",
             "tasks": [{"task_id": "t", "task_type": "update",
                        "parameters": {"retries": 3, "flags": ["a"], "obj": {"k":1}, "b": true},
                        "metadata": {"weight": 0.5}}]}
            """#
        let plan = try decode(CognitivePlan.self, json)
        let ticket = try #require(try tickets(for: plan).first)
        #expect(ticket.parameters == ["retries": "3", "flags": #"["a"]"#, "obj": #"{"k":1}"#, "b": "true"])
        #expect(ticket.metadata == ["weight": "0.5", "workflow_id": "orch-plan-1"])
        #expect(ticket.taskType == .EXECUTE)
        #expect(ticket.priority == .LOW)
        #expect(ticket.securityLevel == .PUBLIC)
        #expect(ticket.sla.maxRetries == 3)
    }

    @Test func contextIdsOverrideThePlans() throws {
        var plan = plan([task("a")])
        plan.correlationId = "plan-correlation"
        plan.traceId = "plan-trace"
        let outcome = PlanValidator().validate(plan: plan, now: 0)
        let order = try #require(outcome.order)
        let withContext = TicketGenerator().generate(
            plan: plan,
            graph: outcome.graph,
            order: order,
            context: TicketContext(workflowId: "w", decisionId: "d", correlationId: "ctx-correlation", createdAt: 0)
        )
        #expect(withContext[0].correlationId == "ctx-correlation")
        #expect(withContext[0].traceId == "plan-trace")
        #expect(withContext[0].spanId == nil)
    }

    // MARK: - policy

    @Test func defaultPolicyNumbers() {
        let policy = TicketPolicy()
        #expect(policy.defaultEstimateMs == 60_000)
        #expect(policy.minTimeoutMs == 60_000)
        #expect(policy.timeoutMultiplier == 3)
        #expect(policy.deadlineFactor == 1)
        #expect(policy.defaultPriority == .NORMAL)
        #expect(policy.defaultSecurityLevel == .INTERNAL)
    }

    @Test func customPolicyIsRespected() throws {
        var policy = TicketPolicy()
        policy.defaultEstimateMs = 1_000
        policy.minTimeoutMs = 5_000
        policy.timeoutMultiplier = 2
        policy.maxRetries = BandTable(low: 7, medium: 8, high: 9, critical: 10)
        policy.qos[.critical] = QoS(deliveryMode: .AT_MOST_ONCE, consistency: .EVENTUAL, durability: .TRANSIENT)
        policy.deadlineFactor = 1.5
        policy.defaultPriority = .LOW
        policy.defaultSecurityLevel = .PUBLIC
        let plan = plan([task("a"), task("b", ["a"], estimate: 4_000)], band: .critical, priority: "", security: "")
        let tickets = try tickets(for: plan, policy: policy)
        #expect(tickets.map(\.estimatedDurationMs) == [1_000, 4_000])
        #expect(tickets.map(\.sla.timeoutMs) == [5_000, 8_000])
        #expect(tickets.map { $0.sla.deadline - Fixture.createdAt } == [7_500, 19_500])
        #expect(tickets.map(\.sla.maxRetries) == [10, 10])
        #expect(tickets.allSatisfy { $0.qos.deliveryMode == .AT_MOST_ONCE && $0.qos.durability == .TRANSIENT })
        #expect(tickets.allSatisfy { $0.priority == .LOW && $0.securityLevel == .PUBLIC })
    }

    @Test func hugeEstimateTimeoutIsBounded() {
        #expect(TicketPolicy().timeout(estimateMs: .max) == Int64.max / 4)
    }

    @Test func bandTableSubscript() {
        var table = BandTable(low: 1, medium: 2, high: 3, critical: 4)
        #expect(RiskBand.allCases.map { table[$0] } == [1, 2, 3, 4])
        table[.high] = 30
        #expect(table.high == 30)
    }
}
