"""11. Crash test: the server is killed with SIGKILL at random moments at least 20 times while two
reference workers run 50 plans; after the last restart every workflow must complete, every ticket
exactly once, and the outbox files must be complete and free of duplicates.

Run it alone with `pytest Tests/Integration -m crash` (or leave it out with `-m "not crash"`).
Environment knobs: CRASH_KILLS (default 20), CRASH_SEED (default 20251125), CRASH_DELAYS (seconds
between a restart and the next kill, "min,max", default "0.3,2.5").
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter

import pytest
import requests

from conftest import note
from harness import (
    TERMINAL_STATUSES, Api, completions_by_ticket, outbox_summary, read_outbox, wait_outbox,
)
import workload

PLANS = 50
MIN_KILLS = int(os.environ.get("CRASH_KILLS", "20"))
SEED = int(os.environ.get("CRASH_SEED", "20251125"))
MIN_DELAY_S, MAX_DELAY_S = (float(x) for x in os.environ.get("CRASH_DELAYS", "0.3,2.5").split(","))
FAILING_PLANS = {7, 23, 41}  # plans with `fail` tasks that succeed after one retry
# No wall-clock budget: this is a correctness test, and a slow (busy, 2-core) machine is not a bug.
# It fails only when nothing moves for STALL_S: no decision accepted during the kill phase, or no
# workflow becoming terminal afterwards.
STALL_S = 180

CRASH_CONFIG = {
    "engine": {
        "policies": {
            # Leases outlive a restart; many retries so that lease expiries caused by the kills
            # (each counts as a retry) can never exhaust a ticket.
            "execution": {"lease_ttl_ms": 3000, "initial_backoff_ms": 100, "max_backoff_ms": 500},
            "tickets": {"max_retries": {"low": 25, "medium": 25, "high": 25, "critical": 25}},
        }
    }
}


def crash_plans() -> list[dict]:
    rng = workload.SplitMix64(SEED)
    plans = []
    for k in range(PLANS):
        n = 10 + rng.below(21)
        dag = workload.generate("random", n, SEED + k)
        sleeps = [20 + rng.below(61) for _ in range(n)]
        failing = {rng.below(n), rng.below(n)} if k in FAILING_PLANS else set()

        def parameters(i, sleeps=sleeps, failing=failing):
            if i in failing:
                return {"work": "fail", "fail_attempts": "1", "retryable": "true"}
            return {"work": "sleep", "sleep_ms": str(sleeps[i])}

        plans.append(workload.dag_plan(f"crash-p{k}-n{n}", dag, parameters_for=parameters, risk_band="medium"))
    return plans


class Submitter(threading.Thread):
    """Submits the decisions one by one, retrying each until the server answers 201 or 200."""

    def __init__(self, url: str, decisions: list[dict], rnd: random.Random) -> None:
        super().__init__(daemon=True)
        self.api = Api(url, timeout=5)
        self.decisions = decisions
        self.rnd = rnd
        self.workflow_ids: dict[str, str] = {}
        self.attempts = 0
        self.duplicates = 0
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        for decision in self.decisions:
            while not self.stop.is_set():
                self.attempts += 1
                try:
                    r = self.api.submit_decision(decision)
                except requests.RequestException:
                    time.sleep(0.1)
                    continue
                if r.status_code in (201, 200):
                    body = r.json()
                    if r.status_code == 200:
                        assert body.get("created") is False, body
                        self.duplicates += 1
                    self.workflow_ids[decision["decision_id"]] = body["workflow_id"]
                    break
                if r.status_code >= 500:
                    time.sleep(0.1)
                    continue
                self.errors.append(f"{decision['decision_id']}: {r.status_code} {r.text[:300]}")
                break
            time.sleep(self.rnd.uniform(0.15, 1.0))


def workflow_or_none(api: Api, workflow_id: str) -> dict | None:
    try:
        r = api.get(f"/api/v1/workflows/{workflow_id}", timeout=5)
    except requests.RequestException:
        return None
    return r.json() if r.status_code == 200 else None


@pytest.mark.crash
def test_sigkill_the_server_repeatedly(start_server, start_worker, request):
    started = time.monotonic()
    rnd = random.Random(SEED)
    server = start_server(CRASH_CONFIG)
    workers = [start_worker(server.url, concurrency=4, worker_id=f"crash-worker-{name}") for name in "ab"]

    plans = crash_plans()
    decisions = [workload.decision(p, decision_id=f"decision-{p['plan_id']}") for p in plans]
    submitter = Submitter(server.url, decisions, rnd)
    submitter.start()

    kills = 0
    try:
        accepted, progressed_at = 0, time.monotonic()
        while kills < MIN_KILLS or submitter.is_alive():
            if len(submitter.workflow_ids) > accepted:
                accepted, progressed_at = len(submitter.workflow_ids), time.monotonic()
            assert not submitter.is_alive() or time.monotonic() - progressed_at < STALL_S, (
                f"no decision accepted for {STALL_S}s ({kills} kills, {accepted} submitted)")
            time.sleep(rnd.uniform(MIN_DELAY_S, MAX_DELAY_S))
            server.kill9()
            kills += 1
            server.start(wait_ready=True, timeout=60)
    finally:
        submitter.stop.set()
        submitter.join(timeout=10)
    killed_at = time.monotonic() - started
    print(f"\nserver SIGKILLed {kills} times in {killed_at:.0f}s; {submitter.attempts} submission attempts, "
          f"{submitter.duplicates} answered created:false")
    note(request.config, f"crash test: server SIGKILLed {kills} times; {submitter.duplicates} resubmissions answered "
                         f"created:false")

    assert not submitter.errors, submitter.errors
    assert len(submitter.workflow_ids) == PLANS, f"only {len(submitter.workflow_ids)} of {PLANS} decisions accepted"
    assert kills >= MIN_KILLS

    # Wait (bounded) until every workflow is terminal.
    api = Api(server.url)
    workflow_ids = sorted(set(submitter.workflow_ids.values()))
    assert len(workflow_ids) == PLANS
    views: dict[str, dict] = {}
    terminal, progressed_at = -1, time.monotonic()
    while time.monotonic() - progressed_at < STALL_S:
        now_terminal = sum(v["status"] in TERMINAL_STATUSES for v in views.values())
        if now_terminal > terminal:
            terminal, progressed_at = now_terminal, time.monotonic()
        for wid in workflow_ids:
            if wid not in views or views[wid]["status"] not in TERMINAL_STATUSES:
                view = workflow_or_none(api, wid)
                if view is not None:
                    views[wid] = view
        if len(views) == PLANS and all(v["status"] in TERMINAL_STATUSES for v in views.values()):
            break
        time.sleep(1)
    pending = {wid: (v["status"], [(t["task_id"], t["phase"]) for t in v["tickets"] if t["phase"] != "COMPLETED"])
               for wid, v in views.items() if v["status"] not in TERMINAL_STATUSES}
    assert len(views) == PLANS and not pending, (
        f"not terminal (no progress for {STALL_S}s, {time.monotonic() - started:.0f}s in all): {pending}")
    print(f"all {PLANS} workflows terminal after {time.monotonic() - started:.0f}s")

    # Every workflow completed; every ticket completed exactly once.
    not_completed = {wid: (v["status"], v.get("reason")) for wid, v in views.items() if v["status"] != "COMPLETED"}
    assert not not_completed, not_completed
    all_tickets: dict[str, str] = {}
    problems = []
    for plan, decision in zip(plans, decisions):
        wid = submitter.workflow_ids[decision["decision_id"]]
        view = views[wid]
        tickets = {t["ticket_id"]: t for t in view["tickets"]}
        if len(tickets) != len(plan["tasks"]):
            problems.append(f"{wid}: {len(tickets)} tickets for {len(plan['tasks'])} tasks")
        for tid, t in tickets.items():
            all_tickets[tid] = wid
            if t["status"] != "COMPLETED":
                problems.append(f"{wid}: ticket {t['task_id']} is {t['status']}")
        counts = completions_by_ticket(api.history(wid))
        for tid in tickets:
            if counts.get(tid, 0) != 1:
                problems.append(f"{wid}: ticket {tickets[tid]['task_id']} has {counts.get(tid, 0)} accepted completions")
        for tid in set(counts) - set(tickets):
            problems.append(f"{wid}: completion for unknown ticket {tid}")
        failing_tasks = {t["task_id"] for t in plan["tasks"] if t["parameters"].get("work") == "fail"}
        for t in view["tickets"]:
            if t["task_id"] in failing_tasks and t["retry_count"] < 1:
                problems.append(f"{wid}: ticket {t['task_id']} (fails once) completed with retry_count {t['retry_count']}")
        if view["metrics"]["total"] != len(plan["tasks"]) or view["metrics"]["successful"] != len(plan["tasks"]):
            problems.append(f"{wid}: metrics {view['metrics']}")
    assert not problems, problems[:20]

    # The outbox: every ticket released, one final frame per workflow, sequences unique and increasing.
    def all_frames(files):
        return {m["value"].get("workflow_id") for m in files["telemetry.orchestration"].messages} >= set(workflow_ids)

    files = wait_outbox(server.outbox_dir, all_frames, timeout=20)
    summary = outbox_summary(files)
    for f in files.values():
        assert not f.bad_lines, f"{f.topic}: unreadable (torn?) lines {f.bad_lines[:5]}"
        sequences = [m["sequence"] for m in f.messages]
        duplicated = sorted(s for s, c in Counter(sequences).items() if c > 1)
        assert not duplicated, f"{f.topic}: sequence numbers written twice: {duplicated[:20]}"
        backwards = [(a, b) for a, b in zip(sequences, sequences[1:]) if b <= a]
        assert not backwards, f"{f.topic}: sequences not strictly increasing at {backwards[:10]}"
    released = {m["value"]["ticket_id"] for m in files["execution.tickets"].messages}
    missing = sorted(set(all_tickets) - released)
    assert not missing, f"{len(missing)} tickets never published on execution.tickets (e.g. {missing[:5]}); {summary}"
    frames: dict[str, int] = {}
    for m in files["telemetry.orchestration"].messages:
        frames[m["value"].get("workflow_id")] = frames.get(m["value"].get("workflow_id"), 0) + 1
    wrong = {wid: frames.get(wid, 0) for wid in workflow_ids if frames.get(wid, 0) != 1}
    assert not wrong, f"final frames per workflow (expected exactly 1): {wrong}; {summary}"

    # Intake is still idempotent after all the restarts, and the workers rode them out.
    for decision in decisions:
        r = api.submit_decision(decision)
        assert r.status_code == 200 and r.json()["created"] is False, f"resubmission: {r.status_code} {r.text[:300]}"
        assert r.json()["workflow_id"] == submitter.workflow_ids[decision["decision_id"]]
    assert all(worker.running() for worker in workers), "a reference worker died while the server was restarting"
    print(f"outbox: {summary}; total {time.monotonic() - started:.0f}s")
