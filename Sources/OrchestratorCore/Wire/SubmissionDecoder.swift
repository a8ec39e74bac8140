import Avro
import Foundation

/// Reads a decision or a plan from bytes: JSON (the default on the hive-mind's topics) or Avro
/// binary (with or without Confluent framing).
public enum SubmissionDecoder {
    /// Input formats.
    public enum Format: String, Sendable, CaseIterable, Codable {
        case auto, json, avro
    }

    /// What the bytes are expected to hold.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case auto, decision, plan
    }

    /// Decodes a submission. With `.auto` format, input is Avro only when it carries an Avro
    /// framing (Confluent: byte 0 and a 4-byte schema id; or the single-object marker), JSON
    /// otherwise; with `.auto` kind, JSON with `decision_id` or `final_decision` is a decision,
    /// otherwise a plan, and Avro is tried as a decision first, then as a plan.
    ///
    /// - Parameter maxElements: the most elements of any JSON array (pass `validation.max_tasks`):
    ///   an oversized plan is refused while it is read, before anything of its size is built.
    public static func decode(
        _ bytes: [UInt8],
        format: Format = .auto,
        kind: Kind = .auto,
        maxElements: Int = .max
    ) throws -> Submission {
        guard !bytes.isEmpty else { throw WireFormatError(format: "input", message: "the input is empty") }
        let isJSON: Bool
        switch format {
        case .json: isJSON = true
        case .avro: isJSON = false
        case .auto: isJSON = AvroFraming.detectConfluent(bytes) == nil && AvroFraming.detectSingleObject(bytes) == nil
        }
        return isJSON ? try decodeJSON(bytes, kind: kind, maxElements: maxElements) : try decodeAvro(bytes, kind: kind)
    }

    /// JSON: checked by ``WireJSON/check(_:)`` (line and column, depth, duplicate keys), and an
    /// object at the top level.
    static func decodeJSON(_ bytes: [UInt8], kind: Kind, maxElements: Int = .max) throws -> Submission {
        let outline = try WireJSON.check(bytes, maxElements: maxElements)
        guard outline.kind == "object" else {
            let found = ["array": "an array", "string": "a string", "number": "a number", "boolean": "a boolean"]
            throw WireFormatError(
                format: "JSON",
                message: "expected a JSON object, found \(found[outline.kind] ?? outline.kind)"
            )
        }
        let resolved: Kind
        if kind == .auto {
            let isDecision = outline.keys.contains("decision_id") || outline.keys.contains("final_decision")
            resolved = isDecision ? .decision : .plan
        } else {
            resolved = kind
        }
        let data = Data(bytes)
        switch resolved {
        case .decision: return .decision(try WireJSON.decodeChecked(ConsolidatedDecision.self, from: data))
        default: return .plan(try WireJSON.decodeChecked(CognitivePlan.self, from: data))
        }
    }
}
