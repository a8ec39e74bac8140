"""PostgreSQL crash durability: the database server itself is SIGKILLed mid-load.

The shared test cluster runs with fsync, synchronous_commit and full_page_writes off and is only
ever restarted gracefully, so it never shows whether what the orchestrator acknowledged survives a
crash of the database. This test starts a cluster of its own (scripts/postgres.sh on a free port)
with fsync, synchronous_commit and full_page_writes ON, runs `serve` on it with two reference
workers while decisions are submitted one after the other, SIGKILLs the postmaster and all its
processes at once (`postgres.sh kill`: no shutdown checkpoint, WAL buffers and shared memory lost)
once a third of the decisions were acknowledged, and starts it again (crash recovery from the WAL).

Then: every decision acknowledged before the kill has its workflow row in the database right after
recovery (read with psql, not through the server's memory); every acknowledged workflow finishes
COMPLETED; every ticket is completed exactly once (history); the server process lived through it.

Two variants. `durable`: the replica's ownership TTL (60 s) outlives the outage, so only durability
is tested. `heartbeat-expires`: a 1 s ownership TTL and 3 s of downtime, so the replica's own
heartbeat expires during the outage; marked xfail (not strict) for an open bug: after the expiry
the replica logs "workflows lost to other replicas" (count=1) although there is no other replica,
and that workflow stays RUNNING with READY tickets nobody leases. One cause is fixed (the owned set
was read while a workflow was being created, and the check dropped it); the bug still shows, so
another cause remains.

`PGCRASH_FSYNC=off` runs the same scenario on a cluster with fsync and synchronous_commit off (a
demonstration that the test can see lost acknowledged commits; not part of the suite).
"""

from __future__ import annotations

import copy
import os
import pathlib
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import note
from harness import (
    DEFAULT_CONFIG, REPO_ROOT, TERMINAL_STATUSES, Api, completions_by_ticket, free_port, psql_path, psql_rows,
)
import workload

PG_BIN = pathlib.Path(os.environ.get("ORCHESTRATOR_PG_BIN", "/usr/lib/postgresql/15/bin"))
FSYNC = os.environ.get("PGCRASH_FSYNC", "on")
PLANS = 30
KILL_AFTER_ACKED = PLANS // 3
VARIANTS = {  # ownership TTL (ms), seconds the database stays down
    "durable": (60_000, 2.0),
    "heartbeat-expires": (1_000, 3.0),
}
STALL_S = 120  # no decision accepted and no workflow finishing for this long fails the test

CONFIG = copy.deepcopy(DEFAULT_CONFIG)
# Leases outlive the outage; many retries, as every lease that expires during it counts as one.
CONFIG["engine"]["policies"]["execution"]["lease_ttl_ms"] = 5000
CONFIG["engine"]["policies"]["tickets"]["max_retries"] = {b: 25 for b in ("low", "medium", "high", "critical")}


def postgres_sh(command: str, port: int, timeout: float = 120) -> str:
    out = subprocess.run(
        ["bash", "scripts/postgres.sh", command], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "ORCHESTRATOR_PG_PORT": str(port), "ORCHESTRATOR_PG_FSYNC": FSYNC},
    )
    assert out.returncode == 0, f"postgres.sh {command} failed ({out.returncode}): {out.stderr}{out.stdout}"
    return out.stdout.strip()


@pytest.fixture
def durable_cluster():
    """A cluster of our own with fsync and synchronous_commit on; its URL with a fresh schema."""
    problem = None
    if not (PG_BIN / "initdb").exists():
        problem = f"no PostgreSQL server binaries in {PG_BIN}"
    elif psql_path() is None:
        problem = "psql not found"
    if problem:
        if os.environ.get("ORCHESTRATOR_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    port = free_port()
    url = postgres_sh("start", port)
    try:
        settings = psql_rows(url + "&schema=x", "SELECT name, setting FROM pg_settings WHERE name IN "
                                                "('fsync', 'synchronous_commit', 'full_page_writes') ORDER BY name")
        assert dict(map(tuple, settings)) == {"fsync": FSYNC, "full_page_writes": FSYNC, "synchronous_commit": FSYNC}, \
            settings
        yield port, url + f"&schema=crash_{uuid.uuid4().hex[:12]}"
    finally:
        postgres_sh("stop", port)


def crash_plans() -> list[dict]:
    rng = workload.SplitMix64(20261207)
    plans = []
    for k in range(PLANS):
        n = 4 + rng.below(7)
        dag = workload.generate("random", n, 500 + k)
        sleeps = [20 + rng.below(60) for _ in range(n)]
        plans.append(workload.dag_plan(
            f"pgcrash-p{k}-n{n}", dag, risk_band="medium",
            parameters_for=lambda i, sleeps=sleeps: {"work": "sleep", "sleep_ms": str(sleeps[i])}))
    return plans


class Submitter(threading.Thread):
    """Submits the decisions one after the other; one whose submission is not acknowledged (an error,
    no answer) is tried again until it is. Records when each was acknowledged."""

    def __init__(self, url: str, decisions: list[dict]) -> None:
        super().__init__(daemon=True)
        self.api = Api(url, timeout=10)
        self.decisions = decisions
        self.acked: dict[str, tuple[str, float]] = {}  # decision id -> (workflow id, time.monotonic())
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.refused = 0
        self.stop = threading.Event()

    def acked_before(self, moment: float) -> dict[str, str]:
        with self.lock:
            return {d: w for d, (w, at) in self.acked.items() if at < moment}

    def run(self) -> None:
        for decision in self.decisions:
            while not self.stop.is_set():
                try:
                    r = self.api.submit_decision(decision)
                except requests.RequestException:
                    r = None
                if r is not None and r.status_code in (200, 201):
                    with self.lock:
                        self.acked[decision["decision_id"]] = (r.json()["workflow_id"], time.monotonic())
                    break
                if r is not None and r.status_code < 500:
                    self.errors.append(f"{decision['decision_id']}: {r.status_code} {r.text[:300]}")
                    break
                self.refused += 1
                time.sleep(0.2)
            time.sleep(0.1)


@pytest.mark.pgcrash
@pytest.mark.parametrize("variant", [
    "durable",
    pytest.param("heartbeat-expires", marks=pytest.mark.xfail(strict=False, reason=(
        "open bug: a single replica whose heartbeat expires during a database outage may still evict a "
        "workflow as 'lost to other replicas' (verify(owned:) after the expiry) that no replica then claims; "
        "the race with workflows created during the check is fixed, this case is not found yet"))),
])
def test_acknowledged_work_survives_a_sigkill_of_postgresql_with_fsync_on(durable_cluster, start_server, start_worker,
                                                                         request, variant):
    port, url = durable_cluster
    ownership_ttl_ms, downtime_s = VARIANTS[variant]
    schema = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))["schema"]
    server = start_server(CONFIG, extra_args=["--database-url", url],
                          env={"ORCHESTRATOR_OWNERSHIP_TTL_MS": str(ownership_ttl_ms)})
    workers = [start_worker(server.url, concurrency=4, worker_id=f"pgcrash-{n}") for n in "ab"]
    api = Api(server.url, timeout=10)
    plans = crash_plans()
    decisions = [workload.decision(p) for p in plans]
    submitter = Submitter(server.url, decisions)
    submitter.start()

    # Load, then the crash: SIGKILL of every PostgreSQL process once a third is acknowledged.
    progressed_at = time.monotonic()
    while len(submitter.acked) < KILL_AFTER_ACKED:
        assert submitter.is_alive() and not submitter.errors, submitter.errors
        assert time.monotonic() - progressed_at < STALL_S, f"only {len(submitter.acked)} decisions acknowledged"
        time.sleep(0.01)
    # At once after an acknowledgement: a commit acknowledged but not durable would be lost now.
    postgres_sh("kill", port)
    killed_at, killed_at_ms = time.monotonic(), int(time.time() * 1000)
    acked_at_kill = submitter.acked_before(killed_at)
    time.sleep(downtime_s)
    postgres_sh("restart", port)  # crash recovery

    # Right after recovery, from the database itself: every workflow acknowledged before the kill.
    rows = psql_rows(url, f"SELECT workflow_id FROM {schema}.workflows")
    in_database = {row[0] for row in rows}
    lost = sorted(set(acked_at_kill.values()) - in_database)
    assert not lost, (f"{len(lost)} of {len(acked_at_kill)} workflows acknowledged before the crash are not in the "
                      f"database after recovery: {lost}")

    # Every decision is acknowledged in the end, and every acknowledged workflow finishes.
    progressed_at, seen = time.monotonic(), -1
    views: dict[str, dict] = {}
    while True:
        with submitter.lock:
            acked = {d: w for d, (w, _) in submitter.acked.items()}
        for wid in acked.values():
            if wid not in views or views[wid]["status"] not in TERMINAL_STATUSES:
                try:
                    r = api.get(f"/api/v1/workflows/{wid}")
                except requests.RequestException:
                    continue
                assert r.status_code != 404, f"acknowledged workflow {wid} is unknown to the server"
                if r.status_code == 200:
                    views[wid] = r.json()
        terminal = sum(v["status"] in TERMINAL_STATUSES for v in views.values())
        if len(acked) + terminal > seen:
            seen, progressed_at = len(acked) + terminal, time.monotonic()
        if len(acked) == PLANS and terminal == PLANS:
            break
        assert not submitter.errors, submitter.errors
        assert time.monotonic() - progressed_at < STALL_S, (
            f"no progress for {STALL_S}s: {len(acked)} acknowledged, {terminal} terminal; not terminal: "
            f"{ {w: (v['status'], [(t['task_id'], t['phase'], t['retry_count']) for t in v['tickets']]) for w, v in views.items() if v['status'] not in TERMINAL_STATUSES} }")
        time.sleep(0.5)
    submitter.join(timeout=10)

    problems = []
    by_workflow = {workload.workflow_id_for(p["plan_id"]): p for p in plans}
    assert set(acked.values()) == set(by_workflow), "acknowledged workflow ids are not the plans' ones"
    for wid in acked.values():
        view, plan = views[wid], by_workflow[wid]
        if view["status"] != "COMPLETED":
            problems.append(f"{wid}: {view['status']} ({view.get('reason')!r})")
        tickets = {t["ticket_id"]: t for t in view["tickets"]}
        if len(tickets) != len(plan["tasks"]):
            problems.append(f"{wid}: {len(tickets)} tickets for {len(plan['tasks'])} tasks")
        counts = completions_by_ticket(api.history(wid))
        for tid, t in tickets.items():
            if counts.get(tid, 0) != 1:
                problems.append(f"{wid}: ticket {t['task_id']} completed {counts.get(tid, 0)} times")
        for tid in set(counts) - set(tickets):
            problems.append(f"{wid}: completion of unknown ticket {tid}")
    assert not problems, problems[:20]
    # The kill came mid-load: workflows acknowledged before it finished after it.
    in_flight = [w for w in acked_at_kill.values() if views[w]["completed_at"] > killed_at_ms]
    assert in_flight, "every workflow acknowledged before the kill had already finished: not mid-load"
    # The database agrees: one row per acknowledged workflow, all COMPLETED.
    rows = psql_rows(url, f"SELECT status, count(*) FROM {schema}.workflows GROUP BY status")
    assert {status: int(count) for status, count in rows} == {"COMPLETED": PLANS}, rows
    assert server.running(), "the server exited when PostgreSQL crashed"
    assert all(w.running() for w in workers), "a reference worker exited"
    note(request.config, f"PostgreSQL crash test ({variant}, fsync={FSYNC}): SIGKILLed with {len(acked_at_kill)} of {PLANS} "
                         f"decisions acknowledged, {len(in_flight)} of them in flight; {submitter.refused} submissions refused during the outage; "
                         f"all {PLANS} workflows COMPLETED, every ticket completed once")
