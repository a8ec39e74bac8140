/// C3: the priority score, the order of ready tickets and capability matching. Pure functions.
public struct AllocationPolicy: Sendable, Equatable, Codable {
    /// Weights of the score's three terms (they should add up to 1).
    public var riskWeight: Double = 0.4
    public var qosWeight: Double = 0.3
    public var urgencyWeight: Double = 0.3
    /// risk_w by band.
    public var riskFactor: BandTable<Double> = .init(low: 0.3, medium: 0.5, high: 0.7, critical: 1.0)

    public init() {}

    /// qos_w = delivery × consistency × durability.
    public func qosFactor(_ qos: QoS) -> Double {
        let delivery: Double =
            switch qos.deliveryMode {
            case .EXACTLY_ONCE: 1.0
            case .AT_LEAST_ONCE: 0.7
            case .AT_MOST_ONCE: 0.5
            }
        let consistency: Double = qos.consistency == .STRONG ? 1.0 : 0.85
        let durability: Double = qos.durability == .PERSISTENT ? 1.0 : 0.9
        return delivery * consistency * durability
    }

    /// sla_urgency by the share of the SLA window (created_at → deadline) used at `now`:
    /// < 50 % → 0.3, < 80 % → 0.7, otherwise (or past the deadline) 1.0.
    public func urgency(createdAt: EpochMillis, deadline: EpochMillis, now: EpochMillis) -> Double {
        let window = deadline - createdAt
        guard window > 0, now < deadline else { return 1.0 }
        let used = Double(max(0, now - createdAt)) / Double(window)
        if used < 0.5 { return 0.3 }
        if used < 0.8 { return 0.7 }
        return 1.0
    }

    /// priority_score ∈ [0, 1] = 0.4·risk_w + 0.3·qos_w + 0.3·sla_urgency.
    public func score(_ ticket: ExecutionTicket, now: EpochMillis) -> Double {
        riskWeight * riskFactor[ticket.riskBand] + qosWeight * qosFactor(ticket.qos) + urgencyWeight
            * urgency(createdAt: ticket.createdAt, deadline: ticket.sla.deadline, now: now)
    }

    /// Ready tickets in dispatch order: higher score first, then earlier deadline, then ticket id.
    public func order(_ ready: [ExecutionTicket], now: EpochMillis) -> [ExecutionTicket] {
        ready.map { (ticket: $0, score: score($0, now: now)) }
            .sorted { a, b in
                if a.score != b.score { return a.score > b.score }
                if a.ticket.sla.deadline != b.ticket.sla.deadline {
                    return a.ticket.sla.deadline < b.ticket.sla.deadline
                }
                return a.ticket.ticketId < b.ticket.ticketId
            }
            .map(\.ticket)
    }

    /// Whether a worker with `capabilities` may take the ticket: every required capability is
    /// offered (case-insensitive); a worker offering `*` takes anything.
    public static func matches(required: [String], offered: [String]) -> Bool {
        if required.isEmpty { return true }
        let offeredSet = Set(offered.map { $0.lowercased() })
        if offeredSet.contains("*") { return true }
        return required.allSatisfy { offeredSet.contains($0.lowercased()) }
    }

    /// The best ready ticket a worker may take, or `nil`.
    public func select(
        from ready: [ExecutionTicket],
        capabilities: [String],
        now: EpochMillis
    ) -> ExecutionTicket? {
        order(ready.filter { Self.matches(required: $0.requiredCapabilities, offered: capabilities) }, now: now).first
    }
}
