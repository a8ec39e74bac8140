import OrchestratorCore

/// What `GET /health` answered.
public struct HealthReport: Sendable, Equatable {
    /// `healthy` when all is well.
    public var status: String
    public var service: String?
    public var version: String?
    /// The whole answer.
    public var json: JSONValue

    init(json: JSONValue) {
        self.status = json.member("status")?.scalarText ?? ""
        self.service = json.member("service")?.scalarText
        self.version = json.member("version")?.scalarText
        self.json = json
    }
}
