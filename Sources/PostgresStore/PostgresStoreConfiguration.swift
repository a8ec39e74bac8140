import Foundation

/// Where and how the PostgreSQL store connects, usually parsed from a database URL with
/// ``init(url:)``.
public struct PostgresStoreConfiguration: Sendable, Equatable {
    /// How the connection uses TLS, as libpq's `sslmode` names it.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without certificate verification (libpq's default).
        case prefer
        /// TLS required, without certificate verification.
        case require
        /// TLS required; the certificate chain is verified, the host name is not.
        case verifyCA = "verify-ca"
        /// TLS required; certificate chain and host name are verified.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    /// The database; the user name when `nil`.
    public var database: String?
    public var tls: TLSMode
    /// `sslrootcert`: PEM file of the CA certificates trusted to sign the server's certificate
    /// (`verify-ca`, `verify-full`); `nil` trusts the system's.
    public var rootCertificateFile: String?
    /// The schema holding the store's tables (created by ``PostgresWorkflowStore/migrate()`` when
    /// missing); `nil` uses the server's `search_path` (normally `public`).
    public var schema: String?
    /// Shown in `pg_stat_activity.application_name`.
    public var applicationName: String
    /// Most connections the store's pool opens.
    public var poolSize: Int
    /// Longest wait for a TCP connection to be established.
    public var connectTimeout: Duration
    /// This process's identity among the replicas sharing the database: the `owner` of the
    /// workflows it runs. Must be unique among running replicas; a stable name (for instance a
    /// StatefulSet pod name) lets a restarted replica take its own workflows back. Default: the
    /// host name and 8 random hex digits.
    public var replicaId: String
    /// How long a replica's ownership of its workflows survives without a heartbeat; the others
    /// take its workflows over after this. Heartbeats are sent every third of it.
    public var ownershipTtlMs: Int64

    public init(
        host: String,
        port: Int = 5432,
        username: String,
        password: String? = nil,
        database: String? = nil,
        tls: TLSMode = .prefer,
        schema: String? = nil,
        applicationName: String = "orchestrator-dynamic",
        poolSize: Int = 10,
        connectTimeout: Duration = .seconds(10),
        replicaId: String = Self.generatedReplicaId(),
        ownershipTtlMs: Int64 = 10_000
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.schema = schema
        self.applicationName = applicationName
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.replicaId = replicaId
        self.ownershipTtlMs = ownershipTtlMs
    }

    /// `<host name>-<8 random hex digits>`.
    public static func generatedReplicaId() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "replica"
        return host + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(to: 8)
    }

    /// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
    public static func isPostgresURL(_ url: String) -> Bool {
        let lowered = url.lowercased()
        return lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://")
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=disable` (also `postgresql://`).
    ///
    /// The port defaults to 5432, the user to `postgres`, the database to the user name. Query
    /// parameters: `sslmode` (`disable`, `prefer` (default), `require`, `verify-ca`, `verify-full`),
    /// `schema` (tables live in this schema, created when missing), `application_name` and
    /// `connect_timeout` (seconds). Any other parameter is an error naming it.
    public init(url: String) throws {
        guard Self.isPostgresURL(url), let components = URLComponents(string: url) else {
            throw PostgresStoreError(.invalidConfiguration, "\(Self.redacted(url)) is not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresStoreError(.invalidConfiguration, "\(Self.redacted(url)) names no host")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.contains("/") else {
            throw PostgresStoreError(.invalidConfiguration, "\(Self.redacted(url)): the database name holds a '/'")
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: components.user?.removingPercentEncoding ?? "postgres",
            password: components.password?.removingPercentEncoding,
            database: path.isEmpty ? nil : path.removingPercentEncoding
        )
        for item in components.queryItems ?? [] {
            try apply(name: item.name, value: item.value ?? "", url: url)
        }
    }

    private mutating func apply(name: String, value: String, url: String) throws {
        func invalid(_ problem: String) -> PostgresStoreError {
            PostgresStoreError(.invalidConfiguration, "\(Self.redacted(url)): \(problem)")
        }
        switch name {
        case "sslmode":
            guard let mode = TLSMode(rawValue: value) else {
                let known = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw invalid("sslmode '\(value)' is not one of \(known)")
            }
            tls = mode
        case "sslrootcert":
            guard !value.isEmpty, FileManager.default.isReadableFile(atPath: value) else {
                throw invalid("sslrootcert '\(value)' is not a readable file")
            }
            rootCertificateFile = value
        case "schema":
            guard Self.isPlainIdentifier(value) else {
                throw invalid("schema '\(value)' must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 bytes)")
            }
            schema = value
        case "application_name":
            applicationName = value
        case "connect_timeout":
            guard let seconds = Int(value), seconds > 0 else {
                throw invalid("connect_timeout '\(value)' must be a positive number of seconds")
            }
            connectTimeout = .seconds(seconds)
        default:
            throw invalid(
                "unknown parameter '\(name)' (known: sslmode, sslrootcert, schema, application_name, connect_timeout)"
            )
        }
    }

    /// `host:port`, for messages.
    public var endpoint: String { "\(host):\(port)" }

    /// The URL with its password shown as `***`, for logs and messages.
    public var description: String {
        var text = "postgres://\(username)\(password == nil ? "" : ":***")@\(endpoint)/\(database ?? username)"
        if let schema { text += "?schema=\(schema)" }
        return text
    }

    /// `url` with any password replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// A name that needs no quoting in SQL: `[a-z_][a-z0-9_]*`, at most 63 bytes.
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
        let lower = UInt8(ascii: "a")...UInt8(ascii: "z")
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        let underscore = UInt8(ascii: "_")
        guard lower.contains(first) || first == underscore else { return false }
        return name.utf8.allSatisfy { lower.contains($0) || digits.contains($0) || $0 == underscore }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
