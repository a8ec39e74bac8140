import Testing

@testable import OrchestratorCore

/// Saga planning: completed predecessors of a failed ticket are undone newest first.
@Suite struct CompensationPlannerTests {
    static let workflowId = "orch-plan-1"
    static let now: EpochMillis = Fixture.createdAt + 500_000

    /// Tickets for `tasks` (id, type, dependencies) with the given statuses, in the order given.
    static func tickets(
        _ tasks: [(id: String, type: TaskType, dependencies: [String], status: TicketStatus)]
    ) -> [ExecutionTicket] {
        tasks.map { task in
            ExecutionTicket(
                ticketId: "tk-" + task.id,
                planId: "plan-1",
                intentId: "intent-1",
                decisionId: "decision-1",
                correlationId: "corr-1",
                taskId: task.id,
                taskType: task.type,
                description: "do \(task.id)",
                dependencies: task.dependencies.map { "tk-" + $0 },
                status: task.status,
                priority: .HIGH,
                riskBand: .high,
                sla: SLA(deadline: Fixture.createdAt + 1_000_000, timeoutMs: 90_000, maxRetries: 3),
                qos: QoS(deliveryMode: .EXACTLY_ONCE, consistency: .STRONG, durability: .PERSISTENT),
                parameters: ["env": "staging"],
                requiredCapabilities: ["k8s"],
                securityLevel: .CONFIDENTIAL,
                createdAt: Fixture.createdAt,
                estimatedDurationMs: 30_000,
                metadata: ["workflow_id": workflowId]
            )
        }
    }

    static func compensationId(_ taskId: String) -> String {
        TicketID.compensation(workflowId: workflowId, taskId: taskId)
    }

    @Test func chainIsCompensatedInReverseOrder() {
        let tickets = Self.tickets([
            ("a", .VALIDATE, [], .COMPLETED), ("b", .BUILD, ["a"], .COMPLETED), ("c", .TEST, ["b"], .COMPLETED),
            ("d", .DEPLOY, ["c"], .FAILED),
        ])
        let plan = CompensationPlanner.plan(
            failedTicketId: "tk-d",
            tickets: tickets,
            workflowId: Self.workflowId,
            now: Self.now
        )
        let compensations = plan.compensations
        #expect(compensations.map(\.ticketId) == ["c", "b", "a"].map(Self.compensationId))
        #expect(
            compensations.map { $0.parameters["action"] } == [
                "cleanup_test_env", "delete_artifacts", "revert_approval",
            ]
        )
        #expect(compensations.map { $0.parameters["original_ticket_id"] } == ["tk-c", "tk-b", "tk-a"])
        #expect(compensations.allSatisfy { $0.parameters["failed_ticket_id"] == "tk-d" })
        #expect(
            compensations.map(\.dependencies) == [[], [Self.compensationId("c")], [Self.compensationId("b")]]
        )
        #expect(
            plan.links == [
                "tk-a": Self.compensationId("a"), "tk-b": Self.compensationId("b"), "tk-c": Self.compensationId("c"),
            ]
        )
    }

    @Test func compensationTicketFields() throws {
        let tickets = Self.tickets([("a", .BUILD, [], .COMPLETED), ("b", .DEPLOY, ["a"], .FAILED)])
        let plan = CompensationPlanner.plan(
            failedTicketId: "tk-b",
            tickets: tickets,
            workflowId: Self.workflowId,
            now: Self.now
        )
        let compensation = try #require(plan.compensations.first)
        #expect(plan.compensations.count == 1)
        #expect(compensation.taskType == .COMPENSATE)
        #expect(compensation.status == .PENDING)
        #expect(compensation.taskId == "a:compensate")
        #expect(compensation.description == "Compensate: do a")
        #expect(compensation.createdAt == Self.now)
        #expect(compensation.sla == SLA(deadline: Self.now + 90_000, timeoutMs: 90_000, maxRetries: 3))
        #expect(
            compensation.parameters == [
                "env": "staging", "action": "delete_artifacts", "original_ticket_id": "tk-a",
                "failed_ticket_id": "tk-b",
            ]
        )
        #expect(compensation.metadata == ["workflow_id": Self.workflowId, "compensates": "tk-a"])
        #expect(compensation.planId == "plan-1")
        #expect(compensation.decisionId == "decision-1")
        #expect(compensation.correlationId == "corr-1")
        #expect(compensation.priority == .HIGH)
        #expect(compensation.riskBand == .high)
        #expect(compensation.securityLevel == .CONFIDENTIAL)
        #expect(compensation.requiredCapabilities == ["k8s"])
        #expect(compensation.compensationTicketId == nil)
        #expect(plan.links == ["tk-a": compensation.ticketId])
    }

    @Test func diamondUndoesBothBranchesBeforeTheRoot() {
        let tickets = Self.tickets([
            ("a", .EXECUTE, [], .COMPLETED), ("b", .BUILD, ["a"], .COMPLETED), ("c", .TEST, ["a"], .COMPLETED),
            ("d", .DEPLOY, ["b", "c"], .FAILED),
        ])
        let plan = CompensationPlanner.plan(
            failedTicketId: "tk-d",
            tickets: tickets,
            workflowId: Self.workflowId,
            now: Self.now
        )
        #expect(plan.compensations.map(\.taskId) == ["c:compensate", "b:compensate", "a:compensate"])
        #expect(plan.compensations[2].dependencies == [Self.compensationId("b"), Self.compensationId("c")])
        #expect(plan.compensations[2].parameters["action"] == "rollback_execution")
        #expect(plan.compensations[0].dependencies == [])
        #expect(plan.compensations[1].dependencies == [])
    }

    @Test func onlyCompletedUncompensatedPredecessorsAreTouched() {
        var tickets = Self.tickets([
            ("a", .VALIDATE, [], .COMPLETED),  // already has a compensation ticket
            ("b", .BUILD, [], .COMPENSATED),
            ("c", .TEST, ["a", "b"], .COMPLETED),
            ("running", .EXECUTE, [], .RUNNING),
            ("d", .DEPLOY, ["c", "running"], .FAILED),
            ("unrelated", .BUILD, [], .COMPLETED),
            ("after", .TEST, ["d"], .PENDING),
        ])
        tickets[0].compensationTicketId = "earlier-compensation"
        let plan = CompensationPlanner.plan(
            failedTicketId: "tk-d",
            tickets: tickets,
            workflowId: Self.workflowId,
            now: Self.now
        )
        #expect(plan.compensations.map(\.ticketId) == [Self.compensationId("c")])
        #expect(plan.compensations.first?.dependencies == [])
        #expect(plan.links == ["tk-c": Self.compensationId("c")])
    }

    @Test func transitivePredecessorsBehindANonCompletedTicketAreIncluded() {
        let tickets = Self.tickets([
            ("a", .BUILD, [], .COMPLETED), ("b", .TEST, ["a"], .COMPENSATED), ("c", .DEPLOY, ["b"], .FAILED),
        ])
        let plan = CompensationPlanner.plan(
            failedTicketId: "tk-c",
            tickets: tickets,
            workflowId: Self.workflowId,
            now: Self.now
        )
        #expect(plan.compensations.map(\.taskId) == ["a:compensate"])
    }

    @Test func nothingToCompensate() {
        let tickets = Self.tickets([("a", .BUILD, [], .FAILED), ("b", .TEST, [], .COMPLETED)])
        let first = CompensationPlanner.plan(
            failedTicketId: "tk-a",
            tickets: tickets,
            workflowId: Self.workflowId,
            now: Self.now
        )
        #expect(first == CompensationPlanner.Plan(compensations: [], links: [:]))
        let unknown = CompensationPlanner.plan(
            failedTicketId: "tk-zzz",
            tickets: tickets,
            workflowId: Self.workflowId,
            now: Self.now
        )
        #expect(unknown.compensations == [])
        #expect(unknown.links == [:])
    }

    @Test(
        arguments: [
            (TaskType.BUILD, "delete_artifacts"),
            (.DEPLOY, "rollback_deployment"),
            (.TEST, "cleanup_test_env"),
            (.VALIDATE, "revert_approval"),
            (.EXECUTE, "rollback_execution"),
            (.QUERY, "generic_cleanup"),
            (.TRANSFORM, "generic_cleanup"),
            (.COMPENSATE, "generic_cleanup"),
        ]
    )
    func actionByType(type: TaskType, action: String) {
        #expect(CompensationPlanner.action(for: type) == action)
        let tickets = Self.tickets([("a", type, [], .COMPLETED), ("b", .EXECUTE, ["a"], .FAILED)])
        let plan = CompensationPlanner.plan(
            failedTicketId: "tk-b",
            tickets: tickets,
            workflowId: Self.workflowId,
            now: Self.now
        )
        #expect(plan.compensations.map { $0.parameters["action"] } == [action])
    }
}
