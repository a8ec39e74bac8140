import Foundation
import Hummingbird
import OrchestratorCore

/// Builds JSON responses with the hive-mind's wire encoding (snake_case keys from the models'
/// coding keys, epoch-millisecond timestamps, sorted keys).
enum JSONResponse {
    static let contentType = "application/json; charset=utf-8"

    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try WireJSON.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
