import AsyncHTTPClient
import Foundation
import OrchestratorCore

/// A small client of the orchestrator's REST API (`/api/v1`), used by the CLI and the reference
/// worker.
///
/// Every method throws ``ClientError``: with the status and the server's error code and message
/// for a non-2xx answer, with code `transport` when no answer came. Call ``shutdown()`` once
/// done (the underlying HTTP client is created on the first request).
public final class OrchestratorClient: Sendable {
    /// The server, e.g. `http://127.0.0.1:8000`.
    public let baseURL: String
    /// Timeout of a request (a long poll adds its wait to it).
    public let requestTimeoutMs: Int64
    /// Sent as `Authorization: Bearer <token>` on every request when set.
    let token: String?
    /// Long polls, heartbeats and reports of every slot of a worker go through this one client.
    private let http: OwnedHTTPClient

    /// - Parameters:
    ///   - baseURL: the server, e.g. `http://127.0.0.1:8000`.
    ///   - token: the bearer token (API token or JWT) sent with every request.
    ///   - requestTimeoutMs: timeout of one request.
    ///   - caFile: PEM file of the CA certificates trusted for `https://` (default: the system's).
    public init(baseURL: String, token: String? = nil, requestTimeoutMs: Int64 = 30_000, caFile: String? = nil) {
        http = OwnedHTTPClient(followRedirects: false, connectionsPerHost: 512, caFile: caFile)
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token
        self.requestTimeoutMs = requestTimeoutMs
    }

    /// Shuts the HTTP client down; later calls throw `client_shut_down`.
    public func shutdown() async {
        await http.shutdown()
    }

    // MARK: - Service

    /// `GET /health`.
    public func health() async throws -> HealthReport {
        let response = try await send("GET", "/health")
        return HealthReport(json: JSONBody.decode(response.body) ?? .null)
    }

    /// `POST /api/v1/decisions`: submits a decision (JSON bytes as given).
    public func submitDecision(jsonBytes: [UInt8]) async throws -> SubmitResponse {
        SubmitResponse(try await send("POST", "/api/v1/decisions", body: jsonBytes))
    }

    /// `POST /api/v1/plans`: keeps a plan in the ledger and, with `start`, runs it.
    public func submitPlan(jsonBytes: [UInt8], start: Bool) async throws -> SubmitResponse {
        SubmitResponse(
            try await send("POST", "/api/v1/plans", query: [("start", start ? "true" : "false")], body: jsonBytes)
        )
    }

    /// `GET /api/v1/workflows/{id}`.
    public func workflow(_ workflowId: String) async throws -> WorkflowView {
        let response = try await send("GET", "/api/v1/workflows/" + Self.segment(workflowId))
        return try JSONBody.decode(WorkflowView.self, from: response.body, status: response.status)
    }

    /// `GET /api/v1/workflows?status=&limit=`. Accepts a list, or an object holding it under
    /// `workflows` or `items`.
    public func listWorkflows(status: String? = nil, limit: Int? = nil) async throws -> [WorkflowView] {
        var query: [(String, String)] = []
        if let status { query.append(("status", status)) }
        if let limit { query.append(("limit", String(limit))) }
        let response = try await send("GET", "/api/v1/workflows", query: query)
        let json = JSONBody.decode(response.body)
        let list = json?.member("workflows") ?? json?.member("items") ?? json
        guard let list, case .array = list else {
            throw ClientError(
                status: response.status,
                code: "invalid_response",
                message: "expected a list of workflows",
                body: json
            )
        }
        do {
            return try list.decoded(as: [WorkflowView].self)
        } catch {
            throw ClientError(
                status: response.status,
                code: "invalid_response",
                message: "unreadable workflow list: \(error)",
                body: json,
                underlying: error
            )
        }
    }

    // MARK: - Transport

    /// An HTTP answer: its status and body.
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// Sends one request; non-2xx answers throw ``ClientError``.
    func send(
        _ method: String,
        _ path: String,
        query: [(String, String)] = [],
        body: [UInt8]? = nil,
        extraTimeoutMs: Int64 = 0,
        traceparent: String? = nil
    ) async throws -> Response {
        let response = try await exchange(
            method,
            path,
            query: query,
            body: body,
            extraTimeoutMs: extraTimeoutMs,
            traceparent: traceparent
        )
        guard (200...299).contains(response.status) else {
            throw ClientError.response(status: response.status, body: response.body)
        }
        return response
    }

    /// Sends one request and returns whatever status came back (`doctor` reads `/ready`'s 503
    /// body and `/metrics` text); throws ``ClientError`` only when no answer came.
    public func exchange(
        _ method: String,
        _ path: String,
        query: [(String, String)] = [],
        body: [UInt8]? = nil,
        extraTimeoutMs: Int64 = 0,
        traceparent: String? = nil
    ) async throws -> Response {
        var url = baseURL + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.queryPart($0.0))=\(Self.queryPart($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "orchestrator-dynamic-client")
        if let token { request.headers.add(name: "Authorization", value: "Bearer " + token) }
        // A ticket's report continues the trace of its lease (the grant's `traceparent`).
        if let traceparent { request.headers.add(name: "traceparent", value: traceparent) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        do {
            let response = try await http.client().execute(
                request,
                timeout: .milliseconds(requestTimeoutMs + extraTimeoutMs)
            )
            let bytes = Array(try await response.body.collect(upTo: 64 << 20).readableBytesView)
            return Response(status: Int(response.status.code), body: bytes)
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(code: "transport", message: "\(method) \(url): \(error)", underlying: error)
        }
    }

    /// A path segment with everything but unreserved characters percent-encoded.
    public static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static func queryPart(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
}
