import Foundation
import OrchestratorCore

/// Loads the policy configuration from an optional JSON file whose keys (snake_case) override
/// the documented defaults; keys left out keep their defaults.
enum ConfigurationFile {
    static func load(path: String?) throws -> PolicyConfiguration {
        guard let path else { return PolicyConfiguration() }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CLIError.unreadableInput("cannot read configuration file \(path): \(error.localizedDescription)")
        }
        return try merged(overrides: data, source: path)
    }

    static func merged<T: Codable>(
        overrides data: Data, source: String, defaults: T = PolicyConfiguration()
    ) throws -> T {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let base = try JSONSerialization.jsonObject(with: encoder.encode(defaults)) as? [String: Any] else {
            throw CLIError.unreadableInput("internal: defaults are not an object")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CLIError.unreadableInput("configuration file \(source) is not valid JSON")
        }
        guard let overrides = parsed as? [String: Any] else {
            throw CLIError.unreadableInput("configuration file \(source) must hold a JSON object")
        }
        var unknown: [String] = []
        let combined = merge(base, overrides, path: "", unknown: &unknown)
        if !unknown.isEmpty {
            throw CLIError.unreadableInput(
                "configuration file \(source): unknown key(s) \(unknown.sorted().joined(separator: ", "))")
        }
        do {
            return try decoder.decode(T.self, from: JSONSerialization.data(withJSONObject: combined))
        } catch {
            throw CLIError.unreadableInput("configuration file \(source): \(describe(error))")
        }
    }

    private static func merge(
        _ base: [String: Any], _ overrides: [String: Any], path: String, unknown: inout [String]
    ) -> [String: Any] {
        var result = base
        for (key, value) in overrides {
            let keyPath = path.isEmpty ? key : path + "." + key
            guard let existing = base[key] else {
                unknown.append(keyPath)
                continue
            }
            if let nestedBase = existing as? [String: Any], let nested = value as? [String: Any] {
                result[key] = merge(nestedBase, nested, path: keyPath, unknown: &unknown)
            } else {
                result[key] = value
            }
        }
        return result
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
