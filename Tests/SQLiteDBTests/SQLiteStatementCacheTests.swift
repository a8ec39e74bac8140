import Testing

@testable import SQLiteDB

@Suite("SQLiteConnection: prepared statement cache")
struct SQLiteStatementCacheTests {
    @Test("the same SQL run 10 000 times in a transaction reuses one statement")
    func reuse() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, s TEXT NOT NULL)")
            try db.transaction {
                for n in 0..<10_000 {
                    try db.run("INSERT INTO t (n, s) VALUES (?, ?)", [SQLiteValue(n), SQLiteValue("row \(n)")])
                }
            }
            // BEGIN IMMEDIATE, the INSERT and COMMIT: one prepared statement each.
            #expect(db.cachedStatementCount == 3)
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM t") == 10_000)
            #expect(try db.scalarInt64("SELECT SUM(n) FROM t") == 49_995_000)
            #expect(try db.queryFirst("SELECT s FROM t WHERE n = ?", [9_999])?.string("s") == "row 9999")
        }
    }

    @Test("rows of a cached query stay valid after the statement is reused")
    func rowsOutliveStatement() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3);")
            let sql = "SELECT n FROM t WHERE n >= ? ORDER BY n"
            let first = try db.query(sql, [2])
            let second = try db.query(sql, [1])
            #expect(try first.map { try $0.int("n") } == [2, 3])
            #expect(try second.map { try $0.int("n") } == [1, 2, 3])
        }
    }

    @Test("the same SQL may run again inside forEach over it")
    func reentrantSameSQL() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3);")
            let sql = "SELECT n FROM t WHERE n >= ? ORDER BY n"
            var pairs: [[Int]] = []
            try db.forEach(sql, [1]) { outer in
                let inner = try db.query(sql, [.integer(try outer.int64(0))]).map { try $0.int(0) }
                pairs.append(inner)
            }
            #expect(pairs == [[1, 2, 3], [2, 3], [3]])
        }
    }

    @Test("a small cache evicts statements but keeps working")
    func eviction() throws {
        try withTemporaryDatabase { database throws in
            let db = try database.open(.init(statementCacheCapacity: 2))
            defer { db.close() }
            try db.execute("CREATE TABLE t (n INTEGER)")
            for n in 0..<20 {
                try db.run("INSERT INTO t (n) VALUES (\(n % 5))")
                #expect(try db.scalarInt64("SELECT COUNT(*) FROM t WHERE n = \(n % 5)") == Int64(n / 5 + 1))
            }
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM t") == 20)
            #expect(db.cachedStatementCount == 2)
        }
    }

    @Test("a cached SELECT * picks up new columns after a schema change")
    func schemaChange() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);")
            #expect(try db.queryFirst("SELECT * FROM t")?.columnNames == ["a"])
            try db.execute("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'")
            let row = try #require(try db.queryFirst("SELECT * FROM t"))
            #expect(row.columnNames == ["a", "b"])
            #expect(try row.string("b") == "x")
        }
    }
}
