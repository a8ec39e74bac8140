import SQLiteDB
import Testing

@Suite("SQLiteMigrator")
struct SQLiteMigratorTests {
    static let migrations = [
        SQLiteMigration(
            version: 1,
            name: "create jobs",
            sql: "CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        ),
        SQLiteMigration(
            version: 2,
            name: "add state",
            sql: """
                ALTER TABLE jobs ADD COLUMN state TEXT NOT NULL DEFAULT 'new';
                CREATE INDEX jobs_state ON jobs (state);
                """
        ),
        SQLiteMigration(version: 5, name: "create events", sql: "CREATE TABLE events (id INTEGER PRIMARY KEY)"),
    ]

    @Test("applies pending migrations in order and is idempotent")
    func appliesOnce() throws {
        try withConnection { db throws in
            #expect(try SQLiteMigrator.migrate(db, Array(Self.migrations.prefix(1))) == [1])
            #expect(try SQLiteMigrator.migrate(db, Self.migrations) == [2, 5])
            #expect(try SQLiteMigrator.migrate(db, Self.migrations) == [])
            let rows = try db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            #expect(try rows.map { try $0.int("version") } == [1, 2, 5])
            #expect(try rows.map { try $0.string("name") } == ["create jobs", "add state", "create events"])
            #expect(try rows.allSatisfy { try $0.int64("applied_at") > 1_600_000_000 })
            try db.run("INSERT INTO jobs (name) VALUES (?)", ["j"])
            #expect(try db.queryFirst("SELECT state FROM jobs")?.string("state") == "new")
        }
    }

    @Test("the schema survives reopening, and the second run applies nothing")
    func idempotentAcrossReopen() throws {
        try withTemporaryDatabase { database throws in
            let first = try database.open()
            #expect(try SQLiteMigrator.migrate(first, Self.migrations) == [1, 2, 5])
            first.close()
            let second = try database.open()
            defer { second.close() }
            #expect(try SQLiteMigrator.migrate(second, Self.migrations) == [])
        }
    }

    @Test("refuses a database written by a newer build")
    func refusesFuture() throws {
        try withConnection { db throws in
            try SQLiteMigrator.migrate(db, Self.migrations)
            let error = try #require(sqliteError { try SQLiteMigrator.migrate(db, Array(Self.migrations.prefix(2))) })
            #expect(error.message.contains("schema version 5"))
            #expect(error.message.contains("newer build"))
        }
    }

    @Test("refuses migrations that are not strictly increasing", arguments: [[1, 1], [2, 1], [0, 1], [-1]])
    func refusesBadOrder(versions: [Int]) throws {
        try withConnection { db throws in
            let migrations = versions.map { SQLiteMigration(version: $0, name: "m\($0)", sql: "SELECT 1") }
            let error = try #require(sqliteError { try SQLiteMigrator.migrate(db, migrations) })
            #expect(error.message.contains("strictly increasing"))
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'") == 0)
        }
    }

    @Test("a failing migration is rolled back with its name in the error; earlier ones stay")
    func failingMigration() throws {
        try withConnection { db throws in
            let broken = SQLiteMigration(
                version: 6,
                name: "broken",
                sql: "CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1);"
            )
            let error = try #require(sqliteError { try SQLiteMigrator.migrate(db, Self.migrations + [broken]) })
            #expect(error.message.contains("migration 6 'broken' failed"))
            #expect(error.message.contains("no_such_table"))
            #expect(try db.scalarInt64("SELECT MAX(version) FROM schema_migrations") == 5)
            #expect(try db.scalarInt64("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'") == 0)
            #expect(!db.isInTransaction)
        }
    }
}
