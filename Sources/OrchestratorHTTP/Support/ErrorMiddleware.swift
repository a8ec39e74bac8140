import Hummingbird
import Logging

/// Turns every error a route throws (and the router's own 404/405) into the API's JSON error
/// body, logging server-side failures.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError.from(error)
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
