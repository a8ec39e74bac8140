import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import Testing

@Suite struct TicketReportRoutesTests {
    @Test func completingALeasedTicketReleasesTheNextOne() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                try await worker.submitExample()
                try await worker.register()

                let first = try await worker.pollOne()
                #expect(first.taskId == Examples.taskOrder[0])
                #expect(first.workflowId == Examples.workflowId)
                #expect(first.token > 0)
                #expect(first.raw["ticket"]?["status"]?.string == "RUNNING")
                #expect((first.raw["lease_expires_at"]?.int ?? 0) > 0)
                // The second task waits for the first.
                #expect(try await worker.poll().isEmpty)

                let heartbeat = try await client.send(
                    .post,
                    "/api/v1/tickets/\(first.ticketId)/heartbeat",
                    json: .object(worker.lease(first.ticketId, token: first.token))
                )
                #expect(heartbeat.status == .ok)
                #expect(try heartbeat.json["ticket_id"]?.string == first.ticketId)
                #expect((try heartbeat.json["lease_expires_at"]?.int ?? 0) >= (first.raw["lease_expires_at"]?.int ?? 0))

                let done = try await worker.complete(
                    first.ticketId,
                    token: first.token,
                    output: .object(["exit_code": .integer(0)])
                )
                #expect(done.status == .ok)
                let answer = try done.json
                #expect(answer["ticket_id"]?.string == first.ticketId)
                #expect(answer["status"]?.string == "COMPLETED")
                #expect(answer["phase"]?.string == "COMPLETED")

                let second = try await worker.pollOne()
                #expect(second.taskId == Examples.taskOrder[1])
                #expect(second.raw["ticket"]?["dependencies"]?[0]?.string == first.ticketId)

                let stored = try await client.send(.get, "/api/v1/tickets/\(first.ticketId)")
                #expect(stored.status == .ok)
                let ticket = try stored.json
                #expect(ticket["status"]?.string == "COMPLETED")
                #expect(ticket["phase"]?.string == "COMPLETED")
                #expect(ticket["workflow_id"]?.string == Examples.workflowId)
                #expect(ticket["sla"]?["timeout_ms"]?.int != nil)
                #expect(ticket["qos"]?["delivery_mode"]?.string == "AT_LEAST_ONCE")
            }
        }
    }

    @Test func aDuplicateCompletionIsAConflict() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                try await worker.submitExample()
                try await worker.register()
                let grant = try await worker.pollOne()
                #expect(try await worker.complete(grant.ticketId, token: grant.token).status == .ok)

                let duplicate = try await worker.complete(grant.ticketId, token: grant.token)
                #expect(duplicate.status == .conflict)
                let error = try #require(try duplicate.json["error"])
                #expect(error["code"]?.string == "conflict")
                #expect(error["refusal"]?.string == "invalid_state")
            }
        }
    }

    @Test func aReportUnderAnExpiredLeaseIsRefusedAsStale() async throws {
        // A lease long enough that the second one does not also expire on a loaded machine.
        try await TestServer.with(configuration: .leases(ttlMs: 1000, backoffMs: 20)) { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                try await worker.submitExample()
                try await worker.register()
                let lost = try await worker.pollOne()
                // The lease expires without a heartbeat; the ticket is leased again under a new token.
                let again = try await worker.pollOne()
                #expect(again.ticketId == lost.ticketId)
                #expect(again.token > lost.token)

                let late = try await worker.complete(lost.ticketId, token: lost.token)
                #expect(late.status == .conflict)
                let error = try #require(try late.json["error"])
                #expect(error["code"]?.string == "conflict")
                #expect(error["refusal"]?.string == "stale_lease")
                #expect(error["message"]?.string?.contains("\(lost.token)") == true)

                #expect(try await worker.complete(again.ticketId, token: again.token).status == .ok)
            }
        }
    }

    @Test func reportsOnUnknownTicketsAreNotFound() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                let get = try await client.send(.get, "/api/v1/tickets/no-such-ticket")
                #expect(get.status == .notFound)
                #expect(try get.json["error"]?["code"]?.string == "not_found")

                let complete = try await worker.complete(
                    "no-such-ticket",
                    token: 1,
                    secret: "00112233445566778899aabbccddeeff"
                )
                #expect(complete.status == .notFound)
                #expect(try complete.json["error"]?["message"]?.string?.contains("no-such-ticket") == true)
            }
        }
    }

    @Test func aReportWithoutItsFencingTokenIsA422() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(
                    .post,
                    "/api/v1/tickets/some-ticket/complete",
                    json: .object(["worker_id": .string("w")])
                )
                #expect(response.status == .unprocessableContent)
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "invalid_field")
                #expect(error["field"]?.string == "fencing_token")

                let wrongType = try await client.send(
                    .post,
                    "/api/v1/tickets/some-ticket/heartbeat",
                    json: .object(["worker_id": .string("w"), "fencing_token": .string("seven")])
                )
                #expect(wrongType.status == .unprocessableContent)
                #expect(try wrongType.json["error"]?["field"]?.string == "fencing_token")
            }
        }
    }

    @Test func aFailureThatMayNotBeRetriedFailsTheTicket() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let worker = WorkerSteps(client: client)
                try await worker.submitExample()
                try await worker.register()
                let grant = try await worker.pollOne()
                let response = try await client.send(
                    .post,
                    "/api/v1/tickets/\(grant.ticketId)/fail",
                    json: .object(
                        worker.lease(grant.ticketId, token: grant.token).merging([
                            "error_message": .string("disk full"), "retryable": .bool(false),
                            "output": .object(["exit_code": .integer(28)]),
                        ]) { _, new in new }
                    )
                )
                #expect(response.status == .ok, "\(response.text)")
                let answer = try response.json
                #expect(answer["status"]?.string == "FAILED")
                #expect(answer["phase"]?.string == "FAILED")
                #expect(answer["error_message"]?.string == "disk full")

                let result = try await client.send(.get, "/api/v1/workflows/\(Examples.workflowId)/result")
                let failed = try #require(try result.json["tickets"]?.array?.first)
                #expect(failed["result"]?["output"]?["exit_code"]?.string == "28")
                #expect(failed["result"]?["success"]?.bool == false)
            }
        }
    }
}
