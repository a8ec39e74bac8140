"""The real server on PostgreSQL: `serve --database-url postgres://…` runs a DAG to COMPLETED over
HTTP, and a server killed with SIGKILL and restarted (on another data directory: the state is in
the database) carries on where it stopped.

The database comes from ORCHESTRATOR_TEST_POSTGRES_URL (scripts/postgres.sh starts a throw-away
cluster); each test uses a schema of its own. Without the URL the tests are skipped, unless
ORCHESTRATOR_REQUIRE_POSTGRES=1, which makes them fail; an unreachable server fails them.
"""

from __future__ import annotations

# The `pg_url` fixture (a fresh schema per test) is in conftest.py.

import copy

from harness import DEFAULT_CONFIG, Api, PyWorker, completions_by_ticket, expect, psql_scalar, schema_of, tickets_by_task
import workload

# The lease granted before the kill must still be valid after the restart, which first waits for the
# killed process's ownership to expire: with the 1.5 s test lease that raced the restart. 60 s is far
# beyond it; nothing here waits for a lease expiry.
LONG_LEASE_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
LONG_LEASE_CONFIG["engine"]["policies"]["execution"]["lease_ttl_ms"] = 60_000


def test_dag_completes_on_postgres(start_server, start_worker, pg_url):
    server = start_server(extra_args=["--database-url", pg_url])
    api = Api(server.url)
    assert not (server.data_dir / "orchestrator.sqlite").exists(), "the server opened a SQLite file"
    assert expect(api.get("/ready"), 200)["status"] == "ready"

    dag = workload.generate("random", 40, 7)
    plan = workload.dag_plan("pg-random-n40-s7", dag)
    created = expect(api.submit_decision(workload.decision(plan)), 201)
    workflow_id = created["workflow_id"]
    start_worker(server.url, concurrency=4, worker_id="pg-ref-a")
    start_worker(server.url, concurrency=4, worker_id="pg-ref-b")

    view = api.wait_terminal(workflow_id, timeout=90)
    assert view["status"] == "COMPLETED", f"status {view['status']} reason {view.get('reason')!r}"
    assert view["metrics"]["total"] == 40 and view["metrics"]["successful"] == 40, view["metrics"]
    tickets = tickets_by_task(view)
    assert len(tickets) == 40 and all(t["status"] == "COMPLETED" for t in tickets.values())
    for i, deps in enumerate(dag.dependencies):
        for d in deps:
            assert tickets[f"task-{i}"]["started_at"] >= tickets[f"task-{d}"]["completed_at"], (i, d)
    assert completions_by_ticket(api.history(workflow_id)) == {t["ticket_id"]: 1 for t in tickets.values()}
    by_plan = expect(api.get(f"/api/v1/tickets/by-plan/{plan['plan_id']}", params={"limit": 100}), 200)
    assert len(by_plan["tickets"]) == 40

    # The rows are in PostgreSQL, in the test's schema (read with psql: without it the test fails,
    # it never skips these checks).
    schema = schema_of(pg_url)
    status = psql_scalar(pg_url, f"SELECT status FROM {schema}.workflows WHERE workflow_id = '{workflow_id}'")
    assert status == "COMPLETED", status
    assert psql_scalar(pg_url, f"SELECT count(*) FROM {schema}.tickets") == "40"
    assert psql_scalar(pg_url, f"SELECT count(*) FROM {schema}.workflows") == "1"
    assert int(psql_scalar(pg_url, f"SELECT max(version) FROM {schema}.schema_migrations")) >= 1


def test_server_killed_and_restarted_on_postgres_carries_on(start_server, pg_url, tmp_path):
    # The same replica id on restart: the new process waits until the killed one's heartbeat has
    # expired (1 s here), then takes its workflows back.
    args = ["--database-url", pg_url, "--replica-id", "pg-durable"]
    ttl = {"ORCHESTRATOR_OWNERSHIP_TTL_MS": "1000"}
    server = start_server(LONG_LEASE_CONFIG, extra_args=args, data_dir=tmp_path / "first", env=ttl)
    api = Api(server.url)
    plan = workload.chain_plan("pg-durable-1", 3)
    decision = workload.decision(plan)
    workflow_id = expect(api.submit_decision(decision), 201)["workflow_id"]
    worker = PyWorker(api, "w-pg")
    worker.register()
    [t0] = worker.poll_until(1, timeout=10)
    assert t0.task_id == "t0"
    expect(worker.complete(t0), 200)
    [t1] = worker.poll_until(1, timeout=10)
    assert t1.task_id == "t1"
    server.kill9()

    # Another process on another data directory, same database: everything confirmed is there.
    restarted = start_server(LONG_LEASE_CONFIG, extra_args=args, data_dir=tmp_path / "second", port=server.port,
                             env=ttl)
    api = Api(restarted.url)
    again = expect(api.submit_decision(decision), 200)
    assert again["created"] is False and again["workflow_id"] == workflow_id
    tickets = tickets_by_task(api.workflow(workflow_id))
    assert tickets["t0"]["status"] == "COMPLETED", tickets["t0"]
    assert tickets["t1"]["status"] == "RUNNING", tickets["t1"]

    # The lease granted before the kill is still valid: its holder completes it.
    expect(worker.heartbeat(t1), 200)
    expect(worker.complete(t1), 200)
    [t2] = worker.poll_until(1, timeout=10)
    assert t2.task_id == "t2"
    expect(worker.complete(t2), 200)
    view = api.wait_status(workflow_id, {"COMPLETED"}, timeout=15)
    assert view["metrics"]["successful"] == 3 and view["metrics"]["retries"] == 0, view["metrics"]
    assert completions_by_ticket(api.history(workflow_id)) == {t["ticket_id"]: 1 for t in view["tickets"]}
