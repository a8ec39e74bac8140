import Foundation
import OrchestratorCore
import OrchestratorServer

/// Loads the policy configuration of `validate` from an optional JSON file whose keys override
/// the documented defaults (see docs/CONFIGURATION.md); keys left out keep their defaults.
enum ConfigurationFile {
    static func load(path: String?) throws -> PolicyConfiguration {
        guard let path else { return PolicyConfiguration() }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try ConfigurationLoader.merged(overrides: data, source: path, defaults: PolicyConfiguration())
        } catch let error as ConfigurationError {
            throw CLIError.unreadableInput(error.description)
        } catch {
            throw CLIError.unreadableInput("cannot read configuration file \(path): \(error.localizedDescription)")
        }
    }
}

/// Errors the CLI reports with an exit code of 2 (input or configuration that cannot be read).
enum CLIError: Error, CustomStringConvertible {
    case unreadableInput(String)

    var description: String {
        switch self {
        case .unreadableInput(let message): return message
        }
    }
}
