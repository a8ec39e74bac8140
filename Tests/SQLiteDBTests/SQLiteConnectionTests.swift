import Foundation
import SQLiteDB
import Testing

@Suite("SQLiteConnection: opening, pragmas, persistence")
struct SQLiteConnectionTests {
    @Test("opening applies the default pragmas")
    func pragmasApplied() throws {
        try withConnection { db throws in
            #expect(try db.queryFirst("PRAGMA journal_mode")?.string(0) == "wal")
            #expect(try db.scalarInt64("PRAGMA synchronous") == 1)
            #expect(try db.scalarInt64("PRAGMA foreign_keys") == 1)
            #expect(try db.scalarInt64("PRAGMA busy_timeout") == 5000)
            #expect(try db.scalarInt64("PRAGMA cache_size") == -65536)
        }
    }

    @Test("custom options are applied")
    func customOptions() throws {
        try withTemporaryDatabase { database throws in
            let options = SQLiteConnection.Options(
                journalMode: "DELETE",
                synchronous: "FULL",
                busyTimeoutMs: 250,
                foreignKeys: false,
                cacheSizeKiB: 1024
            )
            let db = try database.open(options)
            #expect(try db.queryFirst("PRAGMA journal_mode")?.string(0) == "delete")
            #expect(try db.scalarInt64("PRAGMA synchronous") == 2)
            #expect(try db.scalarInt64("PRAGMA foreign_keys") == 0)
            #expect(try db.scalarInt64("PRAGMA busy_timeout") == 250)
            #expect(try db.scalarInt64("PRAGMA cache_size") == -1024)
        }
    }

    @Test("invalid options are rejected before anything is opened")
    func invalidOptions() throws {
        try withTemporaryDatabase { database throws in
            let error = sqliteError { _ = try database.open(.init(journalMode: "WAL; DROP TABLE x")) }
            #expect(error?.message.contains("journalMode") == true)
            #expect(sqliteError { _ = try database.open(.init(synchronous: "SOMETIMES")) } != nil)
            #expect(!FileManager.default.fileExists(atPath: database.path))
        }
    }

    @Test("foreign keys are enforced")
    func foreignKeysEnforced() throws {
        try withConnection { db throws in
            try db.execute(
                """
                CREATE TABLE parent (id INTEGER PRIMARY KEY);
                CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));
                """
            )
            let error = sqliteError { try db.run("INSERT INTO child (parent_id) VALUES (?)", [42]) }
            #expect(error?.isConstraintViolation == true)
            #expect(error?.isUniqueViolation == false)
        }
    }

    @Test("data survives close and reopen")
    func survivesReopen() throws {
        try withTemporaryDatabase { database throws in
            let first = try database.open()
            try first.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB NOT NULL)")
            try first.run("INSERT INTO kv (k, v) VALUES (?, ?)", ["key", .blob([1, 2, 3])])
            first.close()
            #expect(first.isClosed)

            let second = try database.open()
            defer { second.close() }
            let row = try #require(try second.queryFirst("SELECT v FROM kv WHERE k = ?", ["key"]))
            #expect(try row.blob("v") == [1, 2, 3])
        }
    }

    @Test("a second connection to the same WAL file sees committed data, not uncommitted")
    func twoConnections() throws {
        try withTemporaryDatabase { database throws in
            let writer = try database.open()
            defer { writer.close() }
            try writer.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            let reader = try database.open(.init(readOnly: true))
            defer { reader.close() }

            try writer.run("INSERT INTO events (body) VALUES (?)", ["first"])
            #expect(try reader.scalarInt64("SELECT COUNT(*) FROM events") == 1)

            try writer.transaction {
                try writer.run("INSERT INTO events (body) VALUES (?)", ["second"])
                // WAL: the reader is not blocked and sees only the last committed state.
                #expect(try reader.scalarInt64("SELECT COUNT(*) FROM events") == 1)
            }
            let bodies = try reader.query("SELECT body FROM events ORDER BY id").map { try $0.string("body") }
            #expect(bodies == ["first", "second"])
            #expect(sqliteError { try reader.run("DELETE FROM events") }?.code == 8)  // SQLITE_READONLY
        }
    }

    @Test("changes and lastInsertRowID")
    func changesAndRowID() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            try db.run("INSERT INTO t (n) VALUES (?), (?), (?)", [1, 2, 3])
            #expect(db.changes == 3)
            #expect(db.lastInsertRowID == 3)
            try db.run("UPDATE t SET n = n + 1 WHERE n >= ?", [2])
            #expect(db.changes == 2)
        }
    }

    @Test("run and query accept exactly one statement and the right number of bindings")
    func singleStatementOnly() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE t (n INTEGER)")
            let twoStatements = sqliteError { try db.run("INSERT INTO t VALUES (1); DELETE FROM t") }
            #expect(twoStatements?.message.contains("execute") == true)
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM t") == 0)
            // Trailing whitespace, semicolons and comments are fine.
            try db.run("INSERT INTO t VALUES (1);  -- done\n")
            #expect(sqliteError { try db.run("   ") } != nil)
            let arity = sqliteError { try db.run("INSERT INTO t VALUES (?)", [1, 2]) }
            #expect(arity?.message.contains("1 parameters but 2 values") == true)
            #expect(sqliteError { try db.run("INSERT INTO t VALUES (?)") } != nil)
            let syntax = sqliteError { _ = try db.query("SELEKT 1") }
            #expect(syntax?.code == 1)
            #expect(syntax?.sql == "SELEKT 1")
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM t") == 1)
        }
    }

    @Test("execute runs a multi-statement script and reports the failing one")
    func executeScript() throws {
        try withConnection { db throws in
            try db.execute("CREATE TABLE a (x); CREATE TABLE b (y); INSERT INTO a VALUES (1);")
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM a") == 1)
            let error = sqliteError { try db.execute("INSERT INTO a VALUES (2); INSERT INTO missing VALUES (3)") }
            #expect(error?.message.contains("no such table: missing") == true)
        }
    }

    @Test("a closed connection throws instead of crashing")
    func closedConnection() throws {
        try withTemporaryDatabase { database throws in
            let db = try database.open()
            try db.run("CREATE TABLE t (x)")
            db.close()
            db.close()
            #expect(sqliteError { try db.run("INSERT INTO t VALUES (1)") }?.code == 21)  // SQLITE_MISUSE
            #expect(sqliteError { try db.execute("SELECT 1") }?.message.contains("closed") == true)
            #expect(db.changes == 0)
        }
    }

    @Test("closing inside forEach ends the iteration with an error")
    func closeWhileIterating() throws {
        try withTemporaryDatabase { database throws in
            let db = try database.open()
            try db.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3);")
            var seen = 0
            let error = sqliteError {
                try db.forEach("SELECT x FROM t") { _ in
                    seen += 1
                    db.close()
                }
            }
            #expect(seen == 1)
            #expect(error?.code == 21)
        }
    }

    @Test("opening a missing file read-only fails with the path in the message")
    func openFailure() throws {
        try withTemporaryDatabase { database throws in
            let error = sqliteError { _ = try database.open(.init(readOnly: true)) }
            #expect(error?.code == 14)  // SQLITE_CANTOPEN
            #expect(error?.message.contains(database.path) == true)
        }
    }

    @Test("checkpoint truncates the WAL")
    func checkpointTruncate() throws {
        try withTemporaryDatabase { database throws in
            let db = try database.open()
            defer { db.close() }
            try db.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            let walSize = {
                (try? FileManager.default.attributesOfItem(atPath: database.path + "-wal"))?[.size] as? Int
            }
            #expect((walSize() ?? 0) > 0)
            let passive = try db.checkpoint()
            #expect(passive.walFrames >= passive.checkpointedFrames)
            try db.checkpoint(mode: .truncate)
            #expect(walSize() == 0)
            #expect(try db.scalarInt64("SELECT x FROM t") == 1)
        }
    }

    @Test("library version is a 3.x version")
    func libraryVersion() {
        #expect(SQLiteConnection.libraryVersion.hasPrefix("3."))
    }
}
