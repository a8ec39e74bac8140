import Crypto
import Foundation

/// Deterministic identifiers: the same workflow and task always yield the same ticket id, so
/// re-processing a decision reproduces its tickets.
public enum TicketID {
    /// The RFC 4122 name-based (version 5, SHA-1) namespace of orchestrator-dynamic ticket ids.
    public static let namespace: [UInt8] = [
        0x6f, 0x72, 0x63, 0x68, 0x2d, 0x64, 0x79, 0x6e, 0x61, 0x6d, 0x69, 0x63, 0x2d, 0x74, 0x6b, 0x74,
    ]

    /// The ticket id of a task in a workflow: a UUIDv5 of `"<workflow_id>/<task_id>"`.
    public static func ticket(workflowId: String, taskId: String) -> String {
        uuid5(name: workflowId + "/" + taskId)
    }

    /// The id of the compensation ticket for a task in a workflow.
    public static func compensation(workflowId: String, taskId: String) -> String {
        uuid5(name: workflowId + "/compensate/" + taskId)
    }

    /// A UUIDv5 string of a name in ``namespace``.
    public static func uuid5(name: String) -> String {
        var hasher = Insecure.SHA1()
        hasher.update(data: namespace)
        hasher.update(data: Array(name.utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x50
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return formatUUID(bytes)
    }

    static func formatUUID(_ bytes: [UInt8]) -> String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
