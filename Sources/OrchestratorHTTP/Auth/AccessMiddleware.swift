import Hummingbird
import HummingbirdAuth

/// Authentication and authorization of every request, in one middleware: finds the route's
/// requirement (``AccessPolicy``), establishes the principal (``AccessControl``) and checks its
/// role. A missing or invalid credential is a 401 with `WWW-Authenticate: Bearer`; the wrong role
/// is a 403. The principal is left in the context for the routes (`approved_by`, worker checks).
///
/// Authenticated requests then count against their principal's rate limit (``RateLimiter``):
/// over it, 429 with `Retry-After`. The open routes are never limited.
struct AccessMiddleware<Context: AuthRequestContext<Principal>>: RouterMiddleware {
    let access: AccessControl
    var limiter = RateLimiter(ratePerSecond: 0, burst: 1)

    static var openPrincipal: Principal { Principal(name: "anonymous", roles: [.admin], source: "open") }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let requirement = AccessPolicy.requirement(method: request.method.rawValue, path: request.uri.path)
        if access.mode == .none {
            context.identity = Self.openPrincipal
            if requirement != .open, requirement != .metrics { try limit(Self.openPrincipal) }
            return try await next(request, context)
        }
        let needed: Role
        switch requirement {
        case .open:
            return try await next(request, context)
        case .metrics:
            guard access.metricsNeedToken else { return try await next(request, context) }
            needed = .read
        case .role(let role):
            needed = role
        }
        let principal = try await access.principal(for: request.headers)
        guard principal.holds(needed) else {
            throw APIError.forbidden(
                "\(request.method) \(request.uri.path) needs the role \(needed.rawValue); "
                    + "\(principal.name) has \(principal.roleList)"
            )
        }
        try limit(principal)
        context.identity = principal
        return try await next(request, context)
    }

    func limit(_ principal: Principal) throws {
        if let wait = limiter.take(principal.name) {
            var error = APIError(
                .tooManyRequests,
                code: "rate_limited",
                message: "\(principal.name) is over its rate limit of \(Int(limiter.ratePerSecond)) requests a second",
                retryAfterSeconds: wait
            )
            error.field = nil
            throw error
        }
    }
}
