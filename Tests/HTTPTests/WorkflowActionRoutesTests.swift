import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import Testing

@Suite struct WorkflowActionRoutesTests {
    @Test func aDecisionNeedingReviewWaitsForApproval() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                let decision = try Examples.decision().setting("final_decision", .string("review_required"))
                let workflowId = try await worker.submitExample(decision)
                let parked = try await client.send(.get, "/api/v1/workflows/\(workflowId)")
                #expect(try parked.json["status"]?.string == "AWAITING_APPROVAL")
                try await worker.register()
                #expect(try await worker.poll().isEmpty)

                let approved = try await client.send(
                    .post,
                    "/api/v1/workflows/\(workflowId)/approve",
                    json: .object(["by": .string("alice"), "note": .string("looks fine")])
                )
                #expect(approved.status == .ok, "\(approved.text)")
                let view = try approved.json
                #expect(view["status"]?.string == "RUNNING")
                #expect(view["actor"]?.string == "alice")
                #expect(try await worker.pollOne().taskId == Examples.taskOrder[0])

                let again = try await client.send(.post, "/api/v1/workflows/\(workflowId)/approve")
                #expect(again.status == .conflict)
                #expect(try again.json["error"]?["refusal"]?.string == "invalid_workflow_state")
            }
        }
    }

    @Test func aParkedWorkflowCanBeRejected() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let decision = try Examples.decision().setting("requires_human_review", .bool(true))
                let workflowId = try await WorkerSteps(client: client).submitExample(decision)
                let rejected = try await client.send(
                    .post,
                    "/api/v1/workflows/\(workflowId)/reject",
                    json: .object(["reason": .string("too risky")])
                )
                #expect(rejected.status == .ok)
                let view = try rejected.json
                #expect(view["status"]?.string == "REJECTED")
                #expect(view["actor"]?.string == "api")
                #expect(view["reason"]?.string?.contains("too risky") == true)
            }
        }
    }

    @Test func aRunningWorkflowCanBeCancelledOnce() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                let workflowId = try await worker.submitExample()
                let cancelled = try await client.send(
                    .post,
                    "/api/v1/workflows/\(workflowId)/cancel",
                    json: .object(["by": .string("bob"), "reason": .string("no longer needed")])
                )
                #expect(cancelled.status == .ok)
                let view = try cancelled.json
                #expect(view["status"]?.string == "CANCELLED")
                #expect(view["actor"]?.string == "bob")
                #expect(view["tickets"]?.array?.allSatisfy { $0["phase"]?.string == "CANCELLED" } == true)
                try await worker.register()
                #expect(try await worker.poll().isEmpty)

                let again = try await client.send(.post, "/api/v1/workflows/\(workflowId)/cancel")
                #expect(again.status == .conflict)
                #expect(try again.json["error"]?["code"]?.string == "conflict")
                let unknown = try await client.send(.post, "/api/v1/workflows/orch-nope/cancel")
                #expect(unknown.status == .notFound)
            }
        }
    }
}
