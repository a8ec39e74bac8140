import OrchestratorCore
import OrchestratorStore

/// Where relayed outbox messages go. A sink must be idempotent by outbox sequence: the relay may
/// hand it a message again after a crash between delivery and acknowledgement.
public protocol OutboxSink: Sendable {
    /// Delivers messages in order; returns when they are durable at the destination.
    func deliver(_ messages: [StoredOutboxMessage]) async throws
}

/// Topic names by logical outbox topic (configurable; the hive-mind's names by default).
public struct TopicNames: Sendable, Equatable, Codable {
    public var tickets = "execution.tickets"
    public var incidents = "orchestration.incidents"
    public var telemetryFrames = "telemetry.orchestration"
    public var telemetryEvents = "telemetry-flow-c"

    public init() {}

    public func name(_ topic: OutboxTopic) -> String {
        switch topic {
        case .tickets: return tickets
        case .incidents: return incidents
        case .telemetryFrames: return telemetryFrames
        case .telemetryEvents: return telemetryEvents
        }
    }
}
