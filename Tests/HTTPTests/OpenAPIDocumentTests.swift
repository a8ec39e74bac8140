import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import OrchestratorEngine
import OrchestratorHTTP
import Testing

@Suite struct OpenAPIDocumentTests {
    /// Every operation the production router serves (`buildRouter`), as the document spells it:
    /// `get /api/v1/workflows/{workflow_id}`. A route added without documentation, or documentation
    /// of a route that is gone, fails the test.
    static func routedOperations(_ engine: Engine) -> Set<String> {
        let router = buildRouter(engine: engine, options: HTTPOptions(), metrics: nil, access: .none)
        return Set(router.routes.map { "\($0.method.rawValue.lowercased()) \($0.path.description)" })
    }

    @Test func theServedDocumentDescribesEveryRouteAndNothingElse() async throws {
        try await TestServer.with { server in
            try await server.application.test(.router) { client in
                let response = try await client.send(.get, "/openapi.yaml")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
                let document = OutlinedYAML(response.text)
                #expect(document.text.hasPrefix("openapi: 3.1"))
                let routed = Self.routedOperations(server.engine)
                #expect(routed.count > 20)
                #expect(document.operations.subtracting(routed) == [], "documented but not routed")
                #expect(routed.subtracting(document.operations) == [], "routed but not documented")
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
                let document = OutlinedYAML(try await client.send(.get, "/openapi.yaml").text)
                let operations = document.operations.map { $0.split(separator: " ").map(String.init) }
                #expect(operations.count > 20)
                for route in operations.map({ (method: $0[0], path: $0[1]) }) where route.path != "/api/v1/events" {
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
