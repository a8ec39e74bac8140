import Foundation
import Hummingbird
import HummingbirdTesting
import OrchestratorCore

extension TestClientProtocol {
    /// Sends a JSON body (a `JSONValue`, or raw text) and returns the response.
    @discardableResult
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        json: JSONValue? = nil,
        text: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try WireJSON.encode(json))
        } else if let text {
            body = ByteBuffer(string: text)
        }
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }

    /// Sends raw bytes with a content type.
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        bytes: [UInt8],
        contentType: String
    ) async throws
        -> TestResponse
    {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return try await execute(uri: uri, method: method, headers: headers, body: ByteBuffer(bytes: bytes))
    }
}

extension TestResponse {
    /// The body as JSON.
    var json: JSONValue {
        get throws { try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)) }
    }

    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    subscript(index: Int) -> JSONValue? {
        guard case .array(let array) = self, array.indices.contains(index) else { return nil }
        return array[index]
    }

    var string: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    var int: Int64? {
        switch self {
        case .integer(let value): return value
        case .number(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    var double: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    var bool: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    var array: [JSONValue]? {
        guard case .array(let value) = self else { return nil }
        return value
    }

    var object: [String: JSONValue]? {
        guard case .object(let value) = self else { return nil }
        return value
    }

    var isNull: Bool { self == .null }

    /// A copy with `key` set (`nil` removes it).
    func setting(_ key: String, _ value: JSONValue?) -> JSONValue {
        guard case .object(var object) = self else { return self }
        object[key] = value
        return .object(object)
    }
}

/// The example files in `examples/`.
enum Examples {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    static func json(_ name: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// `examples/decision.json`: decision `decision-0a1b2c3d`, a chain of four tasks.
    static func decision() throws -> JSONValue { try json("decision.json") }

    /// The example decision's plan, as an object.
    static func plan() throws -> JSONValue {
        guard let text = try decision()["cognitive_plan"]?.string else { return try json("plan.json") }
        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static let planId = "6f1c2a9e-1111-4c1d-9a7e-000000000001"
    static let workflowId = "orch-6f1c2a9e-1111-4c1d-9a7e-000000000001"
    static let taskOrder = ["task-1a2b3c4d", "task-2b3c4d5e", "task-3c4d5e6f", "task-4d5e6f70"]
}
