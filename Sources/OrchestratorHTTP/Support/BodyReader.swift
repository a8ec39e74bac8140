import Foundation
import Hummingbird
import OrchestratorCore

/// Reading request bodies under a size limit, with errors that name the field.
enum BodyReader {
    /// The whole body, or 413 when it is larger than `limit` bytes.
    static func bytes(of request: Request, limit: Int) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: limit)
        } catch {
            // The client went away (or broke the framing) before the body was complete: nobody
            // reads the answer, and it is no failure of the server's.
            throw APIError.incompleteBody(error)
        }
    }

    /// Decodes a JSON body. An empty body reads as `{}` when `emptyIsObject` (bodies whose fields
    /// all have defaults). Not JSON, too deep or with a duplicate key → 400 `invalid_json` with
    /// line and column (see ``WireJSON/check(_:)``); wrong or missing fields → 422
    /// `invalid_field` naming the field.
    static func decode<T: Decodable>(
        _ type: T.Type,
        from request: Request,
        limit: Int,
        emptyIsObject: Bool = false
    ) async throws -> T {
        var bytes = try await self.bytes(of: request, limit: limit)
        if bytes.allSatisfy(isBlank) {
            guard emptyIsObject else { throw APIError.invalidJSON("the request body is empty") }
            bytes = Array("{}".utf8)
        }
        return try decode(type, from: bytes)
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try WireJSON.check(bytes)
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw APIError.from(error)
        }
    }

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
    }
}
