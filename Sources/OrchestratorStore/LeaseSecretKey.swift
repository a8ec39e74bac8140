import Crypto
import Foundation

/// The key of the lease secrets, kept in the store under ``name`` (``WorkflowStore/sharedSecret(_:proposed:)``),
/// and the secrets derived from it: HMAC-SHA256 over a label and length-prefixed fields, cut to
/// 128 bits, as 32 hex digits. The REST API derives a lease's secret from the ticket, the fencing
/// token, the worker and the polling principal; the Kafka sink a published ticket's from the
/// ticket and its attempt (``kafkaTicketSecret(key:ticketId:attempt:)``).
public enum LeaseSecretKey {
    public static let name = "lease_secret_key"

    /// The store's key (created there by the first process that asks).
    public static func load(from store: any WorkflowStore) async throws -> [UInt8] {
        let proposed = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return try await store.sharedSecret(name, proposed: proposed)
    }

    public static func mac(key: [UInt8], label: String, fields: [String]) -> String {
        var message = Data(label.utf8)
        for field in fields {
            let bytes = Data(field.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { message.append(contentsOf: $0) }
            message.append(bytes)
        }
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return SecretHex.encode(Array(code.prefix(16)))
    }

    /// The secret of a ticket published on Kafka for its attempt `attempt` (its `retry_count`).
    public static func kafkaTicketSecret(key: [UInt8], ticketId: String, attempt: Int) -> String {
        mac(key: key, label: "orchestrator-dynamic kafka ticket v1", fields: [ticketId, String(attempt)])
    }

    /// Compares two secrets in constant time (case-insensitive hex).
    public static func same(_ expected: String, _ presented: String) -> Bool {
        let a = Array(expected.lowercased().utf8)
        let b = Array(presented.lowercased().utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
