import Foundation
import OrchestratorCore
import OrchestratorStore

/// The embedded sink: one append-only JSON-lines file per topic in a directory. Each line is
/// `{"sequence":…,"topic":…,"key":…,"headers":{…},"value":{…}}`; the value is the contract's
/// JSON. On start the sink reads the last sequence of every file, so a message relayed again
/// after a crash is not written twice.
public actor JSONLinesSink: OutboxSink {
    private let directory: URL
    private let topics: TopicNames
    private var handles: [String: FileHandle] = [:]
    private var lastSequence: [String: Int64] = [:]

    private let synchronize: Bool

    /// - Parameter synchronize: `fsync` each file after every batch. Written lines reach the
    ///   operating system before the relay acknowledges them either way, which survives a process
    ///   crash; `fsync` also survives a power loss (the server enables it with
    ///   `storage.sqlite_synchronous = FULL`).
    public init(directory: String, topics: TopicNames = TopicNames(), synchronize: Bool = false) throws {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        self.topics = topics
        self.synchronize = synchronize
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    /// The file of a topic.
    public nonisolated func file(for topic: String) -> URL {
        directory.appendingPathComponent(topic + ".jsonl")
    }

    public func deliver(_ messages: [StoredOutboxMessage]) async throws {
        var pending: [String: Data] = [:]
        for stored in messages {
            let topic = topics.name(stored.message.topic)
            let handle = try handle(for: topic)
            if let last = lastSequence[topic], stored.sequence <= last { continue }
            _ = handle
            pending[topic, default: Data()].append(try line(stored, topic: topic))
            lastSequence[topic] = stored.sequence
        }
        for (topic, data) in pending {
            let handle = try handle(for: topic)
            try handle.write(contentsOf: data)
            if synchronize { try handle.synchronize() }
        }
    }

    private func line(_ stored: StoredOutboxMessage, topic: String) throws -> Data {
        var text = "{\"sequence\":\(stored.sequence),\"topic\":"
        text += try WireJSON.string(topic)
        text += ",\"key\":" + (try WireJSON.string(stored.message.key))
        text += ",\"headers\":" + (try WireJSON.string(stored.message.headers))
        text += ",\"value\":" + stored.message.payload + "}\n"
        return Data(text.utf8)
    }

    private func handle(for topic: String) throws -> FileHandle {
        if let handle = handles[topic] { return handle }
        let url = file(for: topic)
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        lastSequence[topic] = try Self.lastSequence(in: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        handles[topic] = handle
        return handle
    }

    /// The sequence of the last complete line of a file (a torn last line from a crash is cut off).
    static func lastSequence(in url: URL) throws -> Int64? {
        let data = try Data(contentsOf: url)
        guard !data.isEmpty else { return nil }
        var end = data.count
        if data.last != UInt8(ascii: "\n") {
            // A partial line written before a crash: truncate it away.
            let cut = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            let handle = try FileHandle(forWritingTo: url)
            try handle.truncate(atOffset: UInt64(cut))
            try handle.close()
            end = cut
        }
        guard end > 0 else { return nil }
        let body = data[data.startIndex..<(data.startIndex + end - 1)]
        let start = body.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? body.startIndex
        let lastLine = body[start...]
        guard let object = try JSONSerialization.jsonObject(with: Data(lastLine)) as? [String: Any],
            let sequence = object["sequence"] as? NSNumber
        else { return nil }
        return sequence.int64Value
    }
}
