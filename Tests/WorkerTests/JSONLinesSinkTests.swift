import Foundation
import OrchestratorCore
import OrchestratorEngine
import OrchestratorStore
import Testing

/// The JSON-lines outbox sink writes each sequence once, whatever the order it arrives in, also
/// across a restart.
@Suite struct JSONLinesSinkTests {
    static func message(_ sequence: Int64) -> StoredOutboxMessage {
        StoredOutboxMessage(
            sequence: sequence,
            message: OutboxMessage(
                topic: .tickets,
                key: "k\(sequence)",
                payload: "{\"n\":\(sequence)}",
                headers: [:],
                workflowId: "wf",
                createdAt: 0
            )
        )
    }

    static func sequences(in file: URL) throws -> [Int64] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (object?["sequence"] as? NSNumber)?.int64Value ?? -1
        }
    }

    @Test func eachSequenceIsWrittenOnceInAnyOrderAndAfterARestart() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try JSONLinesSink(directory: directory.path)
        let file = sink.file(for: "execution.tickets")
        try await sink.deliver([1, 2, 3].map(Self.message))
        // Delivered again (a crash before the acknowledgement) with a new one.
        try await sink.deliver([2, 3, 4].map(Self.message))
        // Committed later by another replica with a lower sequence than one already written.
        try await sink.deliver([10].map(Self.message))
        try await sink.deliver([7].map(Self.message))
        #expect(try Self.sequences(in: file) == [1, 2, 3, 4, 10, 7])

        // A torn last line (a crash in the middle of a write) is cut off on restart.
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"sequence\":11,\"topic\":\"execu".utf8))
        try handle.close()
        let restarted = try JSONLinesSink(directory: directory.path)
        try await restarted.deliver([4, 7, 10, 11, 12].map(Self.message))
        #expect(try Self.sequences(in: file) == [1, 2, 3, 4, 10, 7, 11, 12])
    }
}
