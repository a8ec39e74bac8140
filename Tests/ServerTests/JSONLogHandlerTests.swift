import Foundation
import Logging
import Testing

@testable import OrchestratorServer

@Suite struct JSONLogHandlerTests {
    /// Parses one line as a JSON object.
    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        #expect(bytes.last == UInt8(ascii: "\n"))
        #expect(bytes.dropLast().contains(UInt8(ascii: "\n")) == false, "one line")
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func aLineIsOneObjectWithTheFixedFieldsFirstThenTheMetadata() throws {
        let date = Date(timeIntervalSince1970: 1_796_667_612.0456)
        let bytes = JSONLogHandler.line(
            at: date,
            level: .notice,
            label: "orchestrator-dynamic",
            message: "workflow \"x\" failed\nbadly\t\u{1}",
            source: "OrchestratorEngine",
            metadata: [
                "workflow_id": "wf-1", "count": .stringConvertible(3), "ids": .array(["a", "b"]),
                "nested": .dictionary(["k": "v"]), "message": "collides", "é": "ü",
            ]
        )
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(
            text.hasPrefix(#"{"timestamp":"2026-12-07T18:20:12.045Z","level":"notice","logger":"orchestrator-dynamic""#)
        )
        let line = try object(bytes)
        #expect(line["message"] as? String == "workflow \"x\" failed\nbadly\t\u{1}")
        #expect(line["source"] as? String == "OrchestratorEngine")
        #expect(line["workflow_id"] as? String == "wf-1")
        #expect(line["count"] as? String == "3")
        #expect(line["ids"] as? [String] == ["a", "b"])
        #expect(line["nested"] as? [String: String] == ["k": "v"])
        #expect(line["meta_message"] as? String == "collides")
        #expect(line["é"] as? String == "ü")
    }

    @Test func timestampsAreRFC3339InUTCWithMilliseconds() {
        for (seconds, expected) in [
            (0.0, "1970-01-01T00:00:00.000Z"), (951_782_400.999, "2000-02-29T00:00:00.999Z"),
            (4_102_444_799.5, "2099-12-31T23:59:59.500Z"),
        ] {
            var out: [UInt8] = []
            JSONLogHandler.appendTimestamp(Date(timeIntervalSince1970: seconds), to: &out)
            #expect(String(decoding: out, as: UTF8.self) == expected)
        }
    }

    @Test func theHandlerWritesWhatItsLevelLetsThroughToItsDescriptor() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var handler = JSONLogHandler(label: "test", level: .info, fileDescriptor: fds[1])
        handler[metadataKey: "replica"] = "r1"
        var logger = Logger(label: "test") { _ in handler }
        logger.logLevel = .info
        logger.debug("hidden")
        logger.info("shown", metadata: ["workflow_id": "wf-9"])
        close(fds[1])
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        try #require(lines.count == 1)
        let line = try object(Array(lines[0].utf8) + [UInt8(ascii: "\n")])
        #expect(line["message"] as? String == "shown")
        #expect(line["level"] as? String == "info")
        #expect(line["replica"] as? String == "r1")
        #expect(line["workflow_id"] as? String == "wf-9")
    }

    @Test func theFormatSettingIsCheckedAndAutoFollowsTheTerminal() throws {
        #expect(try LogFormat.resolve("JSON") == .json)
        #expect(try LogFormat.resolve("text") == .text)
        #expect(try LogFormat.resolve("auto") == (isatty(STDERR_FILENO) == 1 ? .text : .json))
        #expect(throws: ConfigurationError.self) { try LogFormat.resolve("yaml") }
    }
}
