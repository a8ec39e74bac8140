/// The column names of one prepared statement, computed once and shared by all its rows.
final class SQLiteColumns: Sendable {
    /// Column names in result order.
    let names: [String]
    /// The statement's SQL, for error messages.
    let sql: String?
    private let indexByName: [String: Int]
    private let indexByFoldedName: [String: Int]

    init(names: [String], sql: String?) {
        self.names = names
        self.sql = sql
        var exact: [String: Int] = [:]
        var folded: [String: Int] = [:]
        // On duplicate names (e.g. joins), the first column wins.
        for (index, name) in names.enumerated().reversed() {
            exact[name] = index
            folded[name.lowercased()] = index
        }
        indexByName = exact
        indexByFoldedName = folded
    }

    /// The index of the column called `name`: exact match first, then case-insensitive like SQL identifiers.
    func index(of name: String) -> Int? {
        indexByName[name] ?? indexByFoldedName[name.lowercased()]
    }
}
