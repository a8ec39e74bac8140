import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import OrchestratorHTTP
import Synchronization
import Testing

@Suite struct EventRoutesTests {
    /// Over a real socket: a subscriber gets keep-alives while nothing happens, then the released
    /// tickets as server-sent events.
    @Test func releasedTicketsStreamAsServerSentEvents() async throws {
        try await TestServer.with(options: HTTPOptions(eventKeepAliveSeconds: 1)) { server in
            try await server.application.test(.live) { client in
                let port = try #require(client.port)
                async let stream = TestClient.withClient(host: "localhost", port: port) { events in
                    try await events.get("/api/v1/events?topic=tickets&limit=1")
                }
                try await waitUntil("the stream subscribes") { server.engine.feed.subscriberCount > 0 }
                try await Task.sleep(for: .milliseconds(1300))
                try await WorkerSteps(client: client).submitExample()
                let response = try await stream
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/event-stream") == true)
                let text = String(
                    decoding: response.body?.readableBytesView ?? ByteBuffer().readableBytesView,
                    as: UTF8.self
                )
                let lines = text.split(separator: "\n").map(String.init)
                #expect(lines.first == ": connected")
                #expect(lines.dropFirst().first == ": keep-alive")
                #expect(lines.contains { $0.hasPrefix("id: ") })
                #expect(lines.contains("event: tickets"))
                let data = try #require(lines.first { $0.hasPrefix("data: ") }?.dropFirst(6))
                let ticket = try JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))
                #expect(ticket["task_id"]?.string == Examples.taskOrder[0])
                #expect(ticket["status"]?.string == "PENDING")
            }
        }
    }

    /// An open stream ends when the server shuts down gracefully, instead of holding it up.
    @Test(.timeLimit(.minutes(1))) func anOpenStreamEndsOnGracefulShutdown() async throws {
        try await TestServer.with { server in
            let open = Mutex<Task<String, any Error>?>(nil)
            try await server.application.test(.live) { client in
                let port = try #require(client.port)
                let stream = Task {
                    try await TestClient.withClient(host: "localhost", port: port) { events in
                        let response = try await events.get("/api/v1/events")
                        return String(
                            decoding: response.body?.readableBytesView ?? ByteBuffer().readableBytesView,
                            as: UTF8.self
                        )
                    }
                }
                open.withLock { $0 = stream }
                try await waitUntil("the stream subscribes") { server.engine.feed.subscriberCount > 0 }
            }
            let stream = try #require(open.withLock { $0 })
            let text = try await stream.value
            #expect(text.hasPrefix(": connected"))
            #expect(server.engine.feed.subscriberCount == 0)
        }
    }

    @Test func anUnknownTopicIsA400() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, "/api/v1/events?topic=gossip")
                #expect(response.status == .badRequest)
                #expect(try response.json["error"]?["field"]?.string == "topic")
            }
        }
    }
}
