import Foundation
import OrchestratorCore

/// `POST /api/v1/workflows/start`: the hive-mind's way of starting a workflow from a plan.
struct StartWorkflowBody: Decodable {
    var plan: CognitivePlan
    var correlationId: String?
    /// 1–10.
    var priority: Int?
    var slaDeadlineSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case plan = "cognitive_plan"
        case correlationId = "correlation_id"
        case priority
        case slaDeadlineSeconds = "sla_deadline_seconds"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try? c.decode(String.self, forKey: .plan) {
            do {
                plan = try WireJSON.decode(CognitivePlan.self, from: Data(text.utf8))
            } catch {
                throw APIError.invalidField(
                    "cognitive_plan",
                    "the JSON string does not hold a readable plan: "
                        + ((error as? WireFormatError)?.message ?? describe(error))
                )
            }
        } else {
            plan = try c.decode(CognitivePlan.self, forKey: .plan)
        }
        correlationId = try c.decodeIfPresent(String.self, forKey: .correlationId)
        priority = try c.decodeIfPresent(Int.self, forKey: .priority)
        slaDeadlineSeconds = try c.decodeIfPresent(Double.self, forKey: .slaDeadlineSeconds)
    }

    /// The plan to run: `correlation_id`, `priority` and `sla_deadline_seconds` applied.
    func preparedPlan() throws -> CognitivePlan {
        var plan = self.plan
        guard !plan.planId.isEmpty else {
            throw APIError.invalidField(
                "cognitive_plan.plan_id",
                "cognitive_plan.plan_id: required field is missing or empty"
            )
        }
        if let correlationId, !correlationId.isEmpty { plan.correlationId = correlationId }
        if let priority {
            guard let symbol = Self.priority(priority) else {
                throw APIError.invalidField("priority", "priority: expected an integer from 1 to 10, got \(priority)")
            }
            plan.originalPriority = symbol.rawValue
        }
        if let seconds = slaDeadlineSeconds {
            guard seconds > 0, seconds.isFinite, seconds < 1e12 else {
                throw APIError.invalidField(
                    "sla_deadline_seconds",
                    "sla_deadline_seconds: expected a positive number of seconds, got \(seconds)"
                )
            }
            plan.metadata["sla_deadline_ms"] = String(Int64((seconds * 1000).rounded(.up)))
        }
        return plan
    }

    /// 1–3 LOW, 4–6 NORMAL, 7–8 HIGH, 9–10 CRITICAL.
    static func priority(_ value: Int) -> Priority? {
        switch value {
        case 1...3: return .LOW
        case 4...6: return .NORMAL
        case 7...8: return .HIGH
        case 9...10: return .CRITICAL
        default: return nil
        }
    }
}
