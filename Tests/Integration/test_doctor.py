"""`orchestrator-dynamic doctor --url URL` against real servers: every check passes on a healthy
deployment (SQLite and PostgreSQL, with a reference worker), and each kind of fault is named by the
check it fails, with a non-zero exit: no worker (the smoke decision times out and is cancelled), a
dead server, a missing or wrong token, authentication switched off, a database migrated by a newer
build. (Through Kafka, the smoke is covered by Tests/Stack/test_stack.py.)"""

from __future__ import annotations

import os
import sqlite3
import subprocess

from harness import Api, TEST_TOKEN, free_port


def doctor(binary: str, url: str, *args: str, token: str | None = TEST_TOKEN) -> tuple[int, dict[str, str], str]:
    """Runs doctor; returns (exit status, {check: "PASS detail" / "FAIL detail"}, stdout)."""
    env = {k: v for k, v in os.environ.items() if k not in ("ORCHESTRATOR_TOKEN", "ORCHESTRATOR_TOKEN_FILE")}
    if token is not None:
        env["ORCHESTRATOR_TOKEN"] = token
    done = subprocess.run([binary, "doctor", "--url", url, *args], capture_output=True, text=True, timeout=120, env=env)
    checks = {}
    for line in done.stdout.splitlines():
        verdict, _, rest = line.partition(" ")
        name, _, detail = rest.partition(": ")
        checks[name] = f"{verdict} {detail}"
    return done.returncode, checks, done.stdout + done.stderr


def test_a_healthy_deployment_passes_every_check(binary, server, start_worker):
    start_worker(server.url)
    status, checks, output = doctor(binary, server.url)
    assert status == 0, output
    assert set(checks) == {"health", "ready", "version", "schema", "auth", "metrics", "smoke"}, output
    assert all(v.startswith("PASS") for v in checks.values()), output
    assert "migrations current" in checks["schema"]
    assert "COMPLETED" in checks["smoke"] and "via REST" in checks["smoke"]
    # The smoke workflow is an ordinary, finished workflow, findable by its decision id.
    decision_id = checks["smoke"].split("decision ")[1].split(" ")[0]
    listed = Api(server.url).get("/api/v1/workflows", params={"decision_id": decision_id}).json()["workflows"]
    assert [w["status"] for w in listed] == ["COMPLETED"]


def test_postgres_deployment_passes(binary, start_server, start_worker, pg_url):
    server = start_server(extra_args=["--database-url", pg_url, "--replica-id", "doctor-r1"])
    start_worker(server.url)
    status, checks, output = doctor(binary, server.url)
    assert status == 0, output
    assert "database ok" in checks["ready"], output


def test_without_a_worker_the_smoke_fails_and_is_cancelled(binary, server):
    status, checks, output = doctor(binary, server.url, "--timeout", "2")
    assert status == 1, output
    assert checks["smoke"].startswith("FAIL"), output
    assert "is a worker running?" in checks["smoke"] and "cancelled" in checks["smoke"], output
    assert all(checks[name].startswith("PASS") for name in ("health", "ready", "schema", "auth", "metrics")), output
    decision_id = checks["smoke"].split("decision ")[1].split(" ")[0]
    listed = Api(server.url).get("/api/v1/workflows", params={"decision_id": decision_id}).json()["workflows"]
    assert [w["status"] for w in listed] == ["CANCELLED"], listed


def test_a_dead_server_fails_naming_why(binary):
    status, checks, output = doctor(binary, f"http://127.0.0.1:{free_port()}")
    assert status == 1, output
    assert checks["health"].startswith("FAIL") and "refused" in checks["health"].lower(), output
    assert checks["smoke"].startswith("FAIL not checked"), output


def test_token_faults_fail_the_auth_check(binary, server):
    status, checks, output = doctor(binary, server.url, "--smoke", "none", token=None)
    assert status == 1 and checks["auth"].startswith("FAIL no token given"), output
    status, checks, output = doctor(binary, server.url, "--smoke", "none", token="not-a-token")
    assert status == 1 and checks["auth"].startswith("FAIL the token is refused"), output
    assert "401" in checks["auth"], output


def test_authentication_switched_off_fails(binary, start_server):
    server = start_server(extra_args=["--auth", "none"])
    status, checks, output = doctor(binary, server.url, "--smoke", "none")
    assert status == 1, output
    assert checks["auth"].startswith("FAIL") and "authentication is off" in checks["auth"], output


def test_a_database_migrated_by_a_newer_build_fails_the_schema_check(binary, server):
    database = sqlite3.connect(server.data_dir / "orchestrator.sqlite", timeout=10)
    with database:
        database.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
    database.close()
    status, checks, output = doctor(binary, server.url, "--smoke", "none")
    assert status == 1, output
    assert checks["schema"].startswith("FAIL a newer build migrated the database to version 999"), output
