import Foundation

/// Which HTTP status codes an `http` task accepts: a comma-separated list of codes (`200`) and
/// classes (`2xx`).
struct StatusExpectation: Sendable, Equatable {
    private var ranges: [ClosedRange<Int>]

    /// Any 2xx status.
    static let success = StatusExpectation(ranges: [200...299])

    private init(ranges: [ClosedRange<Int>]) {
        self.ranges = ranges
    }

    /// Parses `text`; `nil` when it is not a list of codes and classes.
    init?(_ text: String) {
        var ranges: [ClosedRange<Int>] = []
        for item in text.split(separator: ",") {
            let token = item.trimmingCharacters(in: .whitespaces).lowercased()
            if token.count == 3, token.hasSuffix("xx"), let digit = Int(token.prefix(1)), (1...5).contains(digit) {
                ranges.append((digit * 100)...(digit * 100 + 99))
            } else if let code = Int(token), (100...599).contains(code) {
                ranges.append(code...code)
            } else {
                return nil
            }
        }
        guard !ranges.isEmpty else { return nil }
        self.ranges = ranges
    }

    func accepts(_ status: Int) -> Bool {
        ranges.contains { $0.contains(status) }
    }
}
