/// The domain policies in one value: C1 limits, the C2 ticket policy, the C3 allocation policy and
/// the execution policy (leases, retries, SLA).
public struct PolicyConfiguration: Sendable, Equatable, Codable {
    public var validation = ValidationLimits()
    public var tickets = TicketPolicy()
    public var allocation = AllocationPolicy()
    public var execution = ExecutionPolicy()

    public init() {}
}
