/// The project's own Avro schema files (Sources/OrchestratorCore/Schemas/*.avsc), embedded at
/// build time. They are wire-compatible with the hive-mind's contracts (proved by the tests).
public enum ContractSchemas {
    /// The records, by their file's base name.
    public enum Record: String, CaseIterable, Sendable {
        case consolidatedDecision = "consolidated-decision"
        case cognitivePlan = "cognitive-plan"
        case executionTicket = "execution-ticket"
        case executionResult = "execution-result"
        case orchestrationIncident = "orchestration-incident"
        case flowCTelemetry = "flow-c-telemetry"
    }

    /// The schema's JSON text.
    public static func text(_ record: Record) -> String {
        let bytes: [UInt8]
        switch record {
        case .consolidatedDecision: bytes = PackageResources.consolidated_decision_avsc
        case .cognitivePlan: bytes = PackageResources.cognitive_plan_avsc
        case .executionTicket: bytes = PackageResources.execution_ticket_avsc
        case .executionResult: bytes = PackageResources.execution_result_avsc
        case .orchestrationIncident: bytes = PackageResources.orchestration_incident_avsc
        case .flowCTelemetry: bytes = PackageResources.flow_c_telemetry_avsc
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
