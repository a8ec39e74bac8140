/// What each route of the API needs. The OpenAPI document declares the same role per operation
/// (`security: [{bearer: [role]}]`), and a test holds the two equal.
///
/// Rules, in order: the service routes are public (`/metrics` as configured); every `GET` under
/// `/api/v1` needs `read`; each `POST` is listed with its role; anything else under the API needs
/// `admin`, so a route added without a rule is closed rather than open.
public enum AccessPolicy {
    public enum Requirement: Sendable, Equatable {
        /// No token needed: `/health`, `/ready`, `/openapi.yaml`.
        case open
        /// `/metrics`: open, or `read` when ``AccessControl/metricsNeedToken``.
        case metrics
        case role(Role)
    }

    /// The `POST` routes and their roles (paths relative to `/api/v1`).
    static let posts: [(path: [Substring], role: Role)] = {
        let rules: [(String, Role)] = [
            ("decisions", .submit),
            ("plans", .submit),
            ("workflows/start", .submit),
            ("workflows/{workflow_id}/query", .read),
            ("workflows/{workflow_id}/approve", .operate),
            ("workflows/{workflow_id}/reject", .operate),
            ("workflows/{workflow_id}/cancel", .operate),
            ("tickets/{ticket_id}/heartbeat", .worker),
            ("tickets/{ticket_id}/complete", .worker),
            ("tickets/{ticket_id}/fail", .worker),
            ("workers/register", .worker),
            ("workers/{worker_id}/poll", .worker),
        ]
        return rules.map { (path: $0.0.split(separator: "/"), role: $0.1) }
    }()

    static let openPaths: Set<String> = ["health", "ready", "openapi.yaml"]

    /// The requirement of `method` on `path` (the request's raw path; percent-encoded segments
    /// stay one segment each).
    public static func requirement(method: String, path: String) -> Requirement {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let isRead = method == "GET" || method == "HEAD"
        if segments.count == 1, isRead {
            if openPaths.contains(String(segments[0])) { return .open }
            if segments[0] == "metrics" { return .metrics }
        }
        guard segments.count >= 2, segments[0] == "api", segments[1] == "v1" else {
            return .role(.admin)
        }
        let rest = segments.dropFirst(2)
        if isRead { return .role(.read) }
        if method == "POST" {
            for rule in posts where rule.path.count == rest.count {
                let matches = zip(rule.path, rest).allSatisfy { pattern, segment in
                    (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
                }
                if matches { return .role(rule.role) }
            }
        }
        return .role(.admin)
    }
}
