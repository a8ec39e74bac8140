import Foundation
import OrchestratorCore
import Testing

@testable import OrchestratorWorker

@Suite("OrchestratorClient against a stub of the REST API")
struct OrchestratorClientTests {
    @Test func healthReadsTheServiceStatus() async throws {
        let stub = try await APIStubServer.start()
        defer { stub.stop() }
        let client = OrchestratorClient(baseURL: stub.baseURL + "/")
        let health = try await client.health()
        await client.shutdown()
        #expect(health.status == "healthy")
        #expect(health.service == "orchestrator-dynamic")
        #expect(health.version == "stub")
    }

    @Test func submittingADecisionReturnsTheStatusAndTheOutcome() async throws {
        let stub = try await APIStubServer.start()
        defer { stub.stop() }
        let client = OrchestratorClient(baseURL: stub.baseURL)
        let bytes = try [UInt8](Data(contentsOf: repositoryRoot.appendingPathComponent("examples/decision.json")))
        let response = try await client.submitDecision(jsonBytes: bytes)
        let kept = try await client.submitPlan(jsonBytes: Array(#"{"plan_id":"p-9"}"#.utf8), start: false)
        let started = try await client.submitPlan(jsonBytes: Array(#"{"plan_id":"p-9"}"#.utf8), start: true)
        await client.shutdown()
        #expect(response.statusCode == 201)
        #expect(response.outcome?.workflowId == "orch-6f1c2a9e-1111-4c1d-9a7e-000000000001")
        #expect(response.outcome?.status == .RUNNING)
        #expect(response.outcome?.created == true)
        #expect(kept.statusCode == 202)
        #expect(kept.outcome == nil)
        #expect(kept.json?.member("plan_id") == .string("p-9"))
        #expect(started.outcome?.workflowId == "orch-p-9")
    }

    @Test func aWorkflowViewIsDecodedLeniently() async throws {
        let stub = try await APIStubServer.start()
        defer { stub.stop() }
        let client = OrchestratorClient(baseURL: stub.baseURL)
        let view = try await client.workflow("orch-plan-1")
        let list = try await client.listWorkflows(status: "COMPLETED", limit: 5)
        await client.shutdown()
        #expect(view.workflowId == "orch-plan-1")
        #expect(view.workflowStatus == .COMPLETED)
        #expect(view.isTerminal)
        #expect(view.planId == "plan-1")
        #expect(view.createdAt == 1_700_000_000_000)
        #expect(view.completedAt == 1_700_000_005_000)
        #expect(view.metrics?.retries == 1)
        #expect(view.tickets.count == 2)
        #expect(view.tickets[0].workerId == "w-1")
        #expect(view.tickets[0].actualDurationMs == 12)
        #expect(view.tickets[1].ticketId == "t-2")
        #expect(view.tickets[1].taskType == "TEST")
        #expect(view.tickets[1].retryCount == 1)
        #expect(view.tickets[1].phase == "COMPLETED")
        #expect(view.tickets[1].workerId == nil)
        #expect(list == [view])
    }

    @Test func anErrorCarriesTheStatusAndTheServersCodeAndMessage() async throws {
        let stub = try await APIStubServer.start()
        defer { stub.stop() }
        let client = OrchestratorClient(baseURL: stub.baseURL)
        let missing = await #expect(throws: ClientError.self) { try await client.workflow("orch-none") }
        let invalid = await #expect(throws: ClientError.self) {
            try await client.registerWorker(workerId: "", capabilities: ["*"])
        }
        await client.shutdown()
        #expect(missing?.status == 404)
        #expect(missing?.isNotFound == true)
        #expect(missing?.code == "not_found")
        #expect(missing?.message == "no workflow orch-none")
        #expect(invalid?.status == 400)
        #expect(invalid?.code == "invalid")
        #expect(invalid?.message == "worker_id: required field is missing or empty")
    }

    @Test func anUnreachableServerIsATransportError() async throws {
        let client = OrchestratorClient(baseURL: "http://127.0.0.1:1", requestTimeoutMs: 300)
        let error = await #expect(throws: ClientError.self) { try await client.health() }
        await client.shutdown()
        #expect(error?.isTransport == true)
        #expect(error?.status == nil)
    }

    @Test func aShutDownClientRefusesRequests() async throws {
        let client = OrchestratorClient(baseURL: "http://127.0.0.1:1")
        await client.shutdown()
        let error = await #expect(throws: ClientError.self) { try await client.health() }
        #expect(error?.code == "client_shut_down")
    }
}
