import Hummingbird
import Logging

/// Turns every error a route throws (and the router's own 404/405) into the API's JSON error
/// body, logging server-side failures.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The router's routes: a path it serves under other methods is answered 405.
    var routes = RouteTable()

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var apiError = APIError.from(error)
            if apiError.status == .notFound, (error as? HTTPError)?.status == .notFound {
                let allowed = routes.methods(for: request.uri.path)
                if !allowed.isEmpty {
                    apiError = APIError(
                        .methodNotAllowed,
                        code: "method_not_allowed",
                        message: "\(request.method) is not allowed on \(request.uri.path); allowed: "
                            + allowed.joined(separator: ", ")
                    )
                    apiError.allow = allowed.joined(separator: ", ")
                }
            }
            if apiError.code == "incomplete_body" {
                context.logger.debug(
                    "request body incomplete",
                    metadata: ["path": "\(request.uri.path)", "error": "\(apiError.message)"]
                )
            } else if apiError.status.code >= 500 {
                context.logger.error(
                    "request failed",
                    metadata: [
                        "path": "\(request.uri.path)", "status": "\(apiError.status.code)",
                        "error": "\(apiError.message)",
                    ]
                )
            }
            return try apiError.response(from: request, context: context)
        }
    }
}
