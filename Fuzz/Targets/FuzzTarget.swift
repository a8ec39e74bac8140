import Avro
import Foundation
import OrchestratorCore

/// One decoder under fuzzing. Every target swallows thrown errors: only a crash, a sanitizer
/// report, a timeout or running out of memory is a finding.
enum FuzzTarget: Sendable, Equatable {
    /// `SubmissionDecoder.decode` in auto mode: JSON or Avro, decision or plan.
    case submission
    /// One contract record's Avro binary: bare, Confluent-framed or single-object framed.
    case avro(ContractSchemas.Record)
    /// The JSON parsers: our own (through schema parsing) and the submission decoder's JSON path.
    case json

    /// Every target, in the order scripts/fuzz.sh runs them.
    static let all: [FuzzTarget] = [.submission] + ContractSchemas.Record.allCases.map { .avro($0) } + [.json]

    /// The name used by `FUZZ_TARGET`, the corpus directory and the replayer.
    var name: String {
        switch self {
        case .submission: return "submission"
        case .avro(let record): return "avro-\(record.rawValue)"
        case .json: return "json"
        }
    }

    init?(name: String) {
        guard let target = Self.all.first(where: { $0.name == name }) else { return nil }
        self = target
    }

    /// The target chosen by the `FUZZ_TARGET` environment variable; exits when it names none.
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(name: name) else {
            let names = all.map(\.name).joined(separator: ", ")
            FileHandle.standardError.write(Data("FUZZ_TARGET must be one of: \(names) (got '\(name)')\n".utf8))
            exit(2)
        }
        return target
    }()

    /// Runs the target on one input.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .submission:
            _ = try? SubmissionDecoder.decode(bytes)
        case .avro(let record):
            Self.decodeAvro(bytes, as: record)
        case .json:
            Self.parseJSON(bytes)
        }
    }

    private static func decodeAvro(_ bytes: [UInt8], as record: ContractSchemas.Record) {
        guard let schema = AvroBridge.schemas[record] else { return }
        let decoder = AvroDecoder(schema: schema)
        _ = try? decoder.decode(bytes)
        if let frame = AvroFraming.detectConfluent(bytes) {
            _ = try? decoder.decode(frame.payload)
        }
        if let frame = AvroFraming.detectSingleObject(bytes) {
            _ = try? decoder.decode(frame.payload)
        }
        // Through the record's model, as `avro decode` and the Kafka intake read it (the Confluent
        // frame is removed when present).
        _ = try? ModelCodec.decode(avro: bytes, as: record)
    }

    private static func parseJSON(_ bytes: [UInt8]) {
        _ = try? SubmissionDecoder.decode(bytes, format: .json, kind: .decision)
        _ = try? SubmissionDecoder.decode(bytes, format: .json, kind: .plan)
        guard let schema = try? AvroSchema.parse(bytes) else { return }
        _ = schema.canonicalForm
        _ = schema.fingerprint
        // A parsed schema as the writer of each contract record: schema resolution.
        for reader in AvroBridge.schemas.values {
            _ = try? AvroDecoder(reader: reader, writer: schema)
        }
    }
}
