import OrchestratorCore

extension ReferenceExecutor {
    /// Base duration of a simulated task, in milliseconds (before scaling and jitter).
    public static func simulatedBaseDurationMs(_ type: TaskType) -> Int64 {
        switch type {
        case .VALIDATE: return 200
        case .BUILD: return 600
        case .TEST: return 450
        case .DEPLOY: return 800
        case .EXECUTE: return 400
        case .QUERY: return 150
        case .TRANSFORM: return 300
        case .COMPENSATE: return 250
        }
    }

    /// The simulated duration of `ticket` in milliseconds: the base duration of its type times
    /// `scale`, with ±20 % jitter that depends only on the ticket id (the same on every run).
    public static func simulatedDurationMs(_ ticket: ExecutionTicket, scale: Double) -> Double {
        let unit = Double(StableHash.fnv1a(ticket.ticketId) % 10_001) / 10_000
        return Double(simulatedBaseDurationMs(ticket.taskType)) * max(0, scale) * (0.8 + 0.4 * unit)
    }

    func simulate(_ work: WorkParameters, unknownKind: String?) async -> TaskOutcome {
        let ticket = work.ticket
        let milliseconds = Self.simulatedDurationMs(ticket, scale: options.simulationScale)
        if milliseconds > 0 {
            do {
                try await Task.sleep(for: .nanoseconds(Int64(milliseconds * 1_000_000)))
            } catch {
                return .cancelled
            }
        }
        var output = [
            "simulated": "true",
            "task_type": ticket.taskType.rawValue,
            "simulated_duration_ms": String(Int64(milliseconds.rounded())),
        ]
        if ticket.taskType == .COMPENSATE, let action = ticket.parameters["action"] {
            output["action"] = action
        }
        var logs: [String] = []
        if let unknownKind {
            logs.append("unknown work kind \"\(unknownKind)\": simulated as \(ticket.taskType.rawValue)")
        }
        return .succeeded(output: output, logs: logs)
    }
}

/// A hash that is the same in every process (Swift's `Hasher` is seeded per process).
enum StableHash {
    /// 64-bit FNV-1a of the UTF-8 bytes.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
