import Foundation
import JWTKit
import OrchestratorCore
import OrchestratorHTTP

/// Accepts JWTs (`auth.jwt_*`): HS256 with a shared secret from a file, or RS256/ES256 (any
/// algorithm of the keys) from a JWKS file. The signature is checked by jwt-kit; `exp` is
/// required and `nbf` honoured (30 s of leeway), `iss` and `aud` must match when configured, and
/// the roles come from a configurable claim (a dotted path such as `realm_access.roles`; a list of
/// strings, or one string of names separated by spaces or commas). The principal is the `sub`.
final class JWTVerifier: BearerVerifier {
    /// The key material, read and parsed at start (so a bad file stops the start); the key
    /// collection, an actor, is filled on first use.
    struct Material: Sendable {
        var hs256Secret: String?
        var jwks: JWKS?
    }

    actor Keys {
        let material: Material
        var collection: JWTKeyCollection?

        init(_ material: Material) { self.material = material }

        func get() async throws -> JWTKeyCollection {
            if let collection { return collection }
            let keys = JWTKeyCollection()
            if let secret = material.hs256Secret {
                await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            }
            if let jwks = material.jwks { try await keys.add(jwks: jwks) }
            collection = keys
            return keys
        }
    }

    let keys: Keys
    let issuer: String?
    let audience: String?
    let rolesClaim: String
    static let leewaySeconds: Double = 30

    init(material: Material, issuer: String?, audience: String?, rolesClaim: String) {
        self.keys = Keys(material)
        self.issuer = issuer
        self.audience = audience
        self.rolesClaim = rolesClaim
    }

    /// The claims of a token, all of them (the checks are this verifier's).
    struct Claims: JWTPayload {
        var values: [String: JSONValue]

        init(from decoder: any Decoder) throws {
            values = try decoder.singleValueContainer().decode([String: JSONValue].self)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(values)
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func principal(for token: String) async throws(BearerRejection) -> Principal {
        let claims: [String: JSONValue]
        do {
            claims = try await keys.get().verify(token, as: Claims.self).values
        } catch {
            throw BearerRejection("its signature or format is not accepted")
        }
        let now = Date().timeIntervalSince1970
        guard let expiry = Self.seconds(claims["exp"]) else { throw BearerRejection("it has no exp claim") }
        guard expiry + Self.leewaySeconds > now else { throw BearerRejection("it expired") }
        if let notBefore = Self.seconds(claims["nbf"]), notBefore - Self.leewaySeconds > now {
            throw BearerRejection("it is not valid yet (nbf)")
        }
        if let issuer {
            guard case .string(let given)? = claims["iss"], given == issuer else {
                throw BearerRejection("its iss is not \(issuer)")
            }
        }
        if let audience {
            let audiences: [String]
            switch claims["aud"] {
            case .string(let one)?: audiences = [one]
            case .array(let many)?: audiences = many.compactMap { if case .string(let s) = $0 { s } else { nil } }
            default: audiences = []
            }
            guard audiences.contains(audience) else { throw BearerRejection("its aud does not include \(audience)") }
        }
        guard case .string(let subject)? = claims["sub"], !subject.isEmpty else {
            throw BearerRejection("it has no sub claim")
        }
        return Principal(name: subject, roles: roles(in: claims), source: "jwt")
    }

    /// The known roles named by the roles claim; unknown names are ignored.
    func roles(in claims: [String: JSONValue]) -> Set<Role> {
        var value: JSONValue? = .object(claims)
        for part in rolesClaim.split(separator: ".") {
            guard case .object(let object)? = value else { return [] }
            value = object[String(part)]
        }
        let names: [String]
        switch value {
        case .array(let items)?: names = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        case .string(let text)?: names = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        default: names = []
        }
        return Set(names.compactMap { Role(rawValue: $0.lowercased()) })
    }

    static func seconds(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let n)?: return Double(n)
        case .number(let n)?: return n
        default: return nil
        }
    }

    /// The verifier `auth.jwt_*` describe, `nil` when no key is configured.
    static func make(_ auth: ServerConfiguration.Auth) throws -> JWTVerifier? {
        var material = Material()
        if let file = auth.jwtHS256SecretFile, !file.isEmpty {
            let secret = try ConfigurationLoader.secret(in: file, setting: "auth.jwt_hs256_secret_file")
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError("auth.jwt_hs256_secret_file \(file): the secret must be at least 32 bytes")
            }
            material.hs256Secret = secret
        }
        if let file = auth.jwksFile, !file.isEmpty {
            let text = try ConfigurationLoader.secret(in: file, setting: "auth.jwks_file")
            do {
                material.jwks = try JSONDecoder().decode(JWKS.self, from: Data(text.utf8))
            } catch {
                throw ConfigurationError("auth.jwks_file \(file): not a JWKS document (\(error))")
            }
            guard material.jwks?.keys.isEmpty == false else {
                throw ConfigurationError("auth.jwks_file \(file): it holds no key")
            }
        }
        guard material.hs256Secret != nil || material.jwks != nil else { return nil }
        return JWTVerifier(
            material: material,
            issuer: auth.jwtIssuer,
            audience: auth.jwtAudience,
            rolesClaim: auth.jwtRolesClaim
        )
    }
}
