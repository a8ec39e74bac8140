import PostgresNIO
import _ConnectionPoolModule

/// A failure of the PostgreSQL store that is not one of the ``OrchestratorStore/StoreError``
/// outcomes the engine handles (version conflict, duplicate decision, corrupt row).
///
/// Which errors are retryable (``isRetryable``):
/// - ``Code/unavailable``: the server could not be reached, the connection was dropped (server
///   restart, `pg_terminate_backend`, network) or the pool is failing to connect. The transaction
///   that was running is rolled back by the server; nothing of it is visible. Retrying the same
///   call is safe: the pool opens a new connection on the next call.
/// - ``Code/transient``: the server refused the transaction for a reason that goes away by itself
///   (serialization failure, deadlock, too many connections, the server shutting down or starting
///   up, a statement cancelled by an administrator). Nothing of it is visible; retry.
///
/// Not retryable: ``Code/invalidConfiguration`` (a bad URL), ``Code/rejected`` (the server refused
/// the statement or the login: permissions, a missing table, bad credentials; retrying gives the
/// same answer) and ``Code/unexpected``.
public struct PostgresStoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidConfiguration
        case unavailable
        case transient
        case rejected
        case unexpected
    }

    public var code: Code
    /// What happened, naming the server (`host:port`) when a connection is involved.
    public var message: String
    /// The underlying error, as PostgresNIO reported it (including the server's SQLSTATE).
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// Whether repeating the call may succeed (see the type's documentation).
    public var isRetryable: Bool { code == .unavailable || code == .transient }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}

extension PostgresStoreError {
    /// Maps an error of PostgresNIO or of the connection pool to a store error; `doing` says what
    /// was being done ("commit", "read workflow wf-1", …) and `endpoint` names the server.
    static func mapping(_ error: any Error, doing: String, endpoint: String) -> PostgresStoreError {
        if let error = error as? PostgresStoreError { return error }
        if let error = error as? PSQLError { return mapping(error, doing: doing, endpoint: endpoint) }
        if let error = error as? ConnectionPoolError {
            let cause: String
            switch error {
            case .connectionCreationCircuitBreakerTripped: cause = "no connection could be opened for a while"
            case .poolShutdown: cause = "the connection pool is shut down"
            case .requestCancelled: cause = "the request was cancelled"
            default: cause = "\(error)"
            }
            return PostgresStoreError(.unavailable, "\(doing) failed: PostgreSQL at \(endpoint)", cause: cause)
        }
        if error is CancellationError {
            return PostgresStoreError(.unavailable, "\(doing) was cancelled", cause: nil)
        }
        // Socket errors (connection refused, host unknown, TLS) come from NIO directly.
        return PostgresStoreError(
            .unavailable,
            "\(doing) failed: cannot reach PostgreSQL at \(endpoint)",
            cause: String(describing: error)
        )
    }

    private static func mapping(_ error: PSQLError, doing: String, endpoint: String) -> PostgresStoreError {
        let server = error.serverInfo
        let sqlState = server?[.sqlState]
        var cause: String
        if let server, let message = server[.message] {
            cause = "\(message) (SQLSTATE \(sqlState ?? "?"))"
            if let detail = server[.detail] { cause += ", \(detail)" }
        } else if let underlying = error.underlying as? PSQLError {
            cause = "\(error.code): \(underlying.code)"
        } else if let underlying = error.underlying {
            cause = "\(error.code): \(underlying)"
        } else {
            cause = "\(error.code)"
        }
        let code: Code
        switch error.code {
        case .server:
            code = classify(sqlState: sqlState)
        case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown, .poolClosed,
            .sslUnsupported, .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest:
            code = .unavailable
        case .queryCancelled:
            code = .transient
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            code = .rejected
        default:
            code = .unexpected
        }
        let what = code == .unavailable ? "lost or could not open its connection to" : "was refused by"
        return PostgresStoreError(code, "\(doing) \(what) PostgreSQL at \(endpoint)", cause: cause)
    }

    /// Server errors by SQLSTATE class: those that go away by themselves are transient.
    static func classify(sqlState: String?) -> Code {
        guard let sqlState else { return .unexpected }
        switch sqlState {
        case "40001", "40P01", "53300", "55P03", "57014", "57P01", "57P02", "57P03", "58030":
            // serialization failure, deadlock, too many connections, lock not available, query
            // cancelled, admin/crash shutdown, cannot connect now, I/O error
            return sqlState == "57P01" || sqlState == "57P02" ? .unavailable : .transient
        default:
            return sqlState.hasPrefix("08") ? .unavailable : .rejected
        }
    }
}
