import Foundation
import Hummingbird
import OrchestratorCore
import OrchestratorEngine

extension APIError {
    /// The API error for anything a handler throws. Engine and wire-format errors are mapped here
    /// and nowhere else.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as EngineError:
            return from(error)
        case let error as WireFormatError:
            return from(error)
        case let error as DecodingError:
            return from(error)
        case let error as HTTPError:
            return from(status: error.status, message: error.body)
        case let error as any HTTPResponseError:
            // e.g. NIOTooManyBytesError from a body collected over its limit.
            return from(status: error.status, message: nil)
        default:
            return APIError(.internalServerError, code: "internal", message: String(describing: error))
        }
    }

    static func from(_ error: EngineError) -> APIError {
        switch error.code {
        case .notFound:
            return APIError(.notFound, code: "not_found", message: error.message)
        case .conflict:
            return APIError(.conflict, code: "conflict", message: error.message, refusal: error.refusal?.rawValue)
        case .invalid:
            return invalidField(leadingField(of: error.message), error.message)
        case .unavailable:
            return APIError(.serviceUnavailable, code: "unavailable", message: error.message)
        }
    }

    /// A body that decoded as JSON but not as the expected shape is a field problem (422); text
    /// that is not JSON at all, or not an object, is 400.
    static func from(_ error: DecodingError) -> APIError {
        let message = describe(error)
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return invalidJSON(message)
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return invalidJSON(message)
        case .keyNotFound(let key, let context):
            return invalidField(fieldPath(context.codingPath + [key]), message)
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return invalidField(fieldPath(context.codingPath), message)
        @unknown default:
            return invalidField(nil, message)
        }
    }

    /// Unreadable input: `invalid_json`, `invalid_avro`, or `invalid_body` (e.g. an empty body).
    static func from(_ error: WireFormatError) -> APIError {
        let code: String =
            switch error.format {
            case "JSON": "invalid_json"
            case "Avro": "invalid_avro"
            default: "invalid_body"
            }
        return APIError(.badRequest, code: code, message: error.description, field: error.field)
    }

    static func from(status: HTTPResponse.Status, message: String?) -> APIError {
        let code: String =
            switch status.code {
            case 404: "not_found"
            case 405: "method_not_allowed"
            case 413: "payload_too_large"
            case 400..<500: "bad_request"
            default: "internal"
            }
        return APIError(status, code: code, message: message ?? status.reasonPhrase)
    }

    /// `a.b[0].c`, the path style of ``describe(_:)``.
    static func fieldPath(_ codingPath: [any CodingKey]) -> String? {
        guard !codingPath.isEmpty else { return nil }
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }

    /// The engine words invalid-input messages as `field: problem`; the field is the part before
    /// the colon when it looks like a field path.
    static func leadingField(of message: String) -> String? {
        guard let colon = message.firstIndex(of: ":") else { return nil }
        let candidate = message[..<colon]
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.[]"))
        guard !candidate.isEmpty, candidate.unicodeScalars.allSatisfy(allowed.contains) else { return nil }
        return String(candidate)
    }
}
