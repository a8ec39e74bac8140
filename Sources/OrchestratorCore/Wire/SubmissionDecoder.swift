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

    /// Decodes a submission. With `.auto` format, input whose first non-blank byte is `{` is JSON,
    /// anything else Avro; with `.auto` kind, JSON with `decision_id` or `final_decision` is a
    /// decision, otherwise a plan, and Avro is tried as a decision first, then as a plan.
    public static func decode(_ bytes: [UInt8], format: Format = .auto, kind: Kind = .auto) throws -> Submission {
        guard !bytes.isEmpty else { throw WireFormatError(format: "input", message: "the input is empty") }
        let isJSON: Bool
        switch format {
        case .json: isJSON = true
        case .avro: isJSON = false
        case .auto: isJSON = bytes.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) == UInt8(ascii: "{")
        }
        return isJSON ? try decodeJSON(bytes, kind: kind) : try decodeAvro(bytes, kind: kind)
    }

    static func decodeJSON(_ bytes: [UInt8], kind: Kind) throws -> Submission {
        let data = Data(bytes)
        let resolved: Kind
        if kind == .auto {
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: data)
            } catch {
                throw WireFormatError(format: "JSON", message: "not valid JSON: \(jsonErrorText(error))")
            }
            guard let dictionary = object as? [String: Any] else {
                throw WireFormatError(format: "JSON", message: "expected an object at the top level")
            }
            resolved = dictionary["decision_id"] != nil || dictionary["final_decision"] != nil ? .decision : .plan
        } else {
            resolved = kind
        }
        switch resolved {
        case .decision: return .decision(try WireJSON.decode(ConsolidatedDecision.self, from: data))
        default: return .plan(try WireJSON.decode(CognitivePlan.self, from: data))
        }
    }

    private static func jsonErrorText(_ error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo["NSDebugDescription"] as? String) ?? nsError.localizedDescription
    }
}
