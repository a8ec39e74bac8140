import Hummingbird
import OrchestratorCore

/// Reading query parameters; anything unreadable is a 400 `invalid_query` naming the parameter.
struct QueryReader {
    let parameters: Parameters

    init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    /// A non-empty string, or `nil` when absent or empty.
    func string(_ name: String) -> String? {
        guard let value = parameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// An integer within `range`, `fallback` when absent.
    func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.invalidQuery(
                name,
                "expected an integer from \(range.lowerBound) to \(range.upperBound), got \"\(text)\""
            )
        }
        return value
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`), `fallback` when absent.
    func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let text = string(name) else { return fallback }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError.invalidQuery(name, "expected true or false, got \"\(text)\"")
        }
    }

    /// A wire enum symbol (case-insensitive), `nil` when absent.
    func symbol<E: WireEnum>(_ name: String, as type: E.Type) throws -> E? {
        guard let text = string(name) else { return nil }
        guard let value = E(lenient: text) else {
            let symbols = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError.invalidQuery(name, "unknown value \"\(text)\" (expected one of \(symbols))")
        }
        return value
    }

    /// A raw-value enum (case-insensitive), `nil` when absent.
    func value<E: RawRepresentable & CaseIterable>(_ name: String, as type: E.Type) throws -> E?
    where E.RawValue == String {
        guard let text = string(name) else { return nil }
        guard let value = E.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            let symbols = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError.invalidQuery(name, "unknown value \"\(text)\" (expected one of \(symbols))")
        }
        return value
    }

    /// Paging: `limit` (1...`maxLimit`, default `defaultLimit`) and `offset` (≥ 0, default 0).
    func page(defaultLimit: Int, maxLimit: Int) throws -> (limit: Int, offset: Int) {
        (
            try int("limit", default: defaultLimit, in: 1...maxLimit),
            try int("offset", default: 0, in: 0...Int(Int32.max))
        )
    }
}
