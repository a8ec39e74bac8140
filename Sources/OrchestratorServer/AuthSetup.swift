import Crypto
import Foundation
import Logging
import OrchestratorHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the API's ``AccessControl`` from `auth.*`: the token file when one is given, otherwise
/// the data directory's `admin.token` (created on the first start). Logs what it set up, never a
/// token.
public enum AuthSetup {
    /// The token file `serve` creates when no authentication is configured.
    public static func adminTokenPath(_ configuration: ServerConfiguration) -> String {
        configuration.storage.dataDir + "/admin.token"
    }

    public static func accessControl(
        _ configuration: ServerConfiguration,
        logger: Logger
    ) throws -> AccessControl {
        let auth = configuration.auth
        let anonymous: Set<Role>
        do {
            anonymous = try Role.list(auth.anonymousRoles.joined(separator: ","))
        } catch {
            throw ConfigurationError("auth.anonymous_roles: \(error)")
        }
        switch auth.mode.lowercased() {
        case "none":
            logger.warning(
                "authentication is OFF (auth.mode none): anyone who can reach the port can submit, approve, cancel and complete work"
            )
            return .none
        case "required":
            break
        default:
            throw ConfigurationError("auth.mode must be required or none, got \"\(auth.mode)\"")
        }
        var tokens: [AccessControl.Token]
        let jwt = try JWTVerifier.make(auth)
        if let jwt {
            logger.info(
                "JWTs accepted",
                metadata: [
                    "hs256": "\(auth.jwtHS256SecretFile ?? "-")", "jwks": "\(auth.jwksFile ?? "-")",
                    "iss": "\(jwt.issuer ?? "any")", "aud": "\(jwt.audience ?? "any")",
                    "roles_claim": "\(jwt.rolesClaim)",
                ]
            )
        }
        if let file = auth.tokensFile, !file.isEmpty {
            tokens = try readTokenFile(file)
            logger.info(
                "API tokens loaded",
                metadata: ["file": "\(file)", "tokens": "\(tokens.map(\.name).joined(separator: ","))"]
            )
        } else if jwt != nil {
            tokens = []
        } else {
            let path = adminTokenPath(configuration)
            let (token, created) = try adminToken(at: path)
            tokens = [AccessControl.Token(name: "admin", sha256: AccessControl.hash(token), roles: [.admin])]
            logger.info(
                created ? "admin token created" : "admin token reused",
                metadata: [
                    "file": "\(path)",
                    "use": "send its content as Authorization: Bearer …, or pass --token-file \(path) to the CLI",
                ]
            )
        }
        if !anonymous.isEmpty {
            logger.notice(
                "requests without a token are trusted (auth.anonymous_roles): only for a service mesh that authenticates callers",
                metadata: ["roles": "\(anonymous.sorted().map(\.rawValue).joined(separator: ","))"]
            )
        }
        return AccessControl(
            mode: .required,
            tokens: tokens,
            anonymousRoles: anonymous,
            metricsNeedToken: auth.metricsNeedToken,
            jwt: jwt
        )
    }

    struct TokenFile: Decodable {
        var tokens: [AccessControl.Token]
    }

    /// Reads `{"tokens": [{"name", "sha256", "roles"}]}`, refusing unknown roles, malformed
    /// hashes, duplicate names and a file others may read or write.
    static func readTokenFile(_ path: String) throws -> [AccessControl.Token] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError("auth.tokens_file \(path): cannot read it (\(error.localizedDescription))")
        }
        let file: TokenFile
        do {
            file = try JSONDecoder().decode(TokenFile.self, from: data)
        } catch {
            throw ConfigurationError(
                "auth.tokens_file \(path): expected {\"tokens\": [{\"name\", \"sha256\", \"roles\"}]} (\(error))"
            )
        }
        var names: Set<String> = []
        for (index, token) in file.tokens.enumerated() {
            let place = "auth.tokens_file \(path), tokens[\(index)]"
            guard !token.name.isEmpty, token.name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
            else {
                throw ConfigurationError("\(place): name must be non-empty text without control characters")
            }
            guard names.insert(token.name).inserted else {
                throw ConfigurationError("\(place): the name \(token.name) is used twice")
            }
            guard token.sha256.count == 64, token.sha256.allSatisfy(\.isHexDigit) else {
                throw ConfigurationError("\(place): sha256 must be 64 hex digits (the SHA-256 of the token)")
            }
            guard !token.roles.isEmpty else { throw ConfigurationError("\(place): roles must not be empty") }
        }
        return file.tokens
    }

    /// The admin token kept at `path`, created with 256 random bits (hex), mode 0600, written
    /// atomically (a temporary file linked into place, so a concurrent first start keeps one
    /// token) when absent. An existing file others may read is refused, as ssh refuses a key.
    static func adminToken(at path: String) throws -> (token: String, created: Bool) {
        if let existing = try readPrivateFile(path) { return (existing, false) }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let token = SymmetricKey(size: .bits256).withUnsafeBytes { bytes in
            bytes.map { String(format: "%02x", $0) }.joined()
        }
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ConfigurationError("cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard written == bytes.count, synced == 0 else {
            throw ConfigurationError("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        if link(temporary, path) != 0 {
            let failure = errno
            if failure == EEXIST, let existing = try readPrivateFile(path) { return (existing, false) }
            // A file system without hard links (some network volumes): a rename is atomic too, only
            // it would replace a token another process created at the same instant.
            guard failure == EPERM || failure == ENOTSUP || failure == EOPNOTSUPP, rename(temporary, path) == 0 else {
                throw ConfigurationError("cannot create \(path): \(String(cString: strerror(failure)))")
            }
        }
        let directoryFd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFd >= 0 {
            _ = fsync(directoryFd)
            close(directoryFd)
        }
        return (token, true)
    }

    /// The trimmed content of a token file, `nil` when it does not exist.
    static func readPrivateFile(_ path: String) throws -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw ConfigurationError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o077 != 0 {
            throw ConfigurationError(
                "\(path) may be read by other users (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it"
            )
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read \(path): \(error.localizedDescription)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= 32 else {
            throw ConfigurationError("\(path) holds no token of at least 32 characters; delete it to get a new one")
        }
        return token
    }
}
