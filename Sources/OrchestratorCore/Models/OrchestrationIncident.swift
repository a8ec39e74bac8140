import Crypto
import Foundation

/// An incident (`orchestration-incident.avsc`), published on `orchestration.incidents`.
public struct OrchestrationIncident: Sendable, Equatable, Codable {
    public var incidentId: String
    public var workflowId: String
    public var incidentType: IncidentType
    public var severity: String
    public var details: [String]
    public var affectedTickets: [String]
    public var correlationId: String
    public var traceId: String
    public var recommendedPlaybook: String?
    public var autoRemediationEnabled: Bool?
    public var escalationRequired: Bool?
    public var createdAt: EpochMillis
    /// SHA-256 (hex) of the canonical JSON of every other field; see ``computeHash()``.
    public var hash: String

    /// Builds an incident and seals it with its hash.
    public init(
        incidentId: String,
        workflowId: String,
        incidentType: IncidentType,
        severity: String,
        details: [String],
        affectedTickets: [String],
        correlationId: String,
        traceId: String,
        recommendedPlaybook: String? = nil,
        autoRemediationEnabled: Bool? = nil,
        escalationRequired: Bool? = nil,
        createdAt: EpochMillis
    ) {
        self.incidentId = incidentId
        self.workflowId = workflowId
        self.incidentType = incidentType
        self.severity = severity
        self.details = details
        self.affectedTickets = affectedTickets
        self.correlationId = correlationId
        self.traceId = traceId
        self.recommendedPlaybook = recommendedPlaybook
        self.autoRemediationEnabled = autoRemediationEnabled
        self.escalationRequired = escalationRequired
        self.createdAt = createdAt
        self.hash = ""
        self.hash = computeHash()
    }

    enum CodingKeys: String, CodingKey {
        case incidentId = "incident_id"
        case workflowId = "workflow_id"
        case incidentType = "incident_type"
        case severity
        case details
        case affectedTickets = "affected_tickets"
        case correlationId = "correlation_id"
        case traceId = "trace_id"
        case recommendedPlaybook = "recommended_playbook"
        case autoRemediationEnabled = "auto_remediation_enabled"
        case escalationRequired = "escalation_required"
        case createdAt = "created_at"
        case hash
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(incidentId, forKey: .incidentId)
        try c.encode(workflowId, forKey: .workflowId)
        try c.encode(incidentType, forKey: .incidentType)
        try c.encode(severity, forKey: .severity)
        try c.encode(details, forKey: .details)
        try c.encode(affectedTickets, forKey: .affectedTickets)
        try c.encode(correlationId, forKey: .correlationId)
        try c.encode(traceId, forKey: .traceId)
        try c.encode(recommendedPlaybook, forKey: .recommendedPlaybook)
        try c.encode(autoRemediationEnabled, forKey: .autoRemediationEnabled)
        try c.encode(escalationRequired, forKey: .escalationRequired)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(hash, forKey: .hash)
    }

    /// SHA-256 in hex of the canonical JSON (sorted keys, no spaces) of every field but `hash`.
    public func computeHash() -> String {
        var copy = self
        copy.hash = ""
        guard var object = try? JSONSerialization.jsonObject(with: WireJSON.encode(copy)) as? [String: Any] else {
            return ""
        }
        object.removeValue(forKey: "hash")
        let canonical =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return TraceContext.hex(SHA256.hash(data: canonical))
    }
}
