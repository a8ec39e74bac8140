import Hummingbird
import OrchestratorEngine
import OrchestratorStore

/// `GET /api/v1/dead-letters?topic=&limit=&offset=`.
struct DeadLetterRoutes<Context: RequestContext> {
    let engine: Engine

    var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get { request, _ in
            let query = QueryReader(request)
            let (limit, offset) = try query.page(defaultLimit: 100, maxLimit: 1000)
            let filter = DeadLetterFilter(topic: query.string("topic"), limit: limit, offset: offset)
            let letters = try await engine.store.deadLetters(filter)
            return try JSONResponse.make(
                DeadLetterPage(deadLetters: letters, limit: limit, offset: offset, count: letters.count)
            )
        }
        return routes
    }

    struct DeadLetterPage: Encodable {
        var deadLetters: [DeadLetter]
        var limit: Int
        var offset: Int
        var count: Int

        enum CodingKeys: String, CodingKey {
            case deadLetters = "dead_letters"
            case limit, offset, count
        }
    }
}
