import SQLiteDB
import Testing

@Suite("SQLiteValue: round trips through a real database")
struct SQLiteValueRoundTripTests {
    /// A value with a short label, so that large values are not printed in test output.
    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let value: SQLiteValue

        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "NULL", value: .null),
        Case(label: "0", value: .integer(0)),
        Case(label: "-1", value: .integer(-1)),
        Case(label: "Int64.min", value: .integer(Int64.min)),
        Case(label: "Int64.max", value: .integer(Int64.max)),
        Case(label: "0.0", value: .real(0.0)),
        Case(label: "-2.5", value: .real(-2.5)),
        Case(label: "pi", value: .real(Double.pi)),
        Case(label: "1e308", value: .real(1e308)),
        Case(label: "-leastNonzeroMagnitude", value: .real(-Double.leastNonzeroMagnitude)),
        Case(label: "empty text", value: .text("")),
        Case(label: "ASCII text", value: .text("plain ascii")),
        Case(label: "Unicode text", value: .text("héllo wörld – 日本語 – 🌍👩‍👩‍👧 – עברית")),
        Case(label: "text with embedded NUL", value: .text("embedded\u{0}nul")),
        Case(label: "100 KB text", value: .text(String(repeating: "long text ", count: 10_000))),
        Case(label: "empty blob", value: .blob([])),
        Case(label: "one zero byte", value: .blob([0])),
        Case(label: "bytes 0...255", value: .blob(Array(0...255))),
        Case(label: "100 KB blob", value: .blob([UInt8](repeating: 0xAB, count: 100_000))),
    ]

    @Test("every value comes back equal and with its storage class", arguments: cases)
    func roundTrip(testCase: Case) throws {
        let value = testCase.value
        try withConnection { db throws in
            // No declared type: no affinity conversions, the value keeps its storage class.
            try db.execute("CREATE TABLE t (v)")
            try db.run("INSERT INTO t (v) VALUES (?)", [value])
            let row = try #require(try db.queryFirst("SELECT v, typeof(v) AS type, length(v) AS length FROM t"))
            #expect(row["v"] == value)
            #expect(row[0] == value)
            let expectedType: String
            switch value {
            case .null: expectedType = "null"
            case .integer: expectedType = "integer"
            case .real: expectedType = "real"
            case .text: expectedType = "text"
            case .blob: expectedType = "blob"
            }
            #expect(try row.string("type") == expectedType)
            if case .blob(let bytes) = value {
                #expect(try row.int("length") == bytes.count)
            }
            // The same value used as a WHERE binding finds the row.
            if !value.isNull {
                #expect(try db.scalarInt64("SELECT COUNT(*) FROM t WHERE v = ?", [value]) == 1)
            }
        }
    }

    @Test("typed accessors read every storage class")
    func typedAccessors() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, flag INTEGER, absent TEXT)")
            try db.run(
                "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                [SQLiteValue(Int64.min), SQLiteValue(0.5), SQLiteValue("ünïcode"), .blob([]), SQLiteValue(true), nil]
            )
            let row = try #require(try db.queryFirst("SELECT * FROM t"))
            #expect(row.columnNames == ["i", "r", "s", "b", "flag", "absent"])
            #expect(try row.int64("i") == Int64.min)
            #expect(try row.int64(0) == Int64.min)
            #expect(try row.int(0) == Int.min)
            #expect(try row.double("r") == 0.5)
            #expect(try row.double("i") == Double(Int64.min))
            #expect(try row.string("s") == "ünïcode")
            #expect(try row.string("S") == "ünïcode")
            #expect(try row.blob("b") == [])
            #expect(try row.bool("flag"))
            #expect(try row.optionalString("absent") == nil)
            #expect(try row.optionalInt64("absent") == nil)
            #expect(try row.optionalInt("absent") == nil)
            #expect(try row.optionalDouble("absent") == nil)
            #expect(try row.optionalBool("absent") == nil)
            #expect(try row.optionalBlob(5) == nil)
            #expect(try row.optionalString("s") == "ünïcode")
            #expect(row["absent"] == .null)
            #expect(row.hasColumn("flag"))
            #expect(!row.hasColumn("missing"))
        }
    }

    @Test("literals and convenience initializers")
    func conveniences() {
        let fromNil: SQLiteValue = nil
        let fromInt: SQLiteValue = 42
        let fromFloat: SQLiteValue = 1.5
        let fromString: SQLiteValue = "x"
        #expect(fromNil == .null)
        #expect(fromInt == .integer(42))
        #expect(fromFloat == .real(1.5))
        #expect(fromString == .text("x"))
        #expect(SQLiteValue(String?.none) == .null)
        #expect(SQLiteValue("a" as String?) == .text("a"))
        #expect(SQLiteValue(Int64?.none) == .null)
        #expect(SQLiteValue(Int64(7) as Int64?) == .integer(7))
        #expect(SQLiteValue(7 as Int?) == .integer(7))
        #expect(SQLiteValue(Double?.none) == .null)
        #expect(SQLiteValue(2.0 as Double?) == .real(2))
        #expect(SQLiteValue(true) == .integer(1))
        #expect(SQLiteValue(false) == .integer(0))
        #expect(SQLiteValue(Bool?.none) == .null)
        #expect(SQLiteValue(true as Bool?) == .integer(1))
        #expect(SQLiteValue([UInt8]?.none) == .null)
        #expect(Set<SQLiteValue>([.integer(1), .integer(1), .text("1")]).count == 2)
    }
}
