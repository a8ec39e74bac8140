import Foundation

/// An enum whose wire spelling is its raw value and that parses case-insensitively.
public protocol WireEnum: RawRepresentable, CaseIterable, Codable, Sendable, Hashable
where RawValue == String {}

extension WireEnum {
    /// Parses a wire symbol ignoring case and surrounding spaces; `nil` when unknown.
    public init?(lenient text: String) {
        let wanted = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.uppercased() == wanted }) else { return nil }
        self = match
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(lenient: text) else {
            let symbols = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "unknown value \"\(text)\" (expected one of \(symbols))"
                )
            )
        }
        self = value
    }
}

/// The risk band of a plan (`cognitive-plan.avsc` RiskBand).
public enum RiskBand: String, WireEnum, Comparable {
    case low, medium, high, critical

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// The consensus outcome (`consolidated-decision.avsc` DecisionType).
public enum DecisionType: String, WireEnum {
    case approve, reject
    case reviewRequired = "review_required"
    case conditional
}

/// The ticket task type (`execution-ticket.avsc` TaskType).
public enum TaskType: String, WireEnum {
    case BUILD, DEPLOY, TEST, VALIDATE, EXECUTE, COMPENSATE, QUERY, TRANSFORM
}

/// The ticket's wire status (`execution-ticket.avsc` TicketStatus).
public enum TicketStatus: String, WireEnum {
    case PENDING, RUNNING, COMPLETED, FAILED, COMPENSATING, COMPENSATED
}

/// Ticket priority (`execution-ticket.avsc` Priority).
public enum Priority: String, WireEnum, Comparable {
    case LOW, NORMAL, HIGH, CRITICAL

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// Ticket security level (`execution-ticket.avsc` SecurityLevel).
public enum SecurityLevel: String, WireEnum {
    case PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED
}

/// QoS delivery mode.
public enum DeliveryMode: String, WireEnum {
    case AT_MOST_ONCE, AT_LEAST_ONCE, EXACTLY_ONCE
}

/// QoS consistency.
public enum Consistency: String, WireEnum {
    case EVENTUAL, STRONG
}

/// QoS durability.
public enum Durability: String, WireEnum {
    case TRANSIENT, PERSISTENT
}

/// A worker's reported status (`execution-result.avsc` ExecutionStatus).
public enum ExecutionStatus: String, WireEnum {
    case COMPLETED, FAILED, RUNNING
}

/// Incident kinds (`orchestration-incident.avsc` IncidentType).
public enum IncidentType: String, WireEnum {
    case INCONSISTENCY, SLA_VIOLATION, TICKET_TIMEOUT, WORKER_FAILURE
}

/// Flow C telemetry event kinds (`flow-c-telemetry.avsc` FlowCEventType).
public enum FlowCEventType: String, WireEnum {
    case FLOW_C_STARTED, STEP_STARTED, STEP_COMPLETED, STEP_FAILED, TICKET_ASSIGNED, TICKET_COMPLETED
    case TICKET_FAILED, FLOW_C_COMPLETED, SLA_VIOLATION
}
