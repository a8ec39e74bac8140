import Foundation

/// What a principal may do. Every route needs one role (``AccessPolicy``); `admin` holds them all.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// Submit decisions and plans, start workflows.
    case submit
    /// Every `GET` of the API, the event stream and workflow queries.
    case read
    /// Approve, reject and cancel workflows.
    case operate
    /// Register, poll, heartbeat, complete and fail.
    case worker
    /// All of the above.
    case admin

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Parses a comma-separated list (`"read, submit"`), naming an unknown role in the error.
    public static func list(_ text: String) throws(AuthSetupError) -> Set<Role> {
        var roles: Set<Role> = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { continue }
            guard let role = Role(rawValue: name.lowercased()) else {
                throw AuthSetupError(
                    "unknown role \"\(name)\" (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            roles.insert(role)
        }
        return roles
    }
}

/// Who made a request: a named token, a JWT subject, or the anonymous caller the configuration
/// trusts (``AccessControl/anonymousRoles``).
public struct Principal: Sendable, Hashable {
    /// The token's name, the JWT's subject, or `anonymous`.
    public var name: String
    public var roles: Set<Role>
    /// How the principal was established: `token`, `jwt`, `anonymous` or `open` (`--auth none`).
    public var source: String

    public init(name: String, roles: Set<Role>, source: String) {
        self.name = name
        self.roles = roles
        self.source = source
    }

    /// Whether the principal may do what `role` allows (`admin` may do everything).
    public func holds(_ role: Role) -> Bool {
        roles.contains(role) || roles.contains(.admin)
    }

    var roleList: String {
        roles.isEmpty ? "none" : roles.sorted().map(\.rawValue).joined(separator: ", ")
    }
}

/// An authentication set-up that cannot be used (a token file that cannot be read, an unknown
/// role, ...), reported before the server starts.
public struct AuthSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
