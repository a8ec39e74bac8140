import Crypto
import Foundation
import HTTPTypes
import HummingbirdAuth
import OrchestratorStore

/// Who may call the API: the named bearer tokens (kept as SHA-256 hashes, never the tokens), the
/// roles granted to callers that send no token (deployments whose service mesh authenticates
/// them), and whether `/metrics` needs a token.
public struct AccessControl: Sendable {
    public enum Mode: String, Sendable, Codable {
        /// Every route but the open ones needs a principal with the route's role.
        case required
        /// No checks at all (`--auth none`): every caller acts as `anonymous` with every role.
        case none
    }

    /// One accepted token: its name (the principal), the hex SHA-256 of the token, its roles.
    public struct Token: Sendable, Equatable, Codable {
        public var name: String
        public var sha256: String
        public var roles: [Role]

        public init(name: String, sha256: String, roles: [Role]) {
            self.name = name
            self.sha256 = sha256.lowercased()
            self.roles = roles
        }
    }

    public var mode: Mode
    /// Roles of a request that carries no `Authorization` header; empty (the default) answers 401.
    public var anonymousRoles: Set<Role>
    /// Whether `/metrics` needs a token with `read` (default: open, for Prometheus).
    public var metricsNeedToken: Bool
    /// Verifies JWTs; `nil` when none are configured.
    public var jwt: (any BearerVerifier)?
    private var tokens: [String: Principal]

    /// No authentication: for tests and `--auth none`.
    public static let none = AccessControl(mode: .none)

    public init(
        mode: Mode = .required,
        tokens: [Token] = [],
        anonymousRoles: Set<Role> = [],
        metricsNeedToken: Bool = false,
        jwt: (any BearerVerifier)? = nil
    ) {
        self.mode = mode
        self.anonymousRoles = anonymousRoles
        self.metricsNeedToken = metricsNeedToken
        self.jwt = jwt
        var table: [String: Principal] = [:]
        for token in tokens {
            table[token.sha256] = Principal(name: token.name, roles: Set(token.roles), source: "token")
        }
        self.tokens = table
    }

    /// The hex SHA-256 of a token, as kept in token files (on every request: no `String(format:)`).
    public static func hash(_ token: String) -> String {
        SecretHex.encode(Array(SHA256.hash(data: Data(token.utf8))))
    }

    /// The principal of a request's headers, or 401 (`unauthorized`) when it carries no usable
    /// credential. Never echoes the token.
    func principal(for headers: HTTPFields) async throws(APIError) -> Principal {
        guard headers[.authorization] != nil else {
            if !anonymousRoles.isEmpty {
                return Principal(name: "anonymous", roles: anonymousRoles, source: "anonymous")
            }
            throw .unauthorized("this operation needs a bearer token (Authorization: Bearer <token>)")
        }
        guard let bearer = headers.bearer, !bearer.token.isEmpty else {
            throw .unauthorized("the Authorization header must be \"Bearer <token>\"")
        }
        if let principal = tokens[Self.hash(bearer.token)] {
            return principal
        }
        if let jwt, bearer.token.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            do {
                return try await jwt.principal(for: bearer.token)
            } catch {
                throw .unauthorized("the bearer JWT is not valid: \(error.reason)")
            }
        }
        throw .unauthorized("the bearer token is not valid")
    }
}

/// Checks a bearer credential that is not a listed token (a JWT), giving its principal.
public protocol BearerVerifier: Sendable {
    func principal(for token: String) async throws(BearerRejection) -> Principal
}

/// Why a bearer credential was refused; `reason` is safe to show to the caller.
public struct BearerRejection: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
