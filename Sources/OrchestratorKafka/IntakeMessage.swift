import Foundation
import Kafka
import OrchestratorCore

/// What a consumed message asks of the engine, decoded from one of the input topics.
enum IntakeMessage: Sendable {
    case decision(ConsolidatedDecision)
    case plan(CognitivePlan)
    case result(ExecutionResult)

    /// Decodes `message` by its topic; throws a reason for a dead letter.
    static func decode(
        _ message: KafkaMessage,
        topics: KafkaSettings.InputTopics,
        format: KafkaSettings.MessageFormat,
        maxElements: Int = .max
    ) throws -> IntakeMessage {
        let wire: SubmissionDecoder.Format = format == .avro ? .avro : .json
        switch message.topic {
        case topics.consensus:
            guard
                case .decision(let decision) = try SubmissionDecoder.decode(
                    message.value,
                    format: wire,
                    kind: .decision,
                    maxElements: maxElements
                )
            else { throw IntakeError("not a decision") }
            return .decision(decision)
        case topics.plans:
            guard
                case .plan(let plan) = try SubmissionDecoder.decode(
                    message.value,
                    format: wire,
                    kind: .plan,
                    maxElements: maxElements
                )
            else {
                throw IntakeError("not a plan")
            }
            return .plan(plan)
        case topics.results:
            guard !message.value.isEmpty else { throw IntakeError("the message is empty") }
            let result =
                switch format {
                case .json: try WireJSON.decode(ExecutionResult.self, from: Data(message.value))
                case .avro:
                    try AvroBridge.decode(
                        ExecutionResult.self,
                        from: AvroBridge.unframed(message.value),
                        as: .executionResult
                    )
                }
            guard !result.ticketId.isEmpty else { throw IntakeError("ticket_id: required field is missing or empty") }
            return .result(result)
        default:
            throw IntakeError("topic \(message.topic) is not an input topic")
        }
    }
}

/// Why a message was not accepted.
struct IntakeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
