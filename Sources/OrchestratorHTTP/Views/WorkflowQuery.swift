import OrchestratorCore
import OrchestratorStore

/// `POST /api/v1/workflows/{workflow_id}/query` `{query_name, args}`.
struct QueryBody: Decodable {
    var queryName: String
    var args: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case queryName = "query_name"
        case args
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        queryName = try c.decode(String.self, forKey: .queryName)
        args = try c.decodeIfPresent([String: JSONValue].self, forKey: .args) ?? [:]
    }

    /// An integer argument (`args.<name>`), `fallback` when absent.
    func intArgument(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        let value: Int?
        switch args[name] {
        case nil, .null: return fallback
        case .integer(let number): value = Int(exactly: number)
        case .number(let number): value = Int(exactly: number)
        case .string(let text): value = Int(text)
        default: value = nil
        }
        guard let value, range.contains(value) else {
            throw APIError.invalidField(
                "args.\(name)",
                "args.\(name): expected an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }
}

/// The queries a workflow answers, Temporal-style.
enum WorkflowQuery: String, CaseIterable {
    case status, tickets, metrics, validation, history

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// `{query_name, result}`.
struct QueryAnswer: Encodable {
    var queryName: String
    var result: Result

    enum CodingKeys: String, CodingKey {
        case queryName = "query_name"
        case result
    }

    enum Result: Encodable {
        case status(StatusResult)
        case tickets([TicketSummary])
        case metrics(WorkflowMetrics)
        case validation(ValidationReport?)
        case history(HistoryView)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .status(let value): try value.encode(to: encoder)
            case .tickets(let value): try value.encode(to: encoder)
            case .metrics(let value): try value.encode(to: encoder)
            case .validation(let value):
                var container = encoder.singleValueContainer()
                try container.encode(value)
            case .history(let value): try value.encode(to: encoder)
            }
        }
    }

    /// The `status` query: where the workflow is and how far its tickets got.
    struct StatusResult: Encodable {
        var workflowId: String
        var status: WorkflowStatus
        var reason: String?
        var updatedAt: EpochMillis
        var completedAt: EpochMillis?
        var ticketsByPhase: [String: Int]

        init(_ state: WorkflowState) {
            workflowId = state.workflowId
            status = state.status
            reason = state.reason
            updatedAt = state.updatedAt
            completedAt = state.completedAt
            ticketsByPhase = Dictionary(grouping: state.tickets, by: \.phase.rawValue).mapValues(\.count)
        }

        enum CodingKeys: String, CodingKey {
            case workflowId = "workflow_id"
            case status, reason
            case updatedAt = "updated_at"
            case completedAt = "completed_at"
            case ticketsByPhase = "tickets_by_phase"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(workflowId, forKey: .workflowId)
            try c.encode(status, forKey: .status)
            try c.encode(reason, forKey: .reason)
            try c.encode(updatedAt, forKey: .updatedAt)
            try c.encode(completedAt, forKey: .completedAt)
            try c.encode(ticketsByPhase, forKey: .ticketsByPhase)
        }
    }
}

extension WorkflowMetrics {
    /// The final metrics when the workflow has finished, else the figures so far.
    static func current(_ state: WorkflowState, now: EpochMillis) -> WorkflowMetrics {
        if let metrics = state.metrics { return metrics }
        let work = state.tickets.filter { !$0.isCompensation }
        return WorkflowMetrics(
            total: work.count,
            successful: work.count { $0.phase == .COMPLETED },
            failed: work.count { $0.phase == .FAILED },
            compensated: work.count { $0.compensation == .done },
            skipped: work.count { $0.phase == .SKIPPED },
            retries: state.tickets.reduce(0) { $0 + $1.ticket.retryCount },
            slaViolations: state.tickets.count { $0.slaViolated },
            durationMs: max(0, now - (state.startedAt ?? state.createdAt))
        )
    }
}
