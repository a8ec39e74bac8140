import Foundation
import Testing

@testable import OrchestratorCore

/// The incident's hash: SHA-256 of the canonical JSON of every other field.
@Suite struct OrchestrationIncidentTests {
    static func base() -> OrchestrationIncident {
        OrchestrationIncident(
            incidentId: "inc-1",
            workflowId: "orch-p",
            incidentType: .SLA_VIOLATION,
            severity: "high",
            details: ["ticket tk-1 late by 5000 ms"],
            affectedTickets: ["tk-1"],
            correlationId: "corr-1",
            traceId: "trace-1",
            recommendedPlaybook: "sla_violation_mitigation",
            autoRemediationEnabled: true,
            escalationRequired: false,
            createdAt: 1_761_682_622_000
        )
    }

    @Test func hashIsSixtyFourHexCharacters() {
        let hash = Self.base().hash
        #expect(hash.count == 64)
        #expect(hash.allSatisfy { "0123456789abcdef".contains($0) })
    }

    /// The canonical JSON (sorted keys, no spaces, `hash` left out) is
    /// `{"affected_tickets":["tk-1"],"auto_remediation_enabled":true,"correlation_id":"corr-1",`
    /// `"created_at":1761682622000,"details":["ticket tk-1 late by 5000 ms"],"escalation_required":false,`
    /// `"incident_id":"inc-1","incident_type":"SLA_VIOLATION","recommended_playbook":"sla_violation_mitigation",`
    /// `"severity":"high","trace_id":"trace-1","workflow_id":"orch-p"}`; its SHA-256 by `sha256sum`:
    @Test func hashIsTheSHA256OfTheCanonicalJSON() {
        #expect(Self.base().hash == "2b8276e09ecbdbfa7d9c36caee095fae4b122a5227e74a047f16942bd44d1b9d")
    }

    @Test func equalContentGivesTheSameHash() {
        #expect(Self.base().hash == Self.base().hash)
        #expect(Self.base().computeHash() == Self.base().hash)
        var copy = Self.base()
        copy.hash = "tampered"
        #expect(copy.computeHash() == Self.base().hash)
    }

    static let changes: [(field: String, change: @Sendable (inout OrchestrationIncident) -> Void)] = [
        ("incident_id", { $0.incidentId = "inc-2" }),
        ("workflow_id", { $0.workflowId = "orch-q" }),
        ("incident_type", { $0.incidentType = .WORKER_FAILURE }),
        ("severity", { $0.severity = "critical" }),
        ("details", { $0.details.append("more") }),
        ("affected_tickets", { $0.affectedTickets = ["tk-2"] }),
        ("correlation_id", { $0.correlationId = "corr-2" }),
        ("trace_id", { $0.traceId = "trace-2" }),
        ("recommended_playbook", { $0.recommendedPlaybook = nil }),
        ("auto_remediation_enabled", { $0.autoRemediationEnabled = false }),
        ("escalation_required", { $0.escalationRequired = nil }),
        ("created_at", { $0.createdAt += 1 }),
    ]

    @Test(arguments: changes)
    func changingAFieldChangesTheHash(field: String, change: @Sendable (inout OrchestrationIncident) -> Void) {
        var incident = Self.base()
        change(&incident)
        let changed = incident.computeHash()
        #expect(changed.count == 64, "\(field)")
        #expect(changed != Self.base().hash, "\(field)")
    }

    @Test func decodedIncidentVerifies() throws {
        let incident = Self.base()
        let decoded = try JSONDecoder().decode(OrchestrationIncident.self, from: WireJSON.encode(incident))
        #expect(decoded == incident)
        #expect(decoded.computeHash() == decoded.hash)
        let object = try jsonObject(incident)
        #expect(object["hash"] as? String == incident.hash)
        #expect(object["incident_type"] as? String == "SLA_VIOLATION")
        #expect(object.keys.count == 13)
    }
}
