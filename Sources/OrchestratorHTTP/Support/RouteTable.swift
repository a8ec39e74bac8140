import Hummingbird
import Synchronization

/// The methods each route pattern of the router answers, so that a request for a known path with
/// another method is answered 405 with `Allow` (Hummingbird's router answers 404 for both).
/// Filled once the routes are added.
final class RouteTable: Sendable {
    private struct Route {
        var segments: [Substring]
        var method: String
    }

    private let routes = Mutex<[Route]>([])

    func set(_ descriptions: [(method: String, path: String)]) {
        let parsed = descriptions.map { Route(segments: Self.segments($0.path), method: $0.method) }
        routes.withLock { $0 = parsed }
    }

    /// The methods allowed on `path`, sorted; empty when no route has this path.
    func methods(for path: String) -> [String] {
        let requested = Self.segments(path)
        let allowed = routes.withLock { routes in
            routes.filter { route in
                route.segments.count == requested.count
                    && zip(route.segments, requested).allSatisfy { pattern, segment in
                        (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
                    }
            }.map(\.method)
        }
        return Array(Set(allowed)).sorted()
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}
