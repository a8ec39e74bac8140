"""Chaos at scale: servers killed with SIGKILL over and over while reference `worker` processes
(HTTP) run a steady load, then six invariants checked on everything the run left behind.

- SQLite: one server, two workers; the server is SIGKILLed at least CHAOS_SQLITE_KILLS (100) times,
  each time after running CHAOS_DELAYS seconds (uniform, default 0.2–1.5 s), and restarted at once;
  now and then (1 kill in 10) a worker is SIGKILLed too and restarted (its leases expire and go to
  the other worker).
- PostgreSQL: three replicas (`--replica-id r1..r3`, ownership TTL 3 s) on one schema, one worker
  per replica; a random replica is SIGKILLed at least CHAOS_PG_KILLS (30) times, down 0–4 s (so
  that its workflows are sometimes taken over by the others), 1 time in 5 a second one with it (the
  third takes over alone), 1 time in 10 a worker too, and the database is restarted
  CHAOS_PG_DB_RESTARTS (2) times (`scripts/postgres.sh restart`: every connection dropped).
- On both, 1 restart in 10 is killed again 0–0.3 s after its start, while it recovers (counted).

The load: decisions submitted one after the other (round-robin over the replicas; retried until
acknowledged), at most CHAOS_MAX_ACTIVE (12) workflows in flight, until the kills are done. Their plans
are designed so that the final status is known: random DAGs of `sleep` tasks (COMPLETED), some with a
task that fails once (COMPLETED after a retry), and sagas, chains whose last task fails for good
(FAILED, the others compensated).

The invariants (harness.py, each proven on bad data by test_invariants.py), checked on every run:
1. every decision acknowledged by the API (200/201) has its workflow, and no workflow exists for a
   decision that was not; 2. every workflow ends, in its designed status; 3. no ticket is completed
   twice (history and outbox); 4. no two leases of a ticket overlap and fencing tokens increase;
5. the outbox files have no duplicate or torn lines; 6. `orchestrator-dynamic replay ID` equals the
   stored state for every workflow. Also: every ticket released, one final frame and FLOW_C_COMPLETED
   per workflow, resubmissions answered `created: false`, no process died on its own.

Every group of checks runs; the failure lists the problems of each. Marked `crash` (run by the crash
step of scripts/test.sh). Knobs: CHAOS_SEED (default: random, printed), CHAOS_SQLITE_KILLS,
CHAOS_PG_KILLS, CHAOS_PG_DB_RESTARTS, CHAOS_DELAYS ("min,max"), CHAOS_MAX_ACTIVE, CHAOS_BUDGET_S (a
run that is not over after this many seconds fails, default 420).
"""

from __future__ import annotations

import copy
import os
import random
import sqlite3
import threading
import time
from collections import Counter

import pytest
import requests

from conftest import note
from harness import (
    DEFAULT_CONFIG, TERMINAL_STATUSES, Api, PyWorker, ServerProcess, accepted_decision_problems,
    double_completion_problems, expect, lease_overlap_problems, outbox_content_problems, outbox_file_problems,
    postgres_restart, query, replay_problems, require_restartable_cluster, schema_of, termination_problems,
    terminate_all,
)
import workload

SEED = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 2**31))
SQLITE_KILLS = int(os.environ.get("CHAOS_SQLITE_KILLS", "100"))
PG_KILLS = int(os.environ.get("CHAOS_PG_KILLS", "30"))
PG_DB_RESTARTS = int(os.environ.get("CHAOS_PG_DB_RESTARTS", "2"))
MIN_DELAY_S, MAX_DELAY_S = (float(x) for x in os.environ.get("CHAOS_DELAYS", "0.2,1.5").split(","))
MAX_ACTIVE = int(os.environ.get("CHAOS_MAX_ACTIVE", "12"))
BUDGET_S = float(os.environ.get("CHAOS_BUDGET_S", "420"))
WORKER_KILL_CHANCE = 0.1  # SQLite: after a server kill, also kill a worker
RECOVERY_KILL_CHANCE = 0.1  # a restarted server is killed again 0-0.3 s after its start, before it is ready
PG_DOWNTIME_S = (0.0, 4.0)  # a killed replica stays down this long (uniform): sometimes past the ownership TTL
PG_TWO_DOWN_CHANCE = 0.2  # a second replica is killed while the first is down (one survivor takes over)
OWNERSHIP_TTL_MS = 3000
REPLICA_IDS = ("r1", "r2", "r3")

# Leases outlive a restart; many retries, because every lease expiry caused by a kill counts as one.
CHAOS_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
CHAOS_CONFIG["engine"]["policies"]["execution"].update({"lease_ttl_ms": 3000})
CHAOS_CONFIG["engine"]["policies"]["tickets"]["max_retries"] = {b: 50 for b in ("low", "medium", "high", "critical")}


# --- the load -----------------------------------------------------------------------------------


def chaos_plan(tag: str, k: int) -> tuple[dict, str]:
    """Plan number k of a run and the status it must end in. 1 in 10 is a saga (a chain of 3–4 whose
    last task fails for good: FAILED, the others compensated), 1 in 10 a DAG with a task that fails
    once (COMPLETED), the others DAGs of 4–12 `sleep` tasks of 10–60 ms (COMPLETED)."""
    rng = workload.SplitMix64(SEED * 1_000_003 + k)
    kind = rng.below(10)
    plan_id = f"chaos-{tag}-{SEED}-p{k}"
    if kind == 0:
        n = 3 + rng.below(2)
        tasks = [workload.task(f"t{i}", [f"t{i - 1}"] if i else [],
                               parameters={"work": "fail", "retryable": "false"} if i == n - 1
                               else {"work": "sleep", "sleep_ms": str(10 + rng.below(51))})
                 for i in range(n)]
        return workload.plan(plan_id + "-saga", tasks), "FAILED"
    n = 4 + rng.below(9)
    dag = workload.generate("random", n, SEED + k)
    sleeps = [10 + rng.below(51) for _ in range(n)]
    flaky = rng.below(n) if kind == 1 else -1

    def parameters(i: int) -> dict:
        if i == flaky:
            return {"work": "fail", "fail_attempts": "1", "retryable": "true"}
        return {"work": "sleep", "sleep_ms": str(sleeps[i])}

    return workload.dag_plan(plan_id + ("-flaky" if kind == 1 else ""), dag, parameters_for=parameters), "COMPLETED"


def list_workflows(api: Api, timeout: float = 5) -> list[dict]:
    """Every workflow summary the server lists (page by page)."""
    out: list[dict] = []
    while True:
        r = api.get("/api/v1/workflows", params={"limit": 500, "offset": len(out)}, timeout=timeout)
        r.raise_for_status()
        page = r.json()["workflows"]
        out += page
        if len(page) < 500:
            return out


class Monitor(threading.Thread):
    """Polls the workflow list of whichever server answers: which workflows are terminal."""

    def __init__(self, servers: list[ServerProcess]) -> None:
        super().__init__(daemon=True)
        self.servers = servers
        self.terminal: set[str] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            turn += 1
            live = [s for s in self.servers if s.running()]
            if live:
                try:
                    listed = list_workflows(Api(live[turn % len(live)].url), timeout=3)
                    self.terminal = {w["workflow_id"] for w in listed if w["status"] in TERMINAL_STATUSES}
                except (requests.RequestException, ValueError, KeyError):
                    pass
            self.stop.wait(0.5)


class Submitter(threading.Thread):
    """Submits decision after decision (round-robin over the servers, the next one when a server does
    not answer), each retried until acknowledged, while fewer than MAX_ACTIVE are in flight; stops
    after the decision in progress once `stop` is set."""

    def __init__(self, tag: str, servers: list[ServerProcess], monitor: Monitor, rnd: random.Random) -> None:
        super().__init__(daemon=True)
        self.tag = tag
        self.servers = servers
        self.monitor = monitor
        self.rnd = rnd
        self.accepted: dict[str, str] = {}  # decision_id -> workflow_id acknowledged
        self.expected: dict[str, str] = {}  # workflow_id -> designed final status
        self.plans: dict[str, dict] = {}  # workflow_id -> plan
        self.decisions: dict[str, dict] = {}  # decision_id -> decision
        self.attempts = 0
        self.duplicates = 0  # acknowledged with 200 created:false (a retry of an accepted one)
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.give_up = threading.Event()

    def in_flight(self) -> int:
        return len(set(self.accepted.values()) - self.monitor.terminal)

    def run(self) -> None:
        k = 0
        while not self.stop.is_set():
            if self.in_flight() >= MAX_ACTIVE:
                time.sleep(0.1)
                continue
            plan, status = chaos_plan(self.tag, k)
            decision = workload.decision(plan)
            self.decisions[decision["decision_id"]] = decision
            if not self.submit(k, decision):
                return
            wid = self.accepted[decision["decision_id"]]
            self.expected[wid], self.plans[wid] = status, plan
            k += 1
            time.sleep(self.rnd.uniform(0.02, 0.3))

    def submit(self, k: int, decision: dict) -> bool:
        attempt = 0
        while not self.give_up.is_set():
            server = self.servers[(k + attempt) % len(self.servers)]
            attempt += 1
            self.attempts += 1
            try:
                r = Api(server.url, timeout=5).submit_decision(decision)
            except requests.RequestException:
                time.sleep(0.1)
                continue
            if r.status_code in (200, 201):
                body = r.json()
                if r.status_code == 200:
                    if body.get("created") is not False:
                        self.errors.append(f"{decision['decision_id']}: 200 without created:false: {r.text[:300]}")
                    self.duplicates += 1
                self.accepted[decision["decision_id"]] = body["workflow_id"]
                return True
            if r.status_code < 500:
                self.errors.append(f"{decision['decision_id']}: {r.status_code} {r.text[:300]}")
                return False
            time.sleep(0.1)
        self.errors.append(f"{decision['decision_id']}: never acknowledged (gave up)")
        return False


def restart(server: ServerProcess, rnd: random.Random) -> int:
    """Restarts a killed server and waits until it is ready; RECOVERY_KILL_CHANCE of the time it is
    first started and killed again 0–0.3 s later, while it recovers (before it is ready). Returns the
    number of those extra kills (0 or 1)."""
    extra = 0
    if rnd.random() < RECOVERY_KILL_CHANCE:
        server.start(wait_ready=False)
        time.sleep(rnd.uniform(0.0, 0.3))
        server.kill9()
        extra = 1
    server.start(wait_ready=True, timeout=60)
    return extra


# --- the checks -----------------------------------------------------------------------------


def wait_terminal(servers: list[ServerProcess], workflow_ids: set[str], deadline: float) -> int:
    """Waits until every workflow is terminal (or the deadline); the number terminal."""
    terminal: set[str] = set()
    while time.monotonic() < deadline:
        for server in (s for s in servers if s.running()):
            try:
                terminal = {w["workflow_id"] for w in list_workflows(Api(server.url))
                            if w["status"] in TERMINAL_STATUSES}
            except (requests.RequestException, ValueError, KeyError):
                continue
            break
        if workflow_ids <= terminal:
            break
        time.sleep(0.5)
    return len(workflow_ids & terminal)


def check_run(*, binary: str, servers: list[ServerProcess], workers: list, submitter: Submitter,
              outbox_dirs: dict, replay_args, deadline: float, before_stop=None,
              increasing: bool = False, replay_parallel: int = 4) -> tuple[dict, dict]:
    """Reads everything back, stops the processes, checks the six invariants and a few more. Returns
    the problems by group and some counts."""
    failures: dict[str, list[str]] = {}
    counts: dict = {}
    accepted_ids = set(submitter.accepted.values())
    counts["terminal"] = wait_terminal(servers, accepted_ids, deadline)
    counts["settled_at"] = time.monotonic()
    failures["submissions"] = list(submitter.errors)
    apis = [Api(s.url) for s in servers if s.running()]
    assert apis, "no server is running at the end"

    listed = list_workflows(apis[0])
    views: dict[str, dict | None] = {}
    histories: dict[str, list[dict]] = {}
    for n, wid in enumerate(sorted(accepted_ids | {w["workflow_id"] for w in listed})):
        api = apis[n % len(apis)]
        r = api.get(f"/api/v1/workflows/{wid}")
        views[wid] = r.json() if r.status_code == 200 else None
        if views[wid] is not None:
            histories[wid] = apis[(n + 1) % len(apis)].history(wid)
    present = {wid: v for wid, v in views.items() if v is not None}

    failures["1 accepted decisions have workflows"] = accepted_decision_problems(submitter.accepted, views, listed)
    failures["2 every workflow ends as designed"] = termination_problems(present, submitter.expected)
    lease_trouble, leases = lease_overlap_problems(histories)
    failures["4 leases never overlap, tokens increase"] = lease_trouble

    # The plans' own promises: a task that fails once was retried; a saga compensated its chain.
    design = failures["plans as designed"] = []
    for wid, plan in submitter.plans.items():
        view = present.get(wid)
        if view is None:
            continue
        tickets = {t["task_id"]: t for t in view["tickets"] if t.get("task_type") != "COMPENSATE"}
        n = len(plan["tasks"])
        if len(tickets) != n:
            design.append(f"{wid}: {len(tickets)} tickets for {n} tasks")
        metrics = view.get("metrics") or {}
        if submitter.expected[wid] == "COMPLETED" and (metrics.get("total"), metrics.get("successful")) != (n, n):
            design.append(f"{wid}: metrics {metrics} for {n} tasks, all completed")
        for task in plan["tasks"]:
            t = tickets.get(task["task_id"])
            if t is None:
                design.append(f"{wid}: no ticket for task {task['task_id']}")
            elif task["parameters"].get("fail_attempts") == "1" and t["status"] == "COMPLETED" and t["retry_count"] < 1:
                design.append(f"{wid}: task {task['task_id']} (fails once) completed with retry_count 0")
        if submitter.expected[wid] == "FAILED":
            last = plan["tasks"][-1]["task_id"]
            wrong = [(tid, t["status"]) for tid, t in tickets.items()
                     if t["status"] != ("FAILED" if tid == last else "COMPENSATED")]
            compensations = [t for t in view["tickets"] if t.get("task_type") == "COMPENSATE"]
            if wrong or len(compensations) != len(plan["tasks"]) - 1 or any(
                    c["status"] != "COMPLETED" for c in compensations):
                design.append(f"{wid}: saga ended with tickets {wrong}, compensations "
                              f"{[c['status'] for c in compensations]}")

    # Intake stays idempotent: every decision again is answered created:false with its workflow.
    resubmitted = failures["resubmissions"] = []
    for n, (did, decision) in enumerate(sorted(submitter.decisions.items())):
        if did not in submitter.accepted:
            continue
        r = apis[n % len(apis)].submit_decision(decision)
        if r.status_code != 200 or r.json().get("created") is not False or \
                r.json().get("workflow_id") != submitter.accepted[did]:
            resubmitted.append(f"{did}: {r.status_code} {r.text[:200]}")

    # Let the outbox relay catch up (every workflow's final frame written), then stop every process
    # (SIGTERM): the outbox files are final, and SQLite is unlocked for `replay`.
    final_frames_deadline = time.monotonic() + 30
    while time.monotonic() < final_frames_deadline:
        _, union, _ = outbox_file_problems(outbox_dirs)
        framed = {m["value"].get("workflow_id") for m in union.get("telemetry.orchestration", {}).values()}
        if set(present) <= framed:
            break
        time.sleep(0.5)
    if before_stop is not None:
        before_stop(failures)
    failures["processes"] = [f"{p.name} exited on its own (status {p.proc.returncode})"
                             for p in [*servers, *workers] if not p.running()]
    terminate_all([*workers, *servers])

    problems, union, outbox_counts = outbox_file_problems(outbox_dirs, increasing=increasing)
    counts.update(outbox_counts)
    failures["5 outbox files: no duplicate or torn lines"] = problems
    failures["3 no ticket completed twice"] = double_completion_problems(histories, union)
    failures["outbox contents"] = outbox_content_problems(union, present, leases)

    replay_started = time.monotonic()
    problems, counts["replayed"] = replay_problems(binary, sorted(present), replay_args, parallel=replay_parallel)
    counts["replay_s"] = time.monotonic() - replay_started
    failures["6 replay equals the stored state"] = problems
    spans = [s for per_ticket in leases.values() for ss in per_ticket.values() for s in ss]
    counts.update(workflows=len(present), tickets=sum(len(v["tickets"]) for v in present.values()),
                  leases=len(spans), expired=sum(s.end == "expired" for s in spans),
                  statuses=dict(Counter(v["status"] for v in present.values())))
    return failures, counts


def report(request, title: str, failures: dict, summary: str) -> None:
    print(summary)
    note(request.config, summary)
    failed = {group: found for group, found in failures.items() if found}
    assert not failed, "\n".join(
        f"{group}: {len(found)} problem(s), e.g.:\n  " + "\n  ".join(found[:15]) for group, found in failed.items()
    ) + f"\n({title}: {summary})"


# --- SQLite -----------------------------------------------------------------------------------


@pytest.mark.crash
def test_chaos_sqlite(start_server, start_worker, binary, tmp_path, request):
    started = time.monotonic()
    deadline = started + BUDGET_S
    rnd = random.Random(SEED)
    print(f"\nchaos on SQLite: CHAOS_SEED={SEED}, {SQLITE_KILLS} kills, delays {MIN_DELAY_S}-{MAX_DELAY_S}s")
    server = start_server(CHAOS_CONFIG, name="server")
    workers = [start_worker(server.url, concurrency=4, worker_id=f"chaos-w{j}") for j in (1, 2)]
    monitor = Monitor([server])
    submitter = Submitter("sqlite", [server], monitor, random.Random(SEED + 1))
    monitor.start()
    submitter.start()

    kills = worker_kills = recovery_kills = 0
    under_load = 0
    restart_s: list[float] = []
    try:
        while kills < SQLITE_KILLS:
            assert time.monotonic() < started + BUDGET_S * 0.7, (
                f"kill phase too long: {kills} kills in {time.monotonic() - started:.0f}s (CHAOS_SEED={SEED})")
            time.sleep(rnd.uniform(MIN_DELAY_S, MAX_DELAY_S))
            under_load += submitter.in_flight() > 0
            server.kill9()
            kills += 1
            if rnd.random() < WORKER_KILL_CHANCE:
                victim = rnd.choice(workers)
                victim.kill9()
                victim.start()
                worker_kills += 1
            began = time.monotonic()
            extra = restart(server, rnd)
            kills, recovery_kills = kills + extra, recovery_kills + extra
            if not extra:
                restart_s.append(time.monotonic() - began)
    finally:
        submitter.stop.set()
        submitter.join(timeout=30)
        submitter.give_up.set()
        monitor.stop.set()
    kill_phase_s = time.monotonic() - started
    print(f"{kill_phase_s:.0f}s: {kills} server kills ({under_load} with workflows in flight, {recovery_kills} while "
          f"recovering), {worker_kills} worker "
          f"kills, restarts {min(restart_s):.2f}-{max(restart_s):.2f}s; {len(submitter.accepted)} decisions accepted")

    def replay_args(slot: int) -> list[str]:
        # `replay` locks its data dir: each parallel one gets its own, and the server's file by URL.
        return ["--database-url", f"sqlite:{server.data_dir / 'orchestrator.sqlite'}", "--config",
                str(server.config_path), "--data-dir", str(tmp_path / f"replay-{slot}")]

    failures, counts = check_run(
        binary=binary, servers=[server], workers=workers, submitter=submitter,
        outbox_dirs={"server": server.outbox_dir}, replay_args=replay_args, deadline=deadline, increasing=True,
    )
    summary = (
        f"chaos SQLite (CHAOS_SEED={SEED}): {kills} SIGKILLs of the server ({under_load} under load, "
        f"{recovery_kills} while recovering) and "
        f"{worker_kills} of workers in {kill_phase_s:.0f}s; {counts['workflows']} workflows {counts['statuses']}, "
        f"{counts['tickets']} tickets, {counts['leases']} leases ({counts['expired']} expired), all terminal "
        f"{counts['settled_at'] - started:.0f}s after the start; {submitter.attempts} submissions for "
        f"{len(submitter.accepted)} decisions ({submitter.duplicates} answered created:false); outbox "
        f"{counts['lines']} lines in {counts['files']} files; {counts['replayed']} replays OK "
        f"({counts['replay_s']:.0f}s); total {time.monotonic() - started:.0f}s"
    )
    assert kills >= SQLITE_KILLS
    report(request, "SQLite", failures, summary)


# --- PostgreSQL, three replicas ------------------------------------------------------------------


@pytest.mark.crash
def test_chaos_postgres_replicas(start_server, start_worker, binary, pg_url, tmp_path, request):
    require_restartable_cluster(pg_url)
    processes: list = []
    try:
        run_postgres_chaos(start_server, start_worker, binary, pg_url, tmp_path, request, processes)
    finally:
        terminate_all(processes)


def run_postgres_chaos(start_server, start_worker, binary, pg_url, tmp_path, request, processes: list) -> None:
    started = time.monotonic()
    deadline = started + BUDGET_S
    rnd = random.Random(SEED)
    schema = schema_of(pg_url)
    db_restart_after = [PG_KILLS * (j + 1) // (PG_DB_RESTARTS + 1) for j in range(PG_DB_RESTARTS)]
    print(f"\nchaos on PostgreSQL ({schema}): CHAOS_SEED={SEED}, {PG_KILLS} kills of {len(REPLICA_IDS)} replicas, "
          f"database restarts after kills {db_restart_after}")
    env = {"ORCHESTRATOR_OWNERSHIP_TTL_MS": str(OWNERSHIP_TTL_MS)}
    replicas: dict[str, ServerProcess] = {}
    for rid in REPLICA_IDS:
        replicas[rid] = start_server(CHAOS_CONFIG, data_dir=tmp_path / f"replica-{rid}", name=f"replica {rid}",
                                     env=env, extra_args=["--database-url", pg_url, "--replica-id", rid])
        processes.append(replicas[rid])
    workers = [start_worker(replicas[rid].url, concurrency=4, worker_id=f"{rid}-w") for rid in REPLICA_IDS]
    processes[:0] = workers
    servers = list(replicas.values())
    monitor = Monitor(servers)
    submitter = Submitter("pg", servers, monitor, random.Random(SEED + 1))
    monitor.start()
    submitter.start()

    kills = db_restarts = under_load = recovery_kills = two_down = worker_kills = 0
    killed = Counter()
    db_restart_s: list[float] = []
    try:
        while kills < PG_KILLS:
            assert time.monotonic() < started + BUDGET_S * 0.7, (
                f"kill phase too long: {kills} kills in {time.monotonic() - started:.0f}s (CHAOS_SEED={SEED})")
            time.sleep(rnd.uniform(MIN_DELAY_S, MAX_DELAY_S) + 0.5)
            victims = rnd.sample(REPLICA_IDS, 2 if rnd.random() < PG_TWO_DOWN_CHANCE else 1)
            under_load += submitter.in_flight() > 0
            for n, rid in enumerate(victims):
                if n:  # the second one while the first is down
                    time.sleep(rnd.uniform(0.0, 1.0))
                    two_down += 1
                replicas[rid].kill9()
                kills += 1
                killed[rid] += 1
            if rnd.random() < WORKER_KILL_CHANCE:
                worker = rnd.choice(workers)
                worker.kill9()
                worker.start()
                worker_kills += 1
            time.sleep(rnd.uniform(*PG_DOWNTIME_S))
            for rid in victims:
                extra = restart(replicas[rid], rnd)
                kills, recovery_kills, killed[rid] = kills + extra, recovery_kills + extra, killed[rid] + extra
            if db_restarts < len(db_restart_after) and kills >= db_restart_after[db_restarts]:
                time.sleep(rnd.uniform(0.2, 1.0))
                db_restart_s.append(postgres_restart(pg_url))
                db_restarts += 1
                print(f"{time.monotonic() - started:.0f}s: database restarted after kill {kills} "
                      f"({db_restart_s[-1]:.1f}s), {submitter.in_flight()} workflows in flight")
    finally:
        submitter.stop.set()
        submitter.join(timeout=30)
        submitter.give_up.set()
        monitor.stop.set()
    kill_phase_s = time.monotonic() - started
    print(f"{kill_phase_s:.0f}s: {kills} replica kills {dict(killed)} ({under_load} with workflows in flight, "
          f"{recovery_kills} while recovering, {two_down} while another was down), {worker_kills} worker kills, "
          f"{db_restarts} database restarts; {len(submitter.accepted)} decisions accepted")

    owners: dict = {}

    def before_stop(failures: dict) -> None:
        rows = query(pg_url, f"SELECT count(*) FROM {schema}.outbox")
        pending = int(rows[0][0]) if rows else None
        failures["outbox drained"] = [] if pending == 0 else [f"{pending} messages left in {schema}.outbox"]
        for owner, count in query(pg_url, f"SELECT owner, count(*) FROM {schema}.workflows GROUP BY 1") or []:
            owners[owner] = int(count)

    failures, counts = check_run(
        binary=binary, servers=servers, workers=workers, submitter=submitter,
        outbox_dirs={rid: replicas[rid].outbox_dir for rid in REPLICA_IDS},
        replay_args=["--database-url", pg_url, "--config", str(replicas["r1"].config_path),
                     "--data-dir", str(tmp_path / "replay")],
        deadline=deadline, before_stop=before_stop,
    )
    summary = (
        f"chaos PostgreSQL (CHAOS_SEED={SEED}): {kills} SIGKILLs of replicas {dict(killed)} ({under_load} under "
        f"load, {recovery_kills} while recovering, {two_down} while another was down) and {worker_kills} of "
        f"workers, {db_restarts} database restarts, in {kill_phase_s:.0f}s; {counts['workflows']} workflows "
        f"{counts['statuses']}, {counts['tickets']} tickets, {counts['leases']} leases ({counts['expired']} "
        f"expired), all terminal {counts['settled_at'] - started:.0f}s after the start; owners at the end {owners}; "
        f"{submitter.attempts} submissions for {len(submitter.accepted)} decisions ({submitter.duplicates} answered "
        f"created:false); outbox {counts['lines']} lines in {counts['files']} files ({counts['copies']} relayed by "
        f"two replicas); {counts['replayed']} replays OK ({counts['replay_s']:.0f}s); total "
        f"{time.monotonic() - started:.0f}s"
    )
    assert kills >= PG_KILLS and db_restarts >= PG_DB_RESTARTS
    report(request, "PostgreSQL", failures, summary)


# --- the replay check against the real binary ----------------------------------------------------


def test_replay_check_catches_a_lost_history_event(start_server, binary):
    """Invariant 6 on a real store: a workflow replays OK; with its last history event deleted behind
    the server's back, `replay` reports the mismatch and the check fails."""
    server = start_server()
    api = Api(server.url)
    worker = PyWorker(api, "replay-check-worker")
    worker.register()
    wid = expect(api.submit_decision(workload.decision(workload.chain_plan("replay-check", 2))), 201)["workflow_id"]
    worker.run_workflow(wid)
    assert server.terminate() == 0
    args = ["--data-dir", str(server.data_dir), "--config", str(server.config_path)]
    assert replay_problems(binary, [wid], args) == ([], 1)
    with sqlite3.connect(server.data_dir / "orchestrator.sqlite") as db:
        deleted = db.execute("DELETE FROM history WHERE workflow_id = ? AND sequence = "
                             "(SELECT max(sequence) FROM history WHERE workflow_id = ?)", (wid, wid)).rowcount
    assert deleted == 1
    problems, ok = replay_problems(binary, [wid], args)
    assert ok == 0 and len(problems) == 1 and "replay MISMATCH" in problems[0], problems
