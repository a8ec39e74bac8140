import Foundation
import OrchestratorCore
import OrchestratorStore

/// The embedded sink: one append-only JSON-lines file per topic in a directory. Each line is
/// `{"sequence":…,"topic":…,"key":…,"headers":{…},"value":{…}}`; the value is the contract's
/// JSON. The sink remembers the sequences it wrote lately (the last ``rememberedSequences`` per
/// file, read back from the end of the file on start), so a message relayed again after a crash is
/// not written twice. It does not assume that sequences arrive in increasing order: with several
/// replicas on one database, a row committed later can carry a lower sequence than one already
/// relayed.
public actor JSONLinesSink: OutboxSink {
    private let directory: URL
    private let topics: TopicNames
    private var handles: [String: FileHandle] = [:]
    private var written: [String: RecentSequences] = [:]

    /// How many sequences per file are remembered: far more than one relay batch, the most a crash
    /// can make the relay deliver again.
    static let rememberedSequences = 20_000

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
            _ = try handle(for: topic)
            guard written[topic, default: RecentSequences(capacity: Self.rememberedSequences)].insert(stored.sequence)
            else { continue }
            pending[topic, default: Data()].append(try line(stored, topic: topic))
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
        var recent = RecentSequences(capacity: Self.rememberedSequences)
        for sequence in try Self.lastSequences(in: url, count: Self.rememberedSequences) { _ = recent.insert(sequence) }
        written[topic] = recent
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        handles[topic] = handle
        return handle
    }

    /// The sequences of the last `count` complete lines of a file, oldest first (a torn last line
    /// from a crash is cut off). Only the end of the file is read.
    static func lastSequences(in url: URL, count: Int) throws -> [Int64] {
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        guard size > 0 else { return [] }
        // Lines are rarely above 2 KiB; read enough of the tail for `count` of them, at most 64 MiB.
        let window = min(size, UInt64(min(64 << 20, count * 2048)))
        try handle.seek(toOffset: size - window)
        var data = try handle.readToEnd() ?? Data()
        if data.last != UInt8(ascii: "\n") {
            // A partial line written before a crash: truncate it away.
            let cut = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 - data.startIndex } ?? 0
            try handle.truncate(atOffset: size - window + UInt64(cut))
            data = data.prefix(cut)
        }
        var sequences: [Int64] = []
        let prefix = Array("{\"sequence\":".utf8)
        var lineStart = data.startIndex
        // Skip the first, possibly partial, line of the window unless the window is the whole file.
        if window < size, let newline = data.firstIndex(of: UInt8(ascii: "\n")) { lineStart = newline + 1 }
        while lineStart < data.endIndex {
            let lineEnd = data[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            var i = lineStart + prefix.count
            if lineEnd - lineStart > prefix.count, data[lineStart..<i].elementsEqual(prefix) {
                var value: Int64 = 0
                var digits = 0
                while i < lineEnd, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(data[i]) {
                    value = value * 10 + Int64(data[i] - UInt8(ascii: "0"))
                    digits += 1
                    i += 1
                }
                if digits > 0 { sequences.append(value) }
            }
            lineStart = lineEnd + 1
        }
        return Array(sequences.suffix(count))
    }
}

/// A bounded set of sequences: the most recent `capacity` inserted.
struct RecentSequences {
    private var members: Set<Int64> = []
    private var order: [Int64] = []
    private var oldest = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds `sequence`; `false` when it is already there.
    mutating func insert(_ sequence: Int64) -> Bool {
        guard members.insert(sequence).inserted else { return false }
        if order.count < capacity {
            order.append(sequence)
        } else {
            members.remove(order[oldest])
            order[oldest] = sequence
            oldest = (oldest + 1) % capacity
        }
        return true
    }
}
