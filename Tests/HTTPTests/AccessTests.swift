import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore
import OrchestratorEngine
import Testing

@testable import OrchestratorHTTP

/// Authentication and roles (``AccessControl``, ``AccessPolicy``): the OpenAPI document and the
/// enforced policy agree, and each kind of caller gets 401, 403 or through.
@Suite struct AccessTests {
    static let tokens: [String: [Role]] = [
        "submit-token-0123456789abcdef0123": [.submit], "read-token-0123456789abcdef01234": [.read],
        "operate-token-0123456789abcdef012": [.operate], "worker-token-0123456789abcdef0123": [.worker],
        "admin-token-0123456789abcdef012345": [.admin],
    ]

    static func access(anonymous: Set<Role> = [], metricsNeedToken: Bool = false) -> AccessControl {
        AccessControl(
            mode: .required,
            tokens: tokens.map { token, roles in
                AccessControl.Token(
                    name: "\(roles[0].rawValue)-principal",
                    sha256: AccessControl.hash(token),
                    roles: roles
                )
            },
            anonymousRoles: anonymous,
            metricsNeedToken: metricsNeedToken
        )
    }

    static func bearer(_ role: Role) -> HTTPFields {
        let token = tokens.first { $0.value == [role] }!.key
        return [.authorization: "Bearer \(token)"]
    }

    /// `security: [{bearer: [ROLE]}]` of every documented operation, keyed `"get /path"`;
    /// `security: []` gives `open` and `/metrics`'s optional form gives `metrics`.
    static func documentedRoles(_ text: String) -> [String: String] {
        var roles: [String: String] = [:]
        var path = ""
        var operation = ""
        var inPaths = false
        for line in text.split(separator: "\n") {
            if !line.hasPrefix(" ") { inPaths = line == "paths:" }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                operation = "\(line.trimmingCharacters(in: .whitespaces).dropLast()) \(path)"
            }
            if line.hasPrefix("      security: ") {
                let value = line.dropFirst("      security: ".count)
                if value == "[]" {
                    roles[operation] = "open"
                } else if value == "[{}, {bearer: [read]}]" {
                    roles[operation] = "metrics"
                } else if value.hasPrefix("[{bearer: ["), value.hasSuffix("]}]") {
                    roles[operation] = String(value.dropFirst("[{bearer: [".count).dropLast(3))
                } else {
                    roles[operation] = "unreadable: \(value)"
                }
            }
        }
        return roles
    }

    static func describe(_ requirement: AccessPolicy.Requirement) -> String {
        switch requirement {
        case .open: return "open"
        case .metrics: return "metrics"
        case .role(let role): return role.rawValue
        }
    }

    @Test func everyRoutedOperationDeclaresTheRoleThePolicyEnforces() async throws {
        try await TestServer.with(start: false) { server in
            let text = try String(
                contentsOf: Examples.directory.deletingLastPathComponent()
                    .appendingPathComponent("Sources/OrchestratorHTTP/openapi.yaml"),
                encoding: .utf8
            )
            let documented = Self.documentedRoles(text)
            let routed = OpenAPIDocumentTests.routedOperations(server.engine)
            #expect(routed.count > 20)
            for operation in routed {
                let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
                let enforced = Self.describe(
                    AccessPolicy.requirement(method: parts[0].uppercased(), path: parts[1])
                )
                #expect(
                    documented[operation] == enforced,
                    "\(operation): documented \(documented[operation] ?? "nothing"), enforced \(enforced)"
                )
            }
        }
    }

    @Test func aRouteWithoutARuleNeedsAdmin() {
        #expect(AccessPolicy.requirement(method: "POST", path: "/api/v1/workflows/x/something-new") == .role(.admin))
        #expect(AccessPolicy.requirement(method: "DELETE", path: "/api/v1/workflows/x") == .role(.admin))
        #expect(AccessPolicy.requirement(method: "POST", path: "/health") == .role(.admin))
        #expect(AccessPolicy.requirement(method: "GET", path: "/api/v1/workflows/a%2Fb") == .role(.read))
    }

    @Test func anonymousGets401AWrongRole403AndTheRightRoleGoesThrough() async throws {
        try await TestServer.with { plain in
            var server = plain
            server.access = Self.access()
            try await server.application.test(.router) { client in
                let anonymous = try await client.send(.get, "/api/v1/workflows")
                #expect(anonymous.status == .unauthorized)
                #expect(try anonymous.json["error"]?["code"]?.string == "unauthorized")
                #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)

                let unknown = try await client.send(
                    .get,
                    "/api/v1/workflows",
                    headers: [.authorization: "Bearer not-a-token"]
                )
                #expect(unknown.status == .unauthorized)
                #expect(!unknown.text.contains("not-a-token"))
                let basic = try await client.send(.get, "/api/v1/workflows", headers: [.authorization: "Basic YTpi"])
                #expect(basic.status == .unauthorized)

                let wrong = try await client.send(.get, "/api/v1/workflows", headers: Self.bearer(.submit))
                #expect(wrong.status == .forbidden)
                #expect(try wrong.json["error"]?["code"]?.string == "forbidden")
                #expect(try wrong.json["error"]?["message"]?.string?.contains("needs the role read") == true)

                #expect(try await client.send(.get, "/api/v1/workflows", headers: Self.bearer(.read)).status == .ok)
                #expect(try await client.send(.get, "/api/v1/workflows", headers: Self.bearer(.admin)).status == .ok)
                for open in ["/health", "/openapi.yaml", "/metrics"] {
                    #expect(try await client.send(.get, open).status == .ok, "\(open)")
                }

                let submitted = try await client.send(
                    .post,
                    "/api/v1/decisions",
                    json: try Examples.decision(),
                    headers: Self.bearer(.read)
                )
                #expect(submitted.status == .forbidden)
                let accepted = try await client.send(
                    .post,
                    "/api/v1/decisions",
                    json: try Examples.decision(),
                    headers: Self.bearer(.submit)
                )
                #expect(accepted.status == .created, "\(accepted.text)")
            }
        }
    }

    @Test func anOperatorActionRecordsTheAuthenticatedPrincipalNotTheBodysName() async throws {
        try await TestServer.with { plain in
            var server = plain
            server.access = Self.access()
            try await server.application.test(.router) { client in
                let decision = try Examples.decision().setting("final_decision", .string("review_required"))
                let submitted = try await client.send(
                    .post,
                    "/api/v1/decisions",
                    json: decision,
                    headers: Self.bearer(.submit)
                )
                let workflowId = try #require(try submitted.json["workflow_id"]?.string)
                let byWorker = try await client.send(
                    .post,
                    "/api/v1/workflows/\(workflowId)/approve",
                    headers: Self.bearer(.worker)
                )
                #expect(byWorker.status == .forbidden)
                let approved = try await client.send(
                    .post,
                    "/api/v1/workflows/\(workflowId)/approve",
                    json: .object(["by": .string("mallory")]),
                    headers: Self.bearer(.operate)
                )
                #expect(approved.status == .ok, "\(approved.text)")
                let history = try await client.send(
                    .get,
                    "/api/v1/workflows/\(workflowId)/history",
                    headers: Self.bearer(.read)
                )
                #expect(history.text.contains("operate-principal"))
                #expect(!history.text.contains("mallory"))
            }
        }
    }

    @Test func callersWithoutATokenGetTheConfiguredAnonymousRolesOnly() async throws {
        try await TestServer.with { plain in
            var server = plain
            server.access = Self.access(anonymous: [.submit, .read])
            try await server.application.test(.router) { client in
                #expect(try await client.send(.get, "/api/v1/workflows").status == .ok)
                let submitted = try await client.send(.post, "/api/v1/decisions", json: try Examples.decision())
                #expect(submitted.status == .created, "\(submitted.text)")
                let workflowId = try #require(try submitted.json["workflow_id"]?.string)
                #expect(try await client.send(.post, "/api/v1/workflows/\(workflowId)/cancel").status == .forbidden)
                let register = try await client.send(
                    .post,
                    "/api/v1/workers/register",
                    json: .object(["worker_id": .string("w")])
                )
                #expect(register.status == .forbidden)
                // A token still counts when given: a bad one is refused, not downgraded to anonymous.
                let bad = try await client.send(.get, "/api/v1/workflows", headers: [.authorization: "Bearer nope"])
                #expect(bad.status == .unauthorized)
            }
        }
    }

    @Test func metricsCanBeClosedToCallersWithoutReadRole() async throws {
        try await TestServer.with { plain in
            var server = plain
            server.access = Self.access(metricsNeedToken: true)
            try await server.application.test(.router) { client in
                let anonymous = try await client.send(.get, "/metrics")
                #expect(anonymous.status == .unauthorized)
                #expect(try await client.send(.get, "/metrics", headers: Self.bearer(.worker)).status == .forbidden)
                #expect(try await client.send(.get, "/metrics", headers: Self.bearer(.read)).status == .ok)
                #expect(try await client.send(.get, "/health").status == .ok)
            }
        }
    }

    @Test func aReportNeedsItsLeaseSecretAndOnlyThePollingPrincipalMayUseIt() async throws {
        try await TestServer.with { plain in
            var server = plain
            server.access = Self.access()
            try await server.application.test(.router) { client in
                let submitted = try await client.send(
                    .post,
                    "/api/v1/decisions",
                    json: try Examples.decision(),
                    headers: Self.bearer(.submit)
                )
                #expect(submitted.status == .created)
                let register = try await client.send(
                    .post,
                    "/api/v1/workers/register",
                    json: .object(["worker_id": .string("w-1"), "capabilities": .array([.string("*")])]),
                    headers: Self.bearer(.worker)
                )
                #expect(register.status == .ok)
                let poll = try await client.send(
                    .post,
                    "/api/v1/workers/w-1/poll",
                    json: .object(["wait_ms": .integer(5000)]),
                    headers: Self.bearer(.worker)
                )
                let grant = try #require(try poll.json["tickets"]?[0])
                let ticketId = try #require(grant["ticket"]?["ticket_id"]?.string)
                let token = try #require(grant["fencing_token"]?.int)
                let secret = try #require(grant["lease_secret"]?.string)
                #expect(secret.count == 32 && secret.allSatisfy(\.isHexDigit))
                let path = "/api/v1/tickets/\(ticketId)/complete"
                func body(_ secret: String?) -> JSONValue {
                    var fields: [String: JSONValue] = ["worker_id": .string("w-1"), "fencing_token": .integer(token)]
                    if let secret { fields["lease_secret"] = .string(secret) }
                    return .object(fields)
                }

                let missing = try await client.send(.post, path, json: body(nil), headers: Self.bearer(.worker))
                #expect(missing.status == .unprocessableContent)
                #expect(try missing.json["error"]?["field"]?.string == "lease_secret")
                let wrong = try await client.send(
                    .post,
                    path,
                    json: body(String(repeating: "0", count: 32)),
                    headers: Self.bearer(.worker)
                )
                #expect(wrong.status == .forbidden)
                // The right secret from another principal (the admin) is refused too.
                let stolen = try await client.send(.post, path, json: body(secret), headers: Self.bearer(.admin))
                #expect(stolen.status == .forbidden)
                let ticket = try await client.send(.get, "/api/v1/tickets/\(ticketId)", headers: Self.bearer(.read))
                #expect(try ticket.json["phase"]?.string == "LEASED", "\(ticket.text)")

                let done = try await client.send(
                    .post,
                    path,
                    json: body(secret.uppercased()),
                    headers: Self.bearer(.worker)
                )
                #expect(done.status == .ok, "\(done.text)")
            }
        }
    }
}

@Suite struct RateLimiterTests {
    @Test func aPrincipalGetsItsBurstThenWaitsAndOthersAreNotAffected() {
        let limiter = RateLimiter(ratePerSecond: 1, burst: 3)
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") == 1)
        #expect(limiter.take("b") == nil)
        #expect(RateLimiter(ratePerSecond: 0, burst: 1).take("a") == nil)
    }

    @Test func longPollsAreCountedPerWorker() {
        let counter = LongPollCounter(limit: 2)
        #expect(counter.enter("w"))
        #expect(counter.enter("w"))
        #expect(!counter.enter("w"))
        #expect(counter.enter("v"))
        counter.leave("w")
        #expect(counter.enter("w"))
    }
}
