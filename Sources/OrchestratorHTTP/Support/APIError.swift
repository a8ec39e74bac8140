import Foundation
import Hummingbird
import OrchestratorCore

/// An error answered as `{"error":{"code","message","field"?,"refusal"?}}` with its HTTP status.
///
/// Every 4xx and 5xx response of the API has this body. Codes: `invalid_json`, `invalid_field`,
/// `invalid_query`, `invalid_body`, `incomplete_body`, `unauthorized`, `forbidden`,
/// `payload_too_large`, `not_found`, `conflict`, `rate_limited`, `unavailable`, `internal`.
public struct APIError: HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// The offending field (body field path or query parameter), when one is to blame.
    public var field: String?
    /// For `conflict`: the state machine's refusal (`stale_lease`, `invalid_state`, ...).
    public var refusal: String?
    /// Sent as the `Retry-After` header (503 when the server is busy).
    public var retryAfterSeconds: Int?
    /// Sent as the `Allow` header (405).
    public var allow: String?
    /// Sent as the `WWW-Authenticate` header (401).
    public var challenge: String?

    public init(
        _ status: HTTPResponse.Status,
        code: String,
        message: String,
        field: String? = nil,
        refusal: String? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.refusal = refusal
        self.retryAfterSeconds = retryAfterSeconds
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = JSONResponse.contentType
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if let allow { headers[.allow] = allow }
        if let challenge { headers[.wwwAuthenticate] = challenge }
        let body = (try? WireJSON.encode(Envelope(error: self))) ?? Data(#"{"error":{"code":"internal"}}"#.utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    private struct Envelope: Encodable {
        var error: APIError
    }
}

extension APIError: Encodable {
    enum CodingKeys: String, CodingKey {
        case code, message, field, refusal
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
        try container.encodeIfPresent(field, forKey: .field)
        try container.encodeIfPresent(refusal, forKey: .refusal)
    }
}

extension APIError {
    /// 401: no usable credential; asks for a bearer token.
    static func unauthorized(_ message: String) -> APIError {
        var error = APIError(.unauthorized, code: "unauthorized", message: message)
        error.challenge = #"Bearer realm="orchestrator-dynamic""#
        return error
    }

    /// 403: the principal lacks the role, or acts for another principal's worker or lease.
    static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, code: "forbidden", message: message)
    }

    /// 400: the body is not readable JSON.
    static func invalidJSON(_ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_json", message: message)
    }

    /// 422: a body field is missing, of the wrong type or out of range.
    static func invalidField(_ field: String?, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_field", message: message, field: field)
    }

    /// 400: a query parameter cannot be read.
    static func invalidQuery(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_query", message: "\(name): \(message)", field: name)
    }

    /// 404.
    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }

    /// 400: the connection ended (or the framing broke) before the whole body arrived.
    static func incompleteBody(_ cause: any Error) -> APIError {
        APIError(
            .badRequest,
            code: "incomplete_body",
            message: "the request body ended before it was complete (\(cause))"
        )
    }

    /// 413.
    static func tooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "payload_too_large", message: "the request body exceeds \(limit) bytes")
    }
}
