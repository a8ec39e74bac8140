import Hummingbird
import HummingbirdAuth

/// Authentication and authorization of every request, in one middleware: finds the route's
/// requirement (``AccessPolicy``), establishes the principal (``AccessControl``) and checks its
/// role. A missing or invalid credential is a 401 with `WWW-Authenticate: Bearer`; the wrong role
/// is a 403. The principal is left in the context for the routes (`approved_by`, worker checks).
struct AccessMiddleware<Context: AuthRequestContext<Principal>>: RouterMiddleware {
    let access: AccessControl

    static var openPrincipal: Principal { Principal(name: "anonymous", roles: [.admin], source: "open") }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if access.mode == .none {
            context.identity = Self.openPrincipal
            return try await next(request, context)
        }
        let needed: Role
        switch AccessPolicy.requirement(method: request.method.rawValue, path: request.uri.path) {
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
        context.identity = principal
        return try await next(request, context)
    }
}
