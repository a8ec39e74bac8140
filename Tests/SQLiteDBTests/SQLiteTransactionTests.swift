import SQLiteDB
import Testing

@Suite("SQLiteConnection: transactions and savepoints")
struct SQLiteTransactionTests {
    struct Boom: Error {}

    static func makeTable(_ db: SQLiteConnection) throws {
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT NOT NULL)")
    }

    static func labels(_ db: SQLiteConnection) throws -> [String] {
        try db.query("SELECT label FROM t ORDER BY id").map { try $0.string("label") }
    }

    @Test(
        "a transaction commits and returns the body's value",
        arguments: [
            SQLiteConnection.TransactionKind.deferred, .immediate, .exclusive,
        ]
    )
    func commit(kind: SQLiteConnection.TransactionKind) throws {
        try withConnection { db throws in
            try Self.makeTable(db)
            let id = try db.transaction(kind) { () throws -> Int64 in
                #expect(db.isInTransaction)
                try db.run("INSERT INTO t (label) VALUES (?)", ["a"])
                return db.lastInsertRowID
            }
            #expect(id == 1)
            #expect(!db.isInTransaction)
            #expect(try Self.labels(db) == ["a"])
        }
    }

    @Test("a thrown error rolls the transaction back and is rethrown")
    func rollback() throws {
        try withConnection { db throws in
            try Self.makeTable(db)
            try db.run("INSERT INTO t (label) VALUES (?)", ["before"])
            let threw = throwsError(Boom.self) {
                try db.transaction {
                    try db.run("INSERT INTO t (label) VALUES (?)", ["inside"])
                    throw Boom()
                }
            }
            #expect(threw)
            #expect(!db.isInTransaction)
            #expect(try Self.labels(db) == ["before"])
        }
    }

    @Test("a nested transaction is a savepoint and is rolled back alone")
    func nestedRollback() throws {
        try withConnection { db throws in
            try Self.makeTable(db)
            try db.transaction {
                try db.run("INSERT INTO t (label) VALUES (?)", ["outer 1"])
                let threw = throwsError(Boom.self) {
                    try db.transaction {
                        try db.run("INSERT INTO t (label) VALUES (?)", ["inner"])
                        try db.transaction {
                            try db.run("INSERT INTO t (label) VALUES (?)", ["innermost"])
                        }
                        throw Boom()
                    }
                }
                #expect(threw)
                #expect(db.isInTransaction)
                try db.transaction {
                    try db.run("INSERT INTO t (label) VALUES (?)", ["inner kept"])
                }
                try db.run("INSERT INTO t (label) VALUES (?)", ["outer 2"])
            }
            #expect(try Self.labels(db) == ["outer 1", "inner kept", "outer 2"])
        }
    }

    @Test("an error escaping a nested transaction rolls back everything")
    func nestedErrorPropagates() throws {
        try withConnection { db throws in
            try Self.makeTable(db)
            let threw = throwsError(Boom.self) {
                try db.transaction {
                    try db.run("INSERT INTO t (label) VALUES (?)", ["outer"])
                    try db.transaction {
                        try db.run("INSERT INTO t (label) VALUES (?)", ["inner"])
                        throw Boom()
                    }
                }
            }
            #expect(threw)
            #expect(try Self.labels(db).isEmpty)
            // The connection is usable afterwards.
            try db.transaction { try db.run("INSERT INTO t (label) VALUES (?)", ["after"]) }
            #expect(try Self.labels(db) == ["after"])
        }
    }

    @Test("a failing COMMIT (deferred foreign key) rolls back")
    func failingCommit() throws {
        try withConnection { db throws in
            try db.execute(
                """
                CREATE TABLE parent (id INTEGER PRIMARY KEY);
                CREATE TABLE child (
                    id INTEGER PRIMARY KEY,
                    parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED
                );
                """
            )
            let error = sqliteError {
                try db.transaction {
                    try db.run("INSERT INTO child (parent_id) VALUES (?)", [7])
                }
            }
            #expect(error?.isConstraintViolation == true)
            #expect(!db.isInTransaction)
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM child") == 0)
        }
    }

    @Test("a writer waits for the busy timeout and then reports isBusy")
    func busy() throws {
        try withTemporaryDatabase { database throws in
            let first = try database.open()
            defer { first.close() }
            try Self.makeTable(first)
            let second = try database.open(.init(busyTimeoutMs: 50))
            defer { second.close() }
            try first.transaction {
                try first.run("INSERT INTO t (label) VALUES (?)", ["locked"])
                let error = sqliteError { try second.transaction { try second.run("DELETE FROM t") } }
                #expect(error?.isBusy == true)
                #expect(error?.isConstraintViolation == false)
            }
            #expect(try Self.labels(second) == ["locked"])
        }
    }
}
