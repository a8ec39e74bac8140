import Foundation
import Hummingbird
import OrchestratorCore

/// Reading the ids in request paths. The router matches the raw path, so a parameter arrives
/// still percent-encoded (`orch-%70lan`, `w%C3%B6rker%201`); it is decoded once, here, for every
/// route, and held to the ``Identifier`` limits. A problem is a 422 `invalid_field` naming the
/// parameter.
enum PathParameter {
    /// The decoded id in the path parameter `name`.
    static func id(_ name: String, in context: some RequestContext) throws -> String {
        try decoded(name, in: context, maxBytes: Identifier.maxBytes)
    }

    /// The decoded `workflow_id`: `orch-` and a plan id, so its limit is that much longer.
    static func workflowId(in context: some RequestContext) throws -> String {
        let prefix = TicketContext.workflowId(planId: "").utf8.count
        return try decoded("workflow_id", in: context, maxBytes: Identifier.maxBytes + prefix)
    }

    private static func decoded(_ name: String, in context: some RequestContext, maxBytes: Int) throws -> String {
        let raw = try context.parameters.require(name)
        guard let text = raw.removingPercentEncoding else {
            throw APIError.invalidField(name, "\(name): not valid percent-encoding (escapes are %XX over UTF-8)")
        }
        if let problem = Identifier.problem(text, maxBytes: maxBytes) {
            throw APIError.invalidField(name, "\(name): \(problem)")
        }
        return text
    }
}
