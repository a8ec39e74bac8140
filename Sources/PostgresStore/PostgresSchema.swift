/// One versioned schema change: its statements run in one transaction with the record of the
/// version in `schema_migrations`.
struct PostgresMigration: Sendable {
    var version: Int
    var name: String
    /// Run in order (the extended protocol takes one statement per query).
    var statements: [String]
}

/// The schema of the PostgreSQL store: the tables of the SQLite store (Sources/SQLiteStore/SQLiteSchema.swift)
/// with PostgreSQL types, plus columns and indexes that several replicas will need.
///
/// - Epoch milliseconds are `BIGINT`; encoded models (workflow state without its tickets, ticket
///   records, events, plans, incidents) are `TEXT` holding JSON, written and read only by this store:
///   `JSONB` would make every write parse and re-encode the document for nothing, since no query
///   looks inside it. Columns that are filtered or ordered on are copied out of the JSON.
/// - `outbox.sequence` is an identity column: strictly increasing, never reused.
/// - Several replicas (migration 3): `workflows.owner` is the replica that owns the workflow, and
///   `replicas` holds each replica's heartbeat (see ``PostgresWorkflowStore`` and
///   `SharedWorkflowStore`). `workflows.owner_until` and the ready-ticket index of migration 1 are
///   not used: ownership expires with the owner's heartbeat, not per workflow, and tickets are
///   dispatched from the owner's memory.
enum PostgresSchema {
    /// Every migration, in version order. Never edit one that has shipped; append a new one.
    static let migrations: [PostgresMigration] = [version1, version2, version3, version4]

    /// Secrets every replica shares: the key of the lease secrets.
    static let version4 = PostgresMigration(
        version: 4,
        name: "secrets",
        statements: [
            """
            CREATE TABLE secrets (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )
            """
        ]
    )

    /// Several replicas on one database: the replicas' heartbeats, results consumed by one replica
    /// for a workflow another one runs, and an index to find the active workflows of an owner
    /// (claiming orphans, giving workflows back).
    static let version3 = PostgresMigration(
        version: 3,
        name: "replicas",
        statements: [
            """
            CREATE TABLE replicas (
                replica_id TEXT PRIMARY KEY,
                incarnation TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                alive_until BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE forwarded_results (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                workflow_id TEXT NOT NULL,
                ticket_id TEXT NOT NULL,
                result TEXT NOT NULL,
                forwarded_by TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX forwarded_results_workflow ON forwarded_results (workflow_id, id)",
            "CREATE INDEX workflows_active_owner ON workflows (owner, created_at) WHERE status IN (\(WorkflowStatusSQL.active))",
        ]
    )

    /// Dead letters of the Kafka consumers (SQLite's migration 2).
    static let version2 = PostgresMigration(
        version: 2,
        name: "dead letters",
        statements: [
            """
            CREATE TABLE dead_letters (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                message_offset BIGINT NOT NULL,
                message_key TEXT,
                payload BYTEA NOT NULL,
                payload_size INTEGER NOT NULL,
                reason TEXT NOT NULL,
                recorded_at BIGINT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX dead_letters_position ON dead_letters (topic, partition, message_offset)",
            "CREATE INDEX dead_letters_topic ON dead_letters (topic, id)",
        ]
    )

    static let version1 = PostgresMigration(
        version: 1,
        name: "workflows, tickets, history, timers, outbox, incidents, plans, audits, workers",
        statements: [
            """
            CREATE TABLE workflows (
                workflow_id TEXT PRIMARY KEY,
                decision_id TEXT NOT NULL CONSTRAINT workflows_decision_unique UNIQUE,
                plan_id TEXT NOT NULL,
                status TEXT NOT NULL,
                risk_band TEXT,
                version BIGINT NOT NULL,
                ticket_count INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                completed_at BIGINT,
                owner TEXT,
                owner_until BIGINT,
                state TEXT NOT NULL,
                decision TEXT
            )
            """,
            "CREATE INDEX workflows_status ON workflows (status)",
            "CREATE INDEX workflows_plan ON workflows (plan_id, status)",
            "CREATE INDEX workflows_created ON workflows (created_at DESC, workflow_id)",
            "CREATE INDEX workflows_completed ON workflows (completed_at DESC) WHERE completed_at IS NOT NULL",
            """
            CREATE TABLE tickets (
                ticket_id TEXT PRIMARY KEY,
                workflow_id TEXT NOT NULL,
                position INTEGER NOT NULL,
                plan_id TEXT NOT NULL,
                phase TEXT NOT NULL,
                status TEXT NOT NULL,
                score DOUBLE PRECISION NOT NULL,
                deadline BIGINT NOT NULL,
                record TEXT NOT NULL
            )
            """,
            "CREATE INDEX tickets_workflow ON tickets (workflow_id, position)",
            "CREATE INDEX tickets_plan ON tickets (plan_id, position)",
            "CREATE INDEX tickets_plan_status ON tickets (plan_id, status, position)",
            "CREATE INDEX tickets_ready ON tickets (score DESC, deadline) WHERE phase = 'READY'",
            """
            CREATE TABLE history (
                workflow_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                name TEXT NOT NULL,
                at BIGINT NOT NULL,
                event TEXT NOT NULL,
                PRIMARY KEY (workflow_id, sequence)
            )
            """,
            """
            CREATE TABLE timers (
                timer_key TEXT PRIMARY KEY,
                workflow_id TEXT NOT NULL,
                ticket_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                fire_at BIGINT NOT NULL,
                token BIGINT NOT NULL
            )
            """,
            "CREATE INDEX timers_fire_at ON timers (fire_at, timer_key)",
            """
            CREATE TABLE outbox (
                sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                topic TEXT NOT NULL,
                message_key TEXT NOT NULL,
                payload TEXT NOT NULL,
                headers TEXT NOT NULL,
                workflow_id TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE incidents (
                incident_id TEXT PRIMARY KEY,
                workflow_id TEXT NOT NULL,
                incident_type TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                body TEXT NOT NULL
            )
            """,
            "CREATE INDEX incidents_workflow ON incidents (workflow_id, created_at, incident_id)",
            "CREATE INDEX incidents_created ON incidents (created_at, incident_id)",
            """
            CREATE TABLE plans (
                plan_id TEXT PRIMARY KEY,
                received_at BIGINT NOT NULL,
                body TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE audits (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                workflow_id TEXT NOT NULL,
                decision_id TEXT NOT NULL,
                plan_id TEXT NOT NULL,
                valid BOOLEAN NOT NULL,
                report TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX audits_workflow ON audits (workflow_id, id)",
            """
            CREATE TABLE workers (
                worker_id TEXT PRIMARY KEY,
                body TEXT NOT NULL,
                last_seen_at BIGINT NOT NULL
            )
            """,
        ]
    )
}
