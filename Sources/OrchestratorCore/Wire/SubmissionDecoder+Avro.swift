import Avro

extension SubmissionDecoder {
    /// Avro binary: a decision or a plan written with the hive-mind's schemas (ours are the
    /// same), optionally with Confluent framing (magic byte 0 + 4-byte schema id).
    static func decodeAvro(_ bytes: [UInt8], kind: Kind) throws -> Submission {
        let payload = AvroBridge.unframed(bytes)
        switch kind {
        case .decision:
            return .decision(try AvroBridge.decode(ConsolidatedDecision.self, from: payload, as: .consolidatedDecision))
        case .plan:
            return .plan(try AvroBridge.decode(CognitivePlan.self, from: payload, as: .cognitivePlan))
        case .auto:
            do {
                return .decision(
                    try AvroBridge.decode(ConsolidatedDecision.self, from: payload, as: .consolidatedDecision)
                )
            } catch let decisionError {
                do {
                    return .plan(try AvroBridge.decode(CognitivePlan.self, from: payload, as: .cognitivePlan))
                } catch {
                    throw WireFormatError(
                        format: "Avro",
                        message: "neither a decision (\(decisionError)) nor a plan (\(error))"
                    )
                }
            }
        }
    }
}
