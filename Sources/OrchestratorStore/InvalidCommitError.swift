/// A commit that contradicts itself (a programming error of the caller); nothing of its batch is written.
public struct InvalidCommitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The workflow of the offending commit.
    public var workflowId: String
    /// What is wrong with it.
    public var message: String

    public init(workflowId: String, message: String) {
        self.workflowId = workflowId
        self.message = message
    }

    public var description: String { "invalid commit of workflow \(workflowId): \(message)" }
}
