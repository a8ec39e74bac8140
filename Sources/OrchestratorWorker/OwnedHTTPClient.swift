import AsyncHTTPClient
import NIOSSL
import Synchronization

/// An `HTTPClient` created on first use and shut down by its owner.
///
/// An `HTTPClient` must be shut down before it is released; creating it lazily means that an
/// owner that never sends a request has nothing to shut down.
final class OwnedHTTPClient: Sendable {
    private enum State {
        case idle
        case running(HTTPClient)
        case shutDown
    }

    private let state = Mutex<State>(.idle)
    private let followRedirects: Bool
    private let connectionsPerHost: Int
    /// PEM file of the CA certificates trusted for HTTPS; `nil` trusts the system's.
    private let caFile: String?

    /// - Parameter connectionsPerHost: HTTP/1.1 connections kept per host (AsyncHTTPClient's
    ///   default is 8). A worker's slots each hold a long poll open while others report, so the
    ///   orchestrator client needs more than its number of slots, or reports wait behind polls.
    init(followRedirects: Bool, connectionsPerHost: Int = 8, caFile: String? = nil) {
        self.caFile = caFile
        self.followRedirects = followRedirects
        self.connectionsPerHost = connectionsPerHost
    }

    /// The client, created if needed.
    /// - Throws: ``ClientError`` (`client_shut_down`) once ``shutdown()`` was called.
    func client() throws -> HTTPClient {
        try state.withLock { state in
            switch state {
            case .running(let client):
                return client
            case .shutDown:
                throw ClientError(code: "client_shut_down", message: "the HTTP client was shut down")
            case .idle:
                var configuration = HTTPClient.Configuration()
                configuration.redirectConfiguration = followRedirects ? .follow(max: 5, allowCycles: false) : .disallow
                configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, connectionsPerHost)
                if let caFile {
                    var tls = TLSConfiguration.makeClientConfiguration()
                    tls.trustRoots = .file(caFile)
                    configuration.tlsConfiguration = tls
                }
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                state = .running(client)
                return client
            }
        }
    }

    /// Shuts the client down once its requests are done; idempotent.
    func shutdown() async {
        let client: HTTPClient? = state.withLock { state in
            defer { state = .shutDown }
            if case .running(let client) = state { return client }
            return nil
        }
        try? await client?.shutdown()
    }
}
