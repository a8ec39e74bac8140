import OrchestratorCore
import OrchestratorStore

/// A page of a workflow's history. Each entry carries the event as the history stores it
/// (`TimedEvent.event`) and its short name as `type`.
struct HistoryView: Encodable {
    var workflowId: String
    var entries: [Entry]

    init(workflowId: String, entries: [HistoryEntry]) {
        self.workflowId = workflowId
        self.entries = entries.map(Entry.init)
    }

    enum CodingKeys: String, CodingKey {
        case workflowId = "workflow_id"
        case entries
    }

    struct Entry: Encodable {
        var sequence: Int
        var at: EpochMillis
        var type: String
        var event: WorkflowEvent

        init(_ entry: HistoryEntry) {
            sequence = entry.sequence
            at = entry.event.at
            type = entry.event.event.name
            event = entry.event.event
        }
    }
}
