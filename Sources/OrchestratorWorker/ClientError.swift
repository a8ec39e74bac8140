import OrchestratorCore

/// A failed call to the orchestrator's REST API.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status; `nil` when no response arrived.
    public var status: Int?
    /// The server's error code (`{"error":{"code":…}}`), or for failures without one: `transport`
    /// (no response), `http_<status>`, `invalid_response` (unreadable body), `client_shut_down`.
    public var code: String
    /// The server's message, or what went wrong.
    public var message: String
    /// The response body when it was JSON (e.g. a validation report with a 422).
    public var body: JSONValue?
    /// The error behind a transport failure or an unreadable response.
    public var underlying: (any Error)?

    public init(
        status: Int? = nil,
        code: String,
        message: String,
        body: JSONValue? = nil,
        underlying: (any Error)? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        self.underlying = underlying
    }

    /// The server refused a stale or duplicate report, or a request that conflicts with the state (409).
    public var isConflict: Bool { status == 409 }
    /// No such workflow, ticket or worker (404).
    public var isNotFound: Bool { status == 404 }
    /// The server could not be reached or did not answer.
    public var isTransport: Bool { status == nil && code == "transport" }

    public var description: String {
        if let status { return "HTTP \(status) \(code): \(message)" }
        return "\(code): \(message)"
    }

    /// The error for a non-2xx response: the server's `{"error":{"code","message"}}` when present.
    public static func response(status: Int, body bytes: [UInt8]) -> ClientError {
        let json = JSONBody.decode(bytes)
        if case .object(let object)? = json, case .object(let error)? = object["error"] {
            let code = error["code"].flatMap(\.scalarText) ?? "http_\(status)"
            let message = error["message"].flatMap(\.scalarText) ?? "HTTP \(status)"
            return ClientError(status: status, code: code, message: message, body: json)
        }
        let text = String(decoding: bytes.prefix(500), as: UTF8.self)
        return ClientError(
            status: status,
            code: "http_\(status)",
            message: text.isEmpty ? "HTTP \(status)" : text,
            body: json
        )
    }
}
