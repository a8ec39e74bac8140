import Foundation
import OrchestratorCore
import Testing

@testable import OrchestratorWorker

@Suite("ReferenceExecutor http tasks")
struct ReferenceExecutorHTTPTests {
    @Test func aGetWithTheExpectedStatusSucceeds() async throws {
        let server = try await PythonServer(script: echoServerScript)
        defer { server.stop() }
        let executor = ReferenceExecutor()
        let outcome = await executor.execute(
            makeTicket(parameters: ["work": "http", "url": server.baseURL + "/hello"]),
            attempt: 0
        )
        await executor.shutdown()
        #expect(outcome.success)
        #expect(outcome.output["status_code"] == "200")
        #expect(outcome.output["body_excerpt"] == "hello from python")
        #expect(outcome.output["body_bytes"] == "17")
    }

    @Test func aPostSendsItsBodyAsJSON() async throws {
        let server = try await PythonServer(script: echoServerScript)
        defer { server.stop() }
        let executor = ReferenceExecutor()
        let parameters = ["work": "http", "url": server.baseURL + "/echo", "method": "post", "body": #"{"a":1}"#]
        let outcome = await executor.execute(makeTicket(parameters: parameters), attempt: 0)
        await executor.shutdown()
        #expect(outcome.success)
        #expect(outcome.output["body_excerpt"] == #"application/json|{"a":1}"#)
    }

    @Test(
        arguments: [
            ("/status/404", nil, false, false),
            ("/status/503", nil, false, true),
            ("/status/404", "404", true, false),
            ("/status/204", "200,204", true, false),
            ("/hello", "4xx", false, false),
        ] as [(String, String?, Bool, Bool)]
    )
    func theStatusIsJudgedByExpectStatus(
        _ path: String,
        _ expect: String?,
        _ succeeds: Bool,
        _ retryable: Bool
    )
        async throws
    {
        let server = try await PythonServer(script: echoServerScript)
        defer { server.stop() }
        let executor = ReferenceExecutor()
        var parameters = ["work": "http", "url": server.baseURL + path]
        parameters["expect_status"] = expect
        let outcome = await executor.execute(makeTicket(parameters: parameters), attempt: 0)
        await executor.shutdown()
        #expect(outcome.success == succeeds)
        if !succeeds {
            #expect(outcome.retryable == retryable)
            #expect(outcome.error?.contains("not the expected status") == true)
        }
    }

    @Test func anUnreachableServerIsARetryableFailure() async throws {
        let executor = ReferenceExecutor()
        let url = "http://127.0.0.1:1/nothing-listens-here"
        let parameters = ["work": "http", "url": url, "timeout_ms": "300"]
        let outcome = await executor.execute(makeTicket(parameters: parameters), attempt: 0)
        await executor.shutdown()
        #expect(!outcome.success)
        #expect(outcome.retryable)
        #expect(outcome.output["work"] == "http")
    }

    @Test(arguments: [
        ["work": "http"], ["work": "http", "url": "ftp://example.org/file"],
        ["work": "http", "url": "http://127.0.0.1:1/", "expect_status": "ok"],
    ])
    func badParametersFailForGood(_ parameters: [String: String]) async {
        let executor = ReferenceExecutor()
        let outcome = await executor.execute(makeTicket(parameters: parameters), attempt: 0)
        await executor.shutdown()
        #expect(!outcome.success)
        #expect(!outcome.retryable)
    }

    @Test func afterShutdownHTTPTasksFail() async {
        let executor = ReferenceExecutor()
        await executor.shutdown()
        let outcome = await executor.execute(
            makeTicket(parameters: ["work": "http", "url": "http://127.0.0.1:1/"]),
            attempt: 0
        )
        #expect(!outcome.success)
        #expect(outcome.error?.contains("shut down") == true)
    }
}
