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
    private let store: any WorkflowStore
    private var key: [UInt8]?

    public init(store: any WorkflowStore) {
        self.store = store
    }

    /// Loads the store's key (created there on first use) if it is not loaded yet.
    func load() async throws {
        _ = try await currentKey()
    }

    private func currentKey() async throws -> [UInt8] {
        if let key { return key }
        let stored = try await LeaseSecretKey.load(from: store)
        key = stored
        return stored
    }

    /// The secret of the lease `fencingToken` on `ticketId`, granted to `workerId` polling as
    /// `principal`.
    func secret(ticketId: String, fencingToken: Int64, workerId: String, principal: String) async throws -> String {
        LeaseSecretKey.mac(
            key: try await currentKey(),
            label: "orchestrator-dynamic lease v1",
            fields: [ticketId, String(fencingToken), workerId, principal]
        )
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
        return LeaseSecretKey.same(expected, presented)
    }
}
