import SQLiteDB
import Testing

@Suite("SQLiteError: constraint violations and typed accessor errors")
struct SQLiteErrorTests {
    @Test("a duplicate UNIQUE key is reported as a unique violation")
    func uniqueViolation() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)")
            try db.run("INSERT INTO users (email) VALUES (?)", ["a@example.com"])
            let sql = "INSERT INTO users (email) VALUES (?)"
            let error = try #require(sqliteError { try db.run(sql, ["a@example.com"]) })
            #expect(error.isUniqueViolation)
            #expect(error.isConstraintViolation)
            #expect(!error.isBusy)
            #expect(error.code == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(error.primaryCode == 19)  // SQLITE_CONSTRAINT
            #expect(error.message.contains("users.email"))
            #expect(error.sql == sql)
            #expect(error.description.contains("2067"))
            #expect(error.description.contains("users.email"))
            // The cached statement is still usable after the failure.
            try db.run(sql, ["b@example.com"])
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM users") == 2)
        }
    }

    @Test("a duplicate primary key is a unique violation; NOT NULL is only a constraint violation")
    func otherConstraints() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL)")
            try db.run("INSERT INTO t (id, k) VALUES (?, ?)", [1, "x"])
            let duplicate = sqliteError { try db.run("INSERT INTO t (id, k) VALUES (?, ?)", [1, "y"]) }
            #expect(duplicate?.isUniqueViolation == true)
            let notNull = sqliteError { try db.run("INSERT INTO t (id, k) VALUES (?, ?)", [2, nil]) }
            #expect(notNull?.isConstraintViolation == true)
            #expect(notNull?.isUniqueViolation == false)
        }
    }

    @Test("a NOT NULL accessor meeting NULL names the column")
    func nullNamesColumn() throws {
        try withConnection { db throws in
            let row = try #require(try db.queryFirst("SELECT 1 AS id, NULL AS display_name"))
            let byName = try #require(sqliteError { _ = try row.string("display_name") })
            #expect(byName.description.contains("display_name"))
            #expect(byName.message.contains("NULL"))
            #expect(byName.sql == "SELECT 1 AS id, NULL AS display_name")
            let byIndex = try #require(sqliteError { _ = try row.int64(1) })
            #expect(byIndex.message.contains("'display_name' (index 1)"))
        }
    }

    @Test("an accessor meeting the wrong type names the column and both types")
    func wrongTypeNamesColumn() throws {
        try withConnection { db throws in
            let row = try #require(try db.queryFirst("SELECT 'seven' AS retries, x'00' AS payload"))
            let error = try #require(sqliteError { _ = try row.int("retries") })
            #expect(error.message.contains("'retries'"))
            #expect(error.message.contains("TEXT"))
            #expect(error.message.contains("INTEGER"))
            #expect(sqliteError { _ = try row.optionalString("payload") }?.message.contains("BLOB") == true)
            #expect(sqliteError { _ = try row.blob("missing") }?.message.contains("no column named 'missing'") == true)
            #expect(sqliteError { _ = try row.string(5) }?.message.contains("out of range") == true)
            #expect(sqliteError { _ = try db.scalarInt64("SELECT 'x'") } != nil)
        }
    }

    @Test("hand-made rows behave like query rows")
    func handMadeRow() throws {
        let row = SQLiteRow(columnNames: ["a", "b"], values: [1, nil])
        #expect(row.count == 2)
        #expect(try row.int("a") == 1)
        #expect(sqliteError { _ = try row.int("b") }?.message.contains("'b'") == true)
    }
}
