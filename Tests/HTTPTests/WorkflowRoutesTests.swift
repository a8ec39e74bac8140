import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import Testing

@Suite struct WorkflowRoutesTests {
    @Test func theViewShowsTheWorkflowAndItsTickets() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                try await WorkerSteps(client: client).submitExample()
                let response = try await client.send(.get, "/api/v1/workflows/\(Examples.workflowId)")
                #expect(response.status == .ok)
                let view = try response.json
                #expect(view["workflow_id"]?.string == Examples.workflowId)
                #expect(view["decision_id"]?.string == "decision-0a1b2c3d")
                #expect(view["plan_id"]?.string == Examples.planId)
                #expect(view["intent_id"]?.string == "6f1c2a9e-2222-4c1d-9a7e-000000000002")
                #expect(view["correlation_id"]?.string == "e2e-avro-0a1b2c3d")
                #expect(view["status"]?.string == "RUNNING")
                #expect(view["risk_band"]?.string == "medium")
                #expect(view["validation"]?["valid"]?.bool == true)
                #expect(view["metrics"]?.isNull == true)
                #expect(view["completed_at"]?.isNull == true)
                let tickets = try #require(view["tickets"]?.array)
                #expect(tickets.compactMap { $0["task_id"]?.string } == Examples.taskOrder)
                #expect(tickets.first?["phase"]?.string == "READY")
                #expect(tickets.first?["status"]?.string == "PENDING")
                #expect(tickets.first?["task_type"]?.string == "VALIDATE")
                #expect(tickets.last?["phase"]?.string == "WAITING")

                let missing = try await client.send(.get, "/api/v1/workflows/orch-nope")
                #expect(missing.status == .notFound)
            }
        }
    }

    @Test func historyListsTheEventsInOrderAfterASequence() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                try await worker.submitExample()
                try await worker.register()
                let grant = try await worker.pollOne()
                #expect(try await worker.complete(grant.ticketId, token: grant.token).status == .ok)

                let response = try await client.send(.get, "/api/v1/workflows/\(Examples.workflowId)/history")
                #expect(response.status == .ok)
                let body = try response.json
                #expect(body["workflow_id"]?.string == Examples.workflowId)
                let entries = try #require(body["entries"]?.array)
                #expect(
                    entries.compactMap { $0["type"]?.string } == [
                        "decision_accepted", "ticket_leased", "ticket_completed",
                    ]
                )
                #expect(entries.compactMap { $0["sequence"]?.int } == [1, 2, 3])
                #expect(entries.allSatisfy { ($0["at"]?.int ?? 0) > 0 && $0["event"]?.object != nil })

                let page = try await client.send(
                    .get,
                    "/api/v1/workflows/\(Examples.workflowId)/history?after=1&limit=1"
                )
                #expect(try page.json["entries"]?.array?.compactMap { $0["sequence"]?.int } == [2])

                let bad = try await client.send(.get, "/api/v1/workflows/\(Examples.workflowId)/history?limit=zero")
                #expect(bad.status == .badRequest)
                #expect(try bad.json["error"]?["field"]?.string == "limit")
                let missing = try await client.send(.get, "/api/v1/workflows/orch-nope/history")
                #expect(missing.status == .notFound)
            }
        }
    }

    @Test func aPlansTicketsAreListedByStatus() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                try await worker.submitExample()
                try await worker.register()
                let grant = try await worker.pollOne()
                #expect(try await worker.complete(grant.ticketId, token: grant.token).status == .ok)

                let all = try await client.send(.get, "/api/v1/tickets/by-plan/\(Examples.planId)")
                #expect(all.status == .ok)
                let page = try all.json
                #expect(page["plan_id"]?.string == Examples.planId)
                #expect(page["count"]?.int == 4)
                #expect(page["limit"]?.int == 100)
                #expect(page["offset"]?.int == 0)

                let completed = try await client.send(
                    .get,
                    "/api/v1/tickets/by-plan/\(Examples.planId)?status=completed"
                )
                let done = try #require(try completed.json["tickets"]?.array)
                #expect(done.count == 1)
                #expect(done.first?["ticket_id"]?.string == grant.ticketId)
                #expect(done.first?["status"]?.string == "COMPLETED")

                let paged = try await client.send(.get, "/api/v1/tickets/by-plan/\(Examples.planId)?limit=2&offset=3")
                #expect(try paged.json["count"]?.int == 1)
                #expect(try paged.json["tickets"]?[0]?["task_id"]?.string == Examples.taskOrder[3])

                let badStatus = try await client.send(.get, "/api/v1/tickets/by-plan/\(Examples.planId)?status=DONE")
                #expect(badStatus.status == .badRequest)
                let error = try #require(try badStatus.json["error"])
                #expect(error["code"]?.string == "invalid_query")
                #expect(error["field"]?.string == "status")
                #expect(error["message"]?.string?.contains("PENDING") == true)
                let badLimit = try await client.send(.get, "/api/v1/tickets/by-plan/\(Examples.planId)?limit=0")
                #expect(badLimit.status == .badRequest)
                #expect(try badLimit.json["error"]?["field"]?.string == "limit")
            }
        }
    }

    @Test func aFinishedWorkflowHasItsResultAndCountsInFlowCStatus() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                try await worker.submitExample()
                try await worker.register()
                try await worker.runChain()

                let response = try await client.send(.get, "/api/v1/workflows/\(Examples.workflowId)/result")
                #expect(response.status == .ok)
                let result = try response.json
                #expect(result["status"]?.string == "COMPLETED")
                #expect(result["finished"]?.bool == true)
                #expect(result["metrics"]?["total"]?.int == 4)
                #expect(result["metrics"]?["successful"]?.int == 4)
                let tickets = try #require(result["tickets"]?.array)
                #expect(tickets.count == 4)
                #expect(tickets.allSatisfy { $0["result"]?["logs"]?[0]?.string == "done" })

                let status = try await client.send(.get, "/api/v1/flow-c/status")
                #expect(status.status == .ok)
                let figures = try status.json
                #expect(figures["total_processed"]?.int == 1)
                #expect(figures["success_rate"]?.double == 1)
                #expect(figures["active_executions"]?.int == 0)
                #expect(figures["average_latency_ms"]?.double != nil)
                #expect(figures["p95_latency_ms"]?.double != nil)

                let list = try await client.send(.get, "/api/v1/workflows?status=COMPLETED")
                #expect(try list.json["workflows"]?[0]?["workflow_id"]?.string == Examples.workflowId)
                let none = try await client.send(.get, "/api/v1/workflows?status=running")
                #expect(try none.json["count"]?.int == 0)
                let bad = try await client.send(.get, "/api/v1/workflows?status=SLEEPING")
                #expect(bad.status == .badRequest)
            }
        }
    }

    @Test func theValidationIsAudited() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                try await WorkerSteps(client: client).submitExample()
                let response = try await client.send(.get, "/api/v1/workflows/\(Examples.workflowId)/audit")
                #expect(response.status == .ok)
                let audits = try #require(try response.json["audits"]?.array)
                #expect(audits.count == 1)
                #expect(audits.first?["decision_id"]?.string == "decision-0a1b2c3d")
                #expect(audits.first?["report"]?["valid"]?.bool == true)
                #expect(try await client.send(.get, "/api/v1/workflows/orch-nope/audit").status == .notFound)
            }
        }
    }

    @Test func incidentsAreListedAndFilteredByKnownTypes() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, "/api/v1/incidents?type=sla_violation")
                #expect(response.status == .ok)
                #expect(try response.json["incidents"]?.array?.isEmpty == true)
                let bad = try await client.send(.get, "/api/v1/incidents?type=meteor")
                #expect(bad.status == .badRequest)
                #expect(try bad.json["error"]?["field"]?.string == "type")
            }
        }
    }
}
