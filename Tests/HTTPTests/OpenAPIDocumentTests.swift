import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import Testing

@Suite struct OpenAPIDocumentTests {
    /// Every route the router serves, as the document spells it.
    static let routes: [(method: String, path: String)] = [
        ("get", "/health"), ("get", "/ready"), ("get", "/metrics"), ("get", "/openapi.yaml"),
        ("post", "/api/v1/decisions"), ("post", "/api/v1/plans"),
        ("get", "/api/v1/workflows"), ("post", "/api/v1/workflows/start"),
        ("get", "/api/v1/workflows/{workflow_id}"), ("post", "/api/v1/workflows/{workflow_id}/query"),
        ("get", "/api/v1/workflows/{workflow_id}/history"), ("get", "/api/v1/workflows/{workflow_id}/result"),
        ("get", "/api/v1/workflows/{workflow_id}/audit"), ("post", "/api/v1/workflows/{workflow_id}/approve"),
        ("post", "/api/v1/workflows/{workflow_id}/reject"), ("post", "/api/v1/workflows/{workflow_id}/cancel"),
        ("get", "/api/v1/tickets/{ticket_id}"), ("get", "/api/v1/tickets/by-plan/{plan_id}"),
        ("post", "/api/v1/tickets/{ticket_id}/heartbeat"), ("post", "/api/v1/tickets/{ticket_id}/complete"),
        ("post", "/api/v1/tickets/{ticket_id}/fail"),
        ("get", "/api/v1/workers"), ("post", "/api/v1/workers/register"), ("post", "/api/v1/workers/{worker_id}/poll"),
        ("get", "/api/v1/incidents"), ("get", "/api/v1/dead-letters"), ("get", "/api/v1/replicas"),
        ("get", "/api/v1/flow-c/status"),
        ("get", "/api/v1/events"),
    ]

    @Test func theServedDocumentDescribesEveryRouteAndNothingElse() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, "/openapi.yaml")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
                let document = OutlinedYAML(response.text)
                #expect(document.text.hasPrefix("openapi: 3.1"))
                let expected = Set(Self.routes.map { "\($0.method) \($0.path)" })
                #expect(document.operations == expected)
            }
        }
    }

    @Test func everySchemaReferenceResolves() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let document = OutlinedYAML(try await client.send(.get, "/openapi.yaml").text)
                #expect(!document.references.isEmpty)
                for reference in document.references {
                    #expect(document.components.contains(reference), "unresolved \(reference)")
                }
            }
        }
    }

    /// YAML reads `a: b: c` as a nested mapping and fails: a plain value holding `: ` or ` #`
    /// must be quoted.
    @Test func plainValuesAreValidYAMLScalars() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let text = try await client.send(.get, "/openapi.yaml").text
                var inBlock = false
                var blockIndent = 0
                for line in text.split(separator: "\n") {
                    let indent = line.prefix { $0 == " " }.count
                    if inBlock, indent > blockIndent { continue }
                    inBlock = false
                    let content = line.trimmingCharacters(in: .whitespaces)
                    guard !content.hasPrefix("#"), let colon = content.range(of: ": ") else { continue }
                    var value = String(content[colon.upperBound...])
                    if value.hasPrefix("- ") { value.removeFirst(2) }
                    if value == "|" || value == ">" {
                        inBlock = true
                        blockIndent = indent
                        continue
                    }
                    guard let first = value.first, !"\"'[{".contains(first) else { continue }
                    #expect(!value.contains(": ") && !value.contains(" #"), "quote the value in: \(content)")
                }
            }
        }
    }

    /// Each documented operation reaches a handler: it never gets the router's own 404/405.
    @Test func everyDocumentedOperationIsRouted() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                for route in Self.routes where route.path != "/api/v1/events" {
                    let uri = route.path.replacingOccurrences(of: "{workflow_id}", with: "orch-x")
                        .replacingOccurrences(of: "{ticket_id}", with: "t-x")
                        .replacingOccurrences(of: "{plan_id}", with: "p-x")
                        .replacingOccurrences(of: "{worker_id}", with: "w-x")
                    let response = try await client.execute(uri: uri, method: route.method == "get" ? .get : .post)
                    let message = try? response.json["error"]?["message"]?.string
                    #expect(response.status != .methodNotAllowed, "\(route.method) \(uri)")
                    #expect(message != "Not Found", "\(route.method) \(uri) is not routed")
                }
            }
        }
    }
}

/// Just enough reading of the document's outline: the operations under `paths`, the defined
/// components and every `$ref`.
struct OutlinedYAML {
    let text: String
    var operations: Set<String> = []
    var components: Set<String> = []
    var references: Set<String> = []

    init(_ text: String) {
        self.text = text
        var section = ""
        var path = ""
        var group = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let indent = line.prefix { $0 == " " }.count
            let content = line.trimmingCharacters(in: .whitespaces)
            if indent == 0 { section = content }
            if content.hasPrefix("$ref:") {
                let target = content.dropFirst(5).trimmingCharacters(in: .whitespaces)
                references.insert(target.trimmingCharacters(in: CharacterSet(charactersIn: "\"'")))
            }
            guard content.hasSuffix(":") else { continue }
            let key = String(content.dropLast())
            switch (section, indent) {
            case ("paths:", 2): path = key
            case ("paths:", 4): operations.insert("\(key) \(path)")
            case ("components:", 2): group = key
            case ("components:", 4): components.insert("#/components/\(group)/\(key)")
            default: break
            }
        }
    }
}
