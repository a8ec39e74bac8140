import Crypto
import Foundation
import OrchestratorStore

/// The lease secret of each lease grant: the HMAC-SHA256, under a 256-bit key kept in the store,
/// of the lease's identity (ticket, fencing token, worker id, and the principal the lease was
/// granted to), cut to 128 bits and sent as 32 hex digits. Heartbeat, complete and fail must
/// present it besides the fencing token.
///
/// Derived rather than drawn and stored: without the key the secret is as unguessable as a
/// random one, yet nothing is written on the lease path, and every replica of a shared
/// PostgreSQL store (which keeps one key for all of them) can check a lease another replica
/// granted, across restarts. Binding the principal means another principal cannot report on the
/// lease even with the secret in hand.
public actor LeaseSecrets {
    static let keyName = "lease_secret_key"
    private let store: any WorkflowStore
    private var key: SymmetricKey?

    public init(store: any WorkflowStore) {
        self.store = store
    }

    /// Loads the store's key (created there on first use) if it is not loaded yet.
    func load() async throws {
        _ = try await currentKey()
    }

    /// The store's key, created there on first use.
    private func currentKey() async throws -> SymmetricKey {
        if let key { return key }
        let proposed = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let stored = SymmetricKey(data: try await store.sharedSecret(Self.keyName, proposed: proposed))
        key = stored
        return stored
    }

    /// The secret of the lease `fencingToken` on `ticketId`, granted to `workerId` polling as
    /// `principal`.
    func secret(ticketId: String, fencingToken: Int64, workerId: String, principal: String) async throws -> String {
        Self.secret(key: try await currentKey(), ticketId, fencingToken, workerId, principal)
    }

    /// Whether `presented` is that lease's secret (compared in constant time).
    func verify(
        _ presented: String,
        ticketId: String,
        fencingToken: Int64,
        workerId: String,
        principal: String
    ) async throws -> Bool {
        let expected = try await secret(
            ticketId: ticketId,
            fencingToken: fencingToken,
            workerId: workerId,
            principal: principal
        )
        let a = Array(expected.utf8)
        let b = Array(presented.lowercased().utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func secret(
        key: SymmetricKey,
        _ ticketId: String,
        _ fencingToken: Int64,
        _ workerId: String,
        _ principal: String
    )
        -> String
    {
        // Length-prefixed fields: no two different leases share a message.
        var message = Data("orchestrator-dynamic lease v1".utf8)
        for field in [ticketId, String(fencingToken), workerId, principal] {
            let bytes = Data(field.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { message.append(contentsOf: $0) }
            message.append(bytes)
        }
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return SecretHex.encode(Array(mac.prefix(16)))
    }
}
