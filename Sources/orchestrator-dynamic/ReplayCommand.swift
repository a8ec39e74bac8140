import ArgumentParser
import Foundation
import OrchestratorCore
import OrchestratorServer
import OrchestratorStore

/// `replay ID`: rebuilds a workflow from its history and checks it equals the stored state.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild a workflow's state from its history and compare it with the stored state.",
        discussion: "Exit status: 0 identical, 1 different, 2 unknown workflow or unreadable store."
    )

    @Argument(help: "The workflow id.")
    var workflowId: String

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let configuration: ServerConfiguration
        let opened: OpenedStore
        do {
            configuration = try options.configuration()
            let logger = try Logs.make(
                "orchestrator-dynamic",
                level: options.logLevel ?? "warning",
                format: configuration.logFormat
            )
            opened = try OpenedStore.open(configuration, logger: logger)
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
        try await opened.withServices { store in
            try await replay(store, location: opened.location, policies: configuration.engine.policies)
        }
    }

    private func replay(_ store: any WorkflowStore, location: StoreLocation, policies: PolicyConfiguration) async throws
    {
        let stored: StoredWorkflow?
        let history: [HistoryEntry]
        do {
            _ = try await store.migrate()
            stored = try await store.workflow(workflowId)
            history = stored == nil ? [] : try await store.history(workflowId, after: 0, limit: Int.max)
        } catch {
            warn("error: \(error)")
            throw ExitCode(2)
        }
        guard let stored else {
            warn("error: no workflow \(workflowId) in \(location.description)")
            throw ExitCode(2)
        }
        let machine = WorkflowStateMachine(policies: policies)
        let rebuilt: WorkflowState?
        do {
            rebuilt = try machine.replay(workflowId: workflowId, history: history.map(\.event))
        } catch {
            print("replay FAILED: an event of the history was refused: \(error)")
            throw ExitCode(1)
        }
        guard let rebuilt else {
            print("replay FAILED: the history does not start with a decision")
            throw ExitCode(1)
        }
        let differences = StateDiff.differences(stored.state, rebuilt)
        if differences.isEmpty {
            print(
                "replay OK: \(history.count) event(s) rebuild workflow \(workflowId) exactly "
                    + "(\(rebuilt.status.rawValue), \(rebuilt.tickets.count) ticket(s))"
            )
        } else {
            print("replay MISMATCH after \(history.count) event(s):")
            for difference in differences.prefix(50) { print("  - \(difference)") }
            throw ExitCode(1)
        }
    }
}

/// Field-level differences between two states, via their JSON forms.
enum StateDiff {
    static func differences(_ a: WorkflowState, _ b: WorkflowState) -> [String] {
        guard let left = try? JSONSerialization.jsonObject(with: WireJSON.encode(a)),
            let right = try? JSONSerialization.jsonObject(with: WireJSON.encode(b))
        else { return ["states cannot be encoded"] }
        var out: [String] = []
        compare(left, right, path: "", into: &out)
        return out
    }

    private static func compare(_ a: Any, _ b: Any, path: String, into out: inout [String]) {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            for key in Set(x.keys).union(y.keys).sorted() {
                let sub = path.isEmpty ? key : path + "." + key
                switch (x[key], y[key]) {
                case (let l?, let r?): compare(l, r, path: sub, into: &out)
                case (nil, _): out.append("\(sub): only in the replayed state")
                case (_, nil): out.append("\(sub): only in the stored state")
                }
            }
        case (let x as [Any], let y as [Any]):
            if x.count != y.count { out.append("\(path): \(x.count) items stored, \(y.count) replayed") }
            for i in 0..<min(x.count, y.count) { compare(x[i], y[i], path: "\(path)[\(i)]", into: &out) }
        default:
            let l = "\(a)"
            let r = "\(b)"
            if l != r { out.append("\(path): stored \(l), replayed \(r)") }
        }
    }
}
