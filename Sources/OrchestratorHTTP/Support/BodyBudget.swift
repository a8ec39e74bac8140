import Hummingbird
import Synchronization

/// How many bytes of request bodies the server buffers at once, over all requests. A request
/// with a body reserves its declared length (or, without one, the largest body any route takes)
/// before its body is read, and gives it back when answered; one that does not fit is answered
/// 503 with `Retry-After` at once, before a byte of its body is buffered. Without it, many slow or
/// abandoned uploads of large bodies were each buffered whole (60 × 15 MB took the server from 40
/// to 980 MB).
public final class BodyBudget: Sendable {
    public let limit: Int
    private let used = Mutex<Int>(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Reserves `bytes` when they fit.
    func reserve(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard used + bytes <= limit else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        used.withLock { $0 -= bytes }
    }

    /// Bytes reserved now.
    public var inUse: Int { used.withLock { $0 } }
}

/// Holds every request with a body to the ``BodyBudget``.
struct BodyBudgetMiddleware<Context: RequestContext>: RouterMiddleware {
    let budget: BodyBudget
    /// The largest body any route accepts: reserved for a body of undeclared length, and the most
    /// a declared length reserves (a larger one is refused with 413 by its route).
    let largestBody: Int

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard [.post, .put, .patch].contains(request.method) else { return try await next(request, context) }
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        let bytes = min(declared ?? largestBody, largestBody)
        guard bytes > 0 else { return try await next(request, context) }
        guard budget.reserve(bytes) else {
            throw APIError(
                .serviceUnavailable,
                code: "unavailable",
                message:
                    "too many request bodies are being received at once (\(budget.limit) bytes buffered at most); "
                    + "retry shortly",
                retryAfterSeconds: 1
            )
        }
        defer { budget.release(bytes) }
        return try await next(request, context)
    }
}
