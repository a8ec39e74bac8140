import Foundation

/// JSON ⇄ Avro binary for each contract record, through the record's model (so both directions
/// exercise the same normalisation as the rest of the orchestrator).
public enum ModelCodec {
    /// Reads JSON into the record's model and writes it as Avro binary.
    public static func encode(json: Data, as record: ContractSchemas.Record) throws -> [UInt8] {
        switch record {
        case .consolidatedDecision:
            return try AvroBridge.encode(WireJSON.decode(ConsolidatedDecision.self, from: json), as: record)
        case .cognitivePlan:
            return try AvroBridge.encode(WireJSON.decode(CognitivePlan.self, from: json), as: record)
        case .executionTicket:
            return try AvroBridge.encode(WireJSON.decode(ExecutionTicket.self, from: json), as: record)
        case .executionResult:
            return try AvroBridge.encode(WireJSON.decode(ExecutionResult.self, from: json), as: record)
        case .orchestrationIncident:
            return try AvroBridge.encode(WireJSON.decode(OrchestrationIncident.self, from: json), as: record)
        case .flowCTelemetry:
            return try AvroBridge.encode(WireJSON.decode(FlowCTelemetryEvent.self, from: json), as: record)
        }
    }

    /// Reads Avro binary into the record's model and writes it as pretty JSON.
    public static func decode(avro bytes: [UInt8], as record: ContractSchemas.Record) throws -> Data {
        let payload = AvroBridge.unframed(bytes)
        switch record {
        case .consolidatedDecision:
            return try WireJSON.encode(
                AvroBridge.decode(ConsolidatedDecision.self, from: payload, as: record),
                pretty: true
            )
        case .cognitivePlan:
            return try WireJSON.encode(AvroBridge.decode(CognitivePlan.self, from: payload, as: record), pretty: true)
        case .executionTicket:
            return try WireJSON.encode(AvroBridge.decode(ExecutionTicket.self, from: payload, as: record), pretty: true)
        case .executionResult:
            return try WireJSON.encode(AvroBridge.decode(ExecutionResult.self, from: payload, as: record), pretty: true)
        case .orchestrationIncident:
            return try WireJSON.encode(
                AvroBridge.decode(OrchestrationIncident.self, from: payload, as: record),
                pretty: true
            )
        case .flowCTelemetry:
            return try WireJSON.encode(
                AvroBridge.decode(FlowCTelemetryEvent.self, from: payload, as: record),
                pretty: true
            )
        }
    }
}
