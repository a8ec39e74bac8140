import Foundation

/// A specialist's vote inside a decision.
public struct SpecialistVote: Sendable, Equatable, Codable {
    public var specialistType: String
    public var opinionId: String
    public var confidenceScore: Double
    public var riskScore: Double
    public var recommendation: String
    public var weight: Double
    public var processingTimeMs: Int64

    public init(
        specialistType: String,
        opinionId: String,
        confidenceScore: Double,
        riskScore: Double,
        recommendation: String,
        weight: Double,
        processingTimeMs: Int64
    ) {
        self.specialistType = specialistType
        self.opinionId = opinionId
        self.confidenceScore = confidenceScore
        self.riskScore = riskScore
        self.recommendation = recommendation
        self.weight = weight
        self.processingTimeMs = processingTimeMs
    }

    enum CodingKeys: String, CodingKey {
        case specialistType = "specialist_type"
        case opinionId = "opinion_id"
        case confidenceScore = "confidence_score"
        case riskScore = "risk_score"
        case recommendation
        case weight
        case processingTimeMs = "processing_time_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        specialistType = try c.lenientString(.specialistType) ?? ""
        opinionId = try c.lenientString(.opinionId) ?? ""
        confidenceScore = try c.lenientDouble(.confidenceScore) ?? 0
        riskScore = try c.lenientDouble(.riskScore) ?? 0
        recommendation = try c.lenientString(.recommendation) ?? ""
        weight = try c.lenientDouble(.weight) ?? 0
        processingTimeMs = try c.lenientInt64(.processingTimeMs) ?? 0
    }
}

/// Metrics of the consensus process inside a decision.
public struct ConsensusMetrics: Sendable, Equatable, Codable {
    public var divergenceScore: Double = 0
    public var convergenceTimeMs: Int64 = 0
    public var unanimous: Bool = false
    public var fallbackUsed: Bool = false
    public var pheromoneStrength: Double = 0
    public var bayesianConfidence: Double = 0
    public var votingConfidence: Double = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case divergenceScore = "divergence_score"
        case convergenceTimeMs = "convergence_time_ms"
        case unanimous
        case fallbackUsed = "fallback_used"
        case pheromoneStrength = "pheromone_strength"
        case bayesianConfidence = "bayesian_confidence"
        case votingConfidence = "voting_confidence"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        divergenceScore = try c.lenientDouble(.divergenceScore) ?? 0
        convergenceTimeMs = try c.lenientInt64(.convergenceTimeMs) ?? 0
        unanimous = try c.lenientBool(.unanimous) ?? false
        fallbackUsed = try c.lenientBool(.fallbackUsed) ?? false
        pheromoneStrength = try c.lenientDouble(.pheromoneStrength) ?? 0
        bayesianConfidence = try c.lenientDouble(.bayesianConfidence) ?? 0
        votingConfidence = try c.lenientDouble(.votingConfidence) ?? 0
    }
}

/// The plan carried by a decision: absent (take it from the plan ledger), present, or unreadable.
public enum EmbeddedPlan: Sendable, Equatable {
    case absent
    case plan(CognitivePlan)
    /// The `cognitive_plan` value could not be read; the reason names the problem.
    case unreadable(String)

    /// The plan, when present.
    public var plan: CognitivePlan? {
        if case .plan(let plan) = self { return plan }
        return nil
    }
}

/// A consolidated decision (`consolidated-decision.avsc`, 22 fields + `cognitive_plan`).
public struct ConsolidatedDecision: Sendable, Equatable, Codable {
    public var decisionId: String
    public var planId: String
    public var intentId: String
    public var correlationId: String?
    public var traceId: String?
    public var spanId: String?
    /// As sent; see ``finalDecision``.
    public var finalDecisionText: String
    public var consensusMethod: String
    public var aggregatedConfidence: Double
    public var aggregatedRisk: Double
    public var specialistVotes: [SpecialistVote]
    public var consensusMetrics: ConsensusMetrics
    public var explainabilityToken: String
    public var reasoningSummary: String
    public var complianceChecks: [String: Bool]
    public var guardrailsTriggered: [String]
    public var cognitivePlan: EmbeddedPlan
    public var requiresHumanReview: Bool
    public var createdAt: EpochMillis
    public var validUntil: EpochMillis?
    public var metadata: [String: String]
    public var hash: String
    public var schemaVersion: Int

    /// The parsed decision, `nil` when missing or unknown.
    public var finalDecision: DecisionType? { DecisionType(lenient: finalDecisionText) }

    public init(
        decisionId: String,
        planId: String,
        intentId: String = "",
        finalDecision: DecisionType = .approve,
        plan: CognitivePlan? = nil,
        createdAt: EpochMillis = 0,
        validUntil: EpochMillis? = nil
    ) {
        self.decisionId = decisionId
        self.planId = planId
        self.intentId = intentId
        self.finalDecisionText = finalDecision.rawValue
        self.consensusMethod = "bayesian"
        self.aggregatedConfidence = 0
        self.aggregatedRisk = 0
        self.specialistVotes = []
        self.consensusMetrics = ConsensusMetrics()
        self.explainabilityToken = ""
        self.reasoningSummary = ""
        self.complianceChecks = [:]
        self.guardrailsTriggered = []
        self.cognitivePlan = plan.map(EmbeddedPlan.plan) ?? .absent
        self.requiresHumanReview = false
        self.createdAt = createdAt
        self.validUntil = validUntil
        self.metadata = [:]
        self.hash = ""
        self.schemaVersion = 1
    }

    enum CodingKeys: String, CodingKey {
        case decisionId = "decision_id"
        case planId = "plan_id"
        case intentId = "intent_id"
        case correlationId = "correlation_id"
        case traceId = "trace_id"
        case spanId = "span_id"
        case finalDecisionText = "final_decision"
        case consensusMethod = "consensus_method"
        case aggregatedConfidence = "aggregated_confidence"
        case aggregatedRisk = "aggregated_risk"
        case specialistVotes = "specialist_votes"
        case consensusMetrics = "consensus_metrics"
        case explainabilityToken = "explainability_token"
        case reasoningSummary = "reasoning_summary"
        case complianceChecks = "compliance_checks"
        case guardrailsTriggered = "guardrails_triggered"
        case cognitivePlan = "cognitive_plan"
        case requiresHumanReview = "requires_human_review"
        case createdAt = "created_at"
        case validUntil = "valid_until"
        case metadata
        case hash
        case schemaVersion = "schema_version"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        decisionId = try c.identifier(.decisionId) ?? ""
        planId = try c.identifier(.planId) ?? ""
        intentId = try c.identifier(.intentId) ?? ""
        correlationId = try c.lenientString(.correlationId)
        traceId = try c.lenientString(.traceId)
        spanId = try c.lenientString(.spanId)
        finalDecisionText = try c.lenientString(.finalDecisionText) ?? ""
        consensusMethod = try c.lenientString(.consensusMethod) ?? ""
        aggregatedConfidence = try c.lenientDouble(.aggregatedConfidence) ?? 0
        aggregatedRisk = try c.lenientDouble(.aggregatedRisk) ?? 0
        specialistVotes = try c.decodeIfPresent([SpecialistVote].self, forKey: .specialistVotes) ?? []
        consensusMetrics = try c.decodeIfPresent(ConsensusMetrics.self, forKey: .consensusMetrics) ?? .init()
        explainabilityToken = try c.lenientString(.explainabilityToken) ?? ""
        reasoningSummary = try c.lenientString(.reasoningSummary) ?? ""
        complianceChecks = try c.decodeIfPresent([String: Bool].self, forKey: .complianceChecks) ?? [:]
        guardrailsTriggered = try c.lenientStrings(.guardrailsTriggered)
        cognitivePlan = try Self.decodePlan(c)
        requiresHumanReview = try c.lenientBool(.requiresHumanReview) ?? false
        createdAt = try c.timestamp(.createdAt) ?? 0
        validUntil = try c.timestamp(.validUntil)
        metadata = try c.lenientMap(.metadata)
        hash = try c.lenientString(.hash) ?? ""
        schemaVersion = Int(try c.lenientInt64(.schemaVersion) ?? 1)
    }

    private static func decodePlan(_ c: KeyedDecodingContainer<CodingKeys>) throws -> EmbeddedPlan {
        guard c.contains(.cognitivePlan), try !c.decodeNil(forKey: .cognitivePlan) else { return .absent }
        if let text = try? c.decode(String.self, forKey: .cognitivePlan) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { return .absent }
            do {
                return .plan(try WireJSON.decode(CognitivePlan.self, from: Data(trimmed.utf8)))
            } catch {
                let reason = (error as? WireFormatError)?.message ?? describe(error)
                return .unreadable("the JSON string does not hold a readable plan: \(reason)")
            }
        }
        do {
            return .plan(try c.decode(CognitivePlan.self, forKey: .cognitivePlan))
        } catch {
            return .unreadable("not a readable plan object: \(describe(error))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(decisionId, forKey: .decisionId)
        try c.encode(planId, forKey: .planId)
        try c.encode(intentId, forKey: .intentId)
        try c.encode(correlationId, forKey: .correlationId)
        try c.encode(traceId, forKey: .traceId)
        try c.encode(spanId, forKey: .spanId)
        try c.encode(finalDecisionText, forKey: .finalDecisionText)
        try c.encode(consensusMethod, forKey: .consensusMethod)
        try c.encode(aggregatedConfidence, forKey: .aggregatedConfidence)
        try c.encode(aggregatedRisk, forKey: .aggregatedRisk)
        try c.encode(specialistVotes, forKey: .specialistVotes)
        try c.encode(consensusMetrics, forKey: .consensusMetrics)
        try c.encode(explainabilityToken, forKey: .explainabilityToken)
        try c.encode(reasoningSummary, forKey: .reasoningSummary)
        try c.encode(complianceChecks, forKey: .complianceChecks)
        try c.encode(guardrailsTriggered, forKey: .guardrailsTriggered)
        try c.encode(try cognitivePlanJSON(), forKey: .cognitivePlan)
        try c.encode(requiresHumanReview, forKey: .requiresHumanReview)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(validUntil, forKey: .validUntil)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(hash, forKey: .hash)
        try c.encode(schemaVersion, forKey: .schemaVersion)
    }

    /// The embedded plan as the contract's JSON string, `nil` when absent.
    public func cognitivePlanJSON() throws -> String? {
        guard case .plan(let plan) = cognitivePlan else { return nil }
        return String(decoding: try WireJSON.encode(plan), as: UTF8.self)
    }
}

/// A readable one-line description of a decoding error, naming the field path.
public func describe(_ error: any Error) -> String {
    guard let decoding = error as? DecodingError else { return String(describing: error) }
    func path(_ codingPath: [any CodingKey]) -> String {
        let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "(root)" : text)
    }
    switch decoding {
    case .typeMismatch(let type, let context):
        return "\(path(context.codingPath)): expected \(jsonTypeName(type)) (\(context.debugDescription))"
    case .valueNotFound(let type, let context):
        return "\(path(context.codingPath)): expected \(jsonTypeName(type)), found null"
    case .keyNotFound(let key, let context):
        return "\(path(context.codingPath + [key])): required field is missing"
    case .dataCorrupted(let context):
        let underlying = (context.underlyingError as NSError?)?.userInfo["NSDebugDescription"] as? String
        return "\(path(context.codingPath)): \(underlying ?? context.debugDescription)"
    @unknown default:
        return String(describing: error)
    }
}

private func jsonTypeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Bool.Type: return "a boolean"
    case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
    case is Double.Type: return "a number"
    default:
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return name
    }
}
