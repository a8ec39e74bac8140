import SQLiteDB

/// The schema of the SQLite store, as ordered migrations applied by `SQLiteMigrator`.
///
/// JSON columns hold the `Codable` form of the core models; the scalar columns beside them are
/// copies kept for filtering and ordering. A workflow's `state` is stored with its tickets
/// emptied: each ticket is its own row in `tickets`, so a transition rewrites only the tickets
/// it changed.
enum SQLiteSchema {
    /// Every migration, in version order. Never edit one that has shipped; append a new one.
    static let migrations: [SQLiteMigration] = [version1, version2, version3, version4]

    static let version1 = SQLiteMigration(
        version: 1,
        name: "workflows, tickets, history, timers, outbox, incidents, plans, audits, workers",
        sql: """
            CREATE TABLE workflows (
                workflow_id TEXT PRIMARY KEY,
                decision_id TEXT NOT NULL UNIQUE,
                plan_id TEXT NOT NULL,
                status TEXT NOT NULL,
                risk_band TEXT,
                version INTEGER NOT NULL,
                ticket_count INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                completed_at INTEGER,
                state TEXT NOT NULL,
                decision TEXT
            );
            CREATE INDEX workflows_status ON workflows (status);
            CREATE INDEX workflows_plan ON workflows (plan_id);
            CREATE INDEX workflows_created ON workflows (created_at);
            CREATE INDEX workflows_completed ON workflows (completed_at);

            CREATE TABLE tickets (
                ticket_id TEXT PRIMARY KEY,
                workflow_id TEXT NOT NULL,
                position INTEGER NOT NULL,
                plan_id TEXT NOT NULL,
                phase TEXT NOT NULL,
                status TEXT NOT NULL,
                record TEXT NOT NULL
            );
            CREATE INDEX tickets_workflow ON tickets (workflow_id, position);
            CREATE INDEX tickets_plan ON tickets (plan_id, position);

            CREATE TABLE history (
                workflow_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                name TEXT NOT NULL,
                at INTEGER NOT NULL,
                event TEXT NOT NULL,
                PRIMARY KEY (workflow_id, sequence)
            ) WITHOUT ROWID;

            CREATE TABLE timers (
                timer_key TEXT PRIMARY KEY,
                workflow_id TEXT NOT NULL,
                ticket_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                fire_at INTEGER NOT NULL,
                token INTEGER NOT NULL
            );
            CREATE INDEX timers_fire_at ON timers (fire_at);

            CREATE TABLE outbox (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                topic TEXT NOT NULL,
                message_key TEXT NOT NULL,
                payload TEXT NOT NULL,
                headers TEXT NOT NULL,
                workflow_id TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );

            CREATE TABLE incidents (
                incident_id TEXT PRIMARY KEY,
                workflow_id TEXT NOT NULL,
                incident_type TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                body TEXT NOT NULL
            );
            CREATE INDEX incidents_workflow ON incidents (workflow_id, created_at);
            CREATE INDEX incidents_created ON incidents (created_at);

            CREATE TABLE plans (
                plan_id TEXT PRIMARY KEY,
                received_at INTEGER NOT NULL,
                body TEXT NOT NULL
            );

            CREATE TABLE audits (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                workflow_id TEXT NOT NULL,
                decision_id TEXT NOT NULL,
                plan_id TEXT NOT NULL,
                valid INTEGER NOT NULL,
                report TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX audits_workflow ON audits (workflow_id, id);

            CREATE TABLE workers (
                worker_id TEXT PRIMARY KEY,
                body TEXT NOT NULL,
                last_seen_at INTEGER NOT NULL
            );
            """
    )

    static let version2 = SQLiteMigration(
        version: 2,
        name: "dead letters of the Kafka consumers",
        sql: """
            CREATE TABLE dead_letters (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                message_offset INTEGER NOT NULL,
                message_key TEXT,
                payload BLOB NOT NULL,
                payload_size INTEGER NOT NULL,
                reason TEXT NOT NULL,
                recorded_at INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX dead_letters_position ON dead_letters (topic, partition, message_offset);
            CREATE INDEX dead_letters_topic ON dead_letters (topic, id);
            """
    )

    static let version3 = SQLiteMigration(
        version: 3,
        name: "write probe (readiness after a failed write)",
        sql: """
            CREATE TABLE write_probe (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                at INTEGER NOT NULL
            );
            """
    )

    static let version4 = SQLiteMigration(
        version: 4,
        name: "secrets (the key of the lease secrets)",
        sql: """
            CREATE TABLE secrets (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            """
    )
}
