import Hummingbird
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore

/// `GET /api/v1/events?topic=&limit=`: the outbox as server-sent events, live from the engine's
/// feed (only messages relayed after the request arrived).
struct EventRoutes<Context: RequestContext> {
    let engine: Engine
    let keepAliveSeconds: Int

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get { request, _ in try stream(request) }
        return routes
    }

    func stream(_ request: Request) throws -> Response {
        let query = QueryReader(request)
        let topics = try Self.topics(query.string("topic"))
        let limit = try query.int("limit", default: 0, in: 0...Int(Int32.max))
        // Subscribe now, so that nothing relayed between this answer and the first write is missed.
        let stream = EventStream(
            messages: engine.feed.subscribe(),
            topics: topics,
            limit: limit,
            keepAliveSeconds: keepAliveSeconds,
            engine: engine
        )
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in try await stream.write(to: &writer) }
        )
    }

    /// `tickets,incidents`-style list of topic names; `nil` (every topic) when absent.
    static func topics(_ text: String?) throws -> Set<OutboxTopic>? {
        guard let text else { return nil }
        var topics = Set<OutboxTopic>()
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let topic = OutboxTopic(rawValue: name) else {
                let names = OutboxTopic.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError.invalidQuery("topic", "unknown topic \"\(name)\" (expected one of \(names))")
            }
            topics.insert(topic)
        }
        return topics
    }
}
