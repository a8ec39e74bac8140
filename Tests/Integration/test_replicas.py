"""Several replicas on one PostgreSQL database (acceptance test of multi-replica operation).

Three `serve` replicas (`--replica-id r1|r2|r3`, ownership lease ORCHESTRATOR_OWNERSHIP_TTL_MS=3000)
share one database schema; two reference workers run against each replica. 200 small DAG plans
are submitted round-robin over the three HTTP APIs while:

- at about 1/3 of the workflows terminal, replica r2 is killed with SIGKILL (its workers keep
  running, their calls fail) and restarted 10 s later with the same id, port and data dir;
- at about 2/3, the database itself is restarted (`scripts/postgres.sh restart`: every connection
  of every replica is dropped).

The decisions go in bursts (20 every 4 s, about 40 s in all). The faults come while work is in
flight however fast the machine is: the kill once r2 runs a few workflows (the burst before it
sends r2's decisions last), the database restart right after a burst; and the last burst waits
until the database restart is due, so that there is work after both faults however slow it is.
A replica that stops answering for 30 s, or no progress for 45 s, fails the test at once.

Then, read through the HTTP API of the replicas (any replica answers for any workflow) and psql:
every workflow COMPLETED, every ticket completed exactly once, no ticket ever leased to two
workers at once (lease intervals from the history never overlap, fencing tokens increase, every
report carries the current token), the outbox drained and the union of the replicas' outbox files
complete (every ticket released, one TICKET_COMPLETED per ticket, one final frame and one
FLOW_C_COMPLETED per workflow, the TICKET_ASSIGNED events matching the history's leases), more
than one replica owned workflows, and r2's workflows were taken over while it was down. Every
group of checks runs; the failure lists the problems of each group.

The database comes from ORCHESTRATOR_TEST_POSTGRES_URL and must be the cluster of
`scripts/postgres.sh` on that URL's port (the test restarts it). Knobs: REPLICAS_SEED.
"""

from __future__ import annotations

import copy
import os
import time
from collections import Counter, defaultdict

import pytest
import requests

from conftest import note
from harness import (
    DEFAULT_CONFIG, OUTBOX_TOPICS, TERMINAL_STATUSES, Api, LeaseSpan, OutboxFile, ServerProcess, completions_by_ticket,
    lease_problems, outbox_summary, postgres_restart, query, read_outbox, require_restartable_cluster, schema_of,
    terminate_all,
)
import workload

REPLICA_IDS = ("r1", "r2", "r3")
VICTIM = "r2"
OWNERSHIP_TTL_MS = 3000
WORKERS_PER_REPLICA = 2
WORKER_CONCURRENCY = 4
PLANS = 200
BURST = 20  # decisions submitted back to back …
BURST_INTERVAL_S = 4.0  # … every 4 s: the submissions span about 40 s
KILL_AT = PLANS // 3  # workflows terminal when r2 is killed …
VICTIM_ACTIVE_AT_KILL = 3  # … as soon as it runs that many active workflows (1 after 15 s, 0 after 30 s)
DOWNTIME_S = 10.0
DB_RESTART_AT = 2 * PLANS // 3  # workflows terminal when the database is restarted (after the next burst) …
ACTIVE_AT_DB_RESTART = 10  # … or at once if that many workflows are active
WAIT_FOR_BURST_S = 15  # a fault waits at most about this long for its moment
# A correctness test, not a speed test: the outer bound is only a backstop (the stall checks below
# catch a hang long before it), so a slow, busy machine does not fail the test.
TIMEOUT_S = 900  # from the first submission until every workflow is terminal
STUCK_S = 30  # a running replica that answers no workflow read for this long fails the test at once
STALL_S = 90  # no workflow finishing and no decision accepted for this long fails the test at once
SEED = int(os.environ.get("REPLICAS_SEED", "20251126"))

ACTIVE_SQL = "status NOT IN (" + ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES)) + ")"

# The test configuration (short leases and backoffs), with more retries: the kill and the database
# restart make leases expire, and each expiry counts as a retry.
REPLICA_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
REPLICA_CONFIG["engine"]["policies"]["tickets"]["max_retries"] = {b: 10 for b in ("low", "medium", "high", "critical")}


def replica_plans() -> list[dict]:
    """200 random DAGs of 5–8 `sleep` tasks of 20–50 ms."""
    rng = workload.SplitMix64(SEED)
    plans = []
    for k in range(PLANS):
        n = 5 + rng.below(4)
        dag = workload.generate("random", n, SEED + k)
        sleeps = [20 + rng.below(31) for _ in range(n)]
        plans.append(workload.dag_plan(
            f"replicas-p{k}-n{n}", dag, parameters_for=lambda i, s=sleeps: {"work": "sleep", "sleep_ms": str(s[i])},
        ))
    return plans


def now_ms() -> int:
    return int(time.time() * 1000)


# --- checks of the outbox files ---------------------------------------------------------------


def outbox_union_problems(files_by_replica: dict[str, dict[str, OutboxFile]], workflows: dict[str, dict],
                          leases: dict[str, dict[str, list[LeaseSpan]]],
                          torn_tails: set[tuple[str, str]] = frozenset()) -> tuple[list[str], dict[str, int]]:
    """The union of the replicas' outbox files against the final workflows (`workflow_id` → view) and
    the leases of their histories. Delivery is at least once: a message (an outbox sequence) may be in
    several files, or twice in one, but always with the same contents. Once deduplicated by sequence:
    every ticket released on `execution.tickets`, exactly one TICKET_COMPLETED per ticket and one
    FLOW_C_COMPLETED (status COMPLETED) per workflow on `telemetry-flow-c`, exactly one final frame
    (all tickets successful) per workflow on `telemetry.orchestration`, and the TICKET_ASSIGNED events
    of every ticket are its leases of the history (same epochs, same workers, in order). Unreadable
    lines are problems, except one at the end of a file listed in `torn_tails` as (replica, topic): the
    last write of a replica killed with SIGKILL. Returns the problems and some counts."""
    problems: list[str] = []
    union: dict[str, dict[int, dict]] = defaultdict(dict)
    copies = 0
    torn = 0
    for rid, files in files_by_replica.items():
        for topic, f in files.items():
            if f.bad_lines and ((rid, topic) not in torn_tails or len(f.bad_lines) > 1):
                problems.append(f"{rid} {topic}: unreadable lines {f.bad_lines[:3]}")
            torn += len(f.bad_lines)
            for m in f.messages:
                seen = union[topic].get(m["sequence"])
                if seen is None:
                    union[topic][m["sequence"]] = m
                else:
                    copies += 1
                    if (seen.get("key"), seen.get("value")) != (m.get("key"), m.get("value")):
                        problems.append(f"{topic}: sequence {m['sequence']} relayed twice with different contents "
                                        f"({str(seen)[:200]} / {str(m)[:200]})")

    def ordered(topic: str) -> list[dict]:
        return [union[topic][s]["value"] for s in sorted(union[topic])]

    released = Counter(v.get("ticket_id") for v in ordered("execution.tickets"))
    flow = ordered("telemetry-flow-c")
    completed = Counter(v.get("ticket_id") for v in flow if v.get("event_type") == "TICKET_COMPLETED")
    flow_done = defaultdict(list)
    assigned: dict[str, list[tuple]] = defaultdict(list)
    for v in flow:
        if v.get("event_type") == "FLOW_C_COMPLETED":
            flow_done[v.get("workflow_id")].append(v.get("status"))
        elif v.get("event_type") == "TICKET_ASSIGNED":
            assigned[v.get("ticket_id")].append(((v.get("metadata") or {}).get("lease_epoch"), v.get("worker_id")))
    frames = defaultdict(list)
    for v in ordered("telemetry.orchestration"):
        frames[v.get("workflow_id")].append(v)

    for wid, view in workflows.items():
        if len(frames[wid]) != 1:
            problems.append(f"{wid}: {len(frames[wid])} final frames on telemetry.orchestration (expected 1)")
        else:
            metrics = frames[wid][0].get("metrics") or {}
            if frames[wid][0].get("status") != "COMPLETED" or metrics.get("successful") != len(view["tickets"]):
                problems.append(f"{wid}: final frame {str(frames[wid][0])[:300]}")
        if flow_done[wid] != ["COMPLETED"]:
            problems.append(f"{wid}: FLOW_C_COMPLETED statuses {flow_done[wid]} (expected one COMPLETED)")
        for t in view["tickets"]:
            tid = t["ticket_id"]
            if released[tid] < 1:
                problems.append(f"{wid}: ticket {t['task_id']} ({tid}) never published on execution.tickets")
            if completed[tid] != 1:
                problems.append(f"{wid}: ticket {t['task_id']} has {completed[tid]} TICKET_COMPLETED events")
            history = [(s.epoch, s.worker_id) for s in leases.get(wid, {}).get(tid, [])]
            if assigned[tid] != history:
                problems.append(f"{wid}: ticket {t['task_id']}: TICKET_ASSIGNED (epoch, worker) {assigned[tid]} "
                                f"!= leases of the history {history}")
    counts = {"messages": sum(len(v) for v in union.values()), "copies": copies,
              "released": sum(released.values()), "torn_lines": torn}
    return problems, counts


# --- processes and the database ---------------------------------------------------------------


class Submitter:
    """Submits decisions round-robin over the replicas (decision k to replica k mod 3); a decision
    whose replica does not answer (killed, database down) goes to the next one."""

    def __init__(self, replicas: dict[str, ServerProcess], decisions: list[dict]) -> None:
        self.apis = [(rid, Api(server.url, timeout=5)) for rid, server in replicas.items()]
        self.decisions = decisions
        self.next = 0  # the next decision to submit
        self.bursts = 0
        self.workflow_ids: dict[str, str] = {}
        self.accepted_by: Counter = Counter()
        self.some_workflow: dict[str, str] = {}  # a workflow id accepted by each replica
        self.redirected = 0
        self.errors: list[str] = []

    @property
    def done(self) -> bool:
        return self.next >= len(self.decisions)

    @property
    def last_burst_next(self) -> bool:
        return self.next + BURST >= len(self.decisions)

    def burst(self, deadline: float, last_to: str | None = None) -> None:
        """The next BURST decisions, back to back (for at most 30 s); those for replica `last_to` last
        (so that it has more of them running right after the burst)."""
        deadline = min(deadline, time.monotonic() + 30)
        ks = list(range(self.next, min(self.next + BURST, len(self.decisions))))
        if last_to is not None:
            ks.sort(key=lambda k: self.apis[k % len(self.apis)][0] == last_to)
        for k in ks:
            self.submit(k, deadline)
        self.next = min(self.next + BURST, len(self.decisions))
        self.bursts += 1

    def submit(self, k: int, deadline: float) -> None:
        decision = self.decisions[k]
        attempt = 0
        while time.monotonic() < deadline:
            rid, api = self.apis[(k + attempt) % len(self.apis)]
            attempt += 1
            try:
                r = api.submit_decision(decision)
            except requests.RequestException:
                r = None
            if r is not None and r.status_code in (200, 201):
                body = r.json()
                if r.status_code == 200 and body.get("created") is not False:
                    self.errors.append(f"{decision['decision_id']}: 200 without created:false: {r.text[:300]}")
                self.workflow_ids[decision["decision_id"]] = body["workflow_id"]
                self.accepted_by[rid] += 1
                self.some_workflow.setdefault(rid, body["workflow_id"])
                self.redirected += attempt > 1
                return
            if r is not None and r.status_code < 500:
                self.errors.append(f"{decision['decision_id']} to {rid}: {r.status_code} {r.text[:300]}")
                return
            time.sleep(0.1)
        self.errors.append(f"{decision['decision_id']}: no replica accepted it in time")


# --- the test ---------------------------------------------------------------------------------


@pytest.mark.replicas
def test_three_replicas_survive_a_replica_kill_and_a_database_restart(start_server, start_worker, pg_url, tmp_path,
                                                                     request):
    require_restartable_cluster(pg_url)
    processes: list = []
    try:
        run_replicas_scenario(start_server, start_worker, pg_url, tmp_path, request, processes)
    finally:
        # All at once: a server on PostgreSQL can take a while to stop after SIGTERM.
        terminate_all(processes)


def run_replicas_scenario(start_server, start_worker, pg_url, tmp_path, request, processes: list) -> None:
    schema = schema_of(pg_url)
    env = {"ORCHESTRATOR_OWNERSHIP_TTL_MS": str(OWNERSHIP_TTL_MS)}
    replicas: dict[str, ServerProcess] = {}
    for rid in REPLICA_IDS:
        replicas[rid] = start_server(
            REPLICA_CONFIG, data_dir=tmp_path / f"replica-{rid}", name=f"replica {rid}", env=env,
            extra_args=["--database-url", pg_url, "--replica-id", rid],
        )
        processes.append(replicas[rid])
    workers = [start_worker(replicas[rid].url, concurrency=WORKER_CONCURRENCY, worker_id=f"{rid}-w{j}")
               for rid in REPLICA_IDS for j in range(1, WORKERS_PER_REPLICA + 1)]
    processes[:0] = workers  # SIGTERM first

    plans = replica_plans()
    decisions = [workload.decision(p) for p in plans]
    submitter = Submitter(replicas, decisions)
    started = time.monotonic()
    deadline = started + TIMEOUT_S

    victim = replicas[VICTIM]
    killed_at = restarted_at = db_restarted_at = None  # time.monotonic()
    killed_ms = restarted_ms = None  # epoch ms, to compare with the history
    db_restart_s = 0.0
    victim_active_at_kill: list[str] = []
    victim_active_before_restart: int | None = None
    owners_seen: Counter = Counter()
    last_owner_sample = 0.0
    terminal = active = 0
    kill_due = db_due = None  # when a fault became due
    lister = 0
    answered = {rid: time.monotonic() for rid in REPLICA_IDS}  # last answer of each running replica
    progress, progressed_at = (0, 0), time.monotonic()

    def moment() -> str:
        return (f"at {time.monotonic() - started:.0f}s, {terminal} of {PLANS} terminal, "
                f"{len(submitter.workflow_ids)} submitted; {VICTIM} {'killed' if killed_at else 'not killed yet'}"
                f"{', restarted' if restarted_at else ''}; database "
                f"{'restarted' if db_restarted_at else 'not restarted yet'}")

    while True:
        assert time.monotonic() < deadline, f"not every workflow terminal in time: {moment()}"
        # The next burst when it is due; the last one only once the database restart is due.
        burst = (not submitter.done and time.monotonic() >= started + submitter.bursts * BURST_INTERVAL_S
                 and (db_due is not None or not submitter.last_burst_next)
                 and any(server.running() for server in replicas.values()))
        if burst:
            submitter.burst(deadline, last_to=VICTIM if killed_at is None and terminal >= KILL_AT else None)

        # The faults, while work is in flight: the kill when r2 runs a few workflows (right after a burst,
        # which sends r2's decisions last), the database restart right after a burst.
        if killed_at is None and terminal >= KILL_AT:
            kill_due = kill_due or time.monotonic()
            rows = query(pg_url, f"SELECT workflow_id FROM {schema}.workflows WHERE owner = '{VICTIM}' "
                                 f"AND {ACTIVE_SQL}")
            victim_active_at_kill = [row[0] for row in rows or []]
            owned, waited = len(victim_active_at_kill), time.monotonic() - kill_due
            if owned >= VICTIM_ACTIVE_AT_KILL or (owned and waited > WAIT_FOR_BURST_S) or waited > 2 * WAIT_FOR_BURST_S:
                victim.kill9()
                killed_at, killed_ms = time.monotonic(), now_ms()
                print(f"\n{killed_at - started:.1f}s: {terminal} terminal; SIGKILLed {VICTIM} owning "
                      f"{len(victim_active_at_kill)} active workflows")
        elif killed_at is not None and restarted_at is None and time.monotonic() - killed_at >= DOWNTIME_S:
            rows = query(pg_url, f"SELECT count(*) FROM {schema}.workflows WHERE owner = '{VICTIM}' AND {ACTIVE_SQL}")
            victim_active_before_restart = int(rows[0][0]) if rows else None
            restarted_ms = now_ms()
            victim.start(wait_ready=True, timeout=60)
            restarted_at = answered[VICTIM] = time.monotonic()
            print(f"{restarted_at - started:.1f}s: restarted {VICTIM} after {restarted_at - killed_at:.1f}s down "
                  f"({victim_active_before_restart} active workflows still owned by it just before)")
        elif restarted_at is not None and db_restarted_at is None and terminal >= DB_RESTART_AT:
            db_due = db_due or time.monotonic()
            if (burst or active >= ACTIVE_AT_DB_RESTART or submitter.done
                    or time.monotonic() - db_due > WAIT_FOR_BURST_S):
                db_restart_s = postgres_restart(pg_url)
                db_restarted_at = time.monotonic()
                print(f"{db_restarted_at - started:.1f}s: {terminal} terminal, "
                      f"{len(submitter.workflow_ids) - terminal} active; database restarted ({db_restart_s:.1f}s)")
        elif db_restarted_at is not None and submitter.done and terminal == len(submitter.workflow_ids):
            break

        # Progress, read from a live replica (any one lists every workflow).
        live = [rid for rid in REPLICA_IDS if replicas[rid].running()]
        lister += 1
        try:
            ours = set(submitter.workflow_ids.values())
            r = Api(replicas[live[lister % len(live)]].url, timeout=5).get(
                "/api/v1/workflows", params={"limit": 1000}) if live else None
            if r is not None and r.status_code == 200:
                terminal = sum(1 for w in r.json()["workflows"]
                               if w["workflow_id"] in ours and w["status"] in TERMINAL_STATUSES)
                active = len(ours) - terminal
        except requests.RequestException:
            pass
        # Every running replica still answers a read of a workflow (which goes through its engine),
        # and the work goes on.
        for rid in live:
            wid = submitter.some_workflow.get(rid, "orch-replicas-liveness-probe")
            try:
                r = Api(replicas[rid].url, timeout=3).get(f"/api/v1/workflows/{wid}")
                if r.status_code in (200, 404):
                    answered[rid] = time.monotonic()
            except requests.RequestException:
                pass
            silent = time.monotonic() - answered[rid]
            assert silent < STUCK_S, f"replica {rid} has answered no workflow read for {silent:.0f}s: {moment()}"
        if (terminal, len(submitter.workflow_ids)) != progress:
            progress, progressed_at = (terminal, len(submitter.workflow_ids)), time.monotonic()
        assert time.monotonic() - progressed_at < STALL_S, (
            f"no workflow finished and no decision was accepted for {STALL_S}s: {moment()}")
        if time.monotonic() - last_owner_sample > 2:
            last_owner_sample = time.monotonic()
            for owner, count in query(pg_url, f"SELECT owner, count(*) FROM {schema}.workflows GROUP BY 1") or []:
                owners_seen[owner] = max(owners_seen[owner], int(count))
        time.sleep(0.2)
    finished_s = time.monotonic() - started
    print(f"{finished_s:.1f}s: all {terminal} workflows terminal")

    assert not submitter.errors, submitter.errors[:10]
    assert len(submitter.workflow_ids) == PLANS, f"only {len(submitter.workflow_ids)} of {PLANS} decisions accepted"
    # Every group of checks runs; the failure lists the problems of each.
    failures: dict[str, list[str]] = {}
    failures["processes"] = [f"replica {rid} exited (status {server.proc.returncode if server.proc else None})"
                             for rid, server in replicas.items() if not server.running()]
    failures["processes"] += [f"{w.name} exited" for w in workers if not w.running()]

    # The outbox drains (the relay deletes what it delivered).
    deadline = time.monotonic() + 30
    pending = None
    while time.monotonic() < deadline:
        rows = query(pg_url, f"SELECT count(*) FROM {schema}.outbox")
        pending = int(rows[0][0]) if rows else None
        if pending == 0:
            break
        time.sleep(0.5)
    failures["outbox drained"] = [] if pending == 0 else [f"{pending} messages still in {schema}.outbox 30 s after "
                                                          "the end"]

    # Every workflow, its tickets and its history, each read through another replica.
    apis = [Api(replicas[rid].url) for rid in REPLICA_IDS]
    views: dict[str, dict] = {}
    leases: dict[str, dict[str, list[LeaseSpan]]] = {}
    histories: dict[str, list[dict]] = {}
    problems = failures["workflows, tickets, completions"] = []
    lease_trouble = failures["leases (history)"] = []
    for k, (plan, decision) in enumerate(zip(plans, decisions)):
        wid = submitter.workflow_ids[decision["decision_id"]]
        view = apis[k % len(apis)].workflow(wid)
        views[wid] = view
        n = len(plan["tasks"])
        if view["status"] != "COMPLETED":
            problems.append(f"{wid}: {view['status']} ({view.get('reason')!r})")
        if len(view["tickets"]) != n or view["metrics"]["total"] != n or view["metrics"]["successful"] != n:
            problems.append(f"{wid}: {len(view['tickets'])} tickets for {n} tasks, metrics {view['metrics']}")
        by_plan = apis[(k + 1) % len(apis)].get(f"/api/v1/tickets/by-plan/{plan['plan_id']}", params={"limit": 100})
        if by_plan.status_code != 200:
            problems.append(f"{wid}: GET tickets by plan -> {by_plan.status_code} {by_plan.text[:200]}")
        else:
            tickets = by_plan.json()["tickets"]
            wrong = [(t["task_id"], t["status"]) for t in tickets if t["status"] != "COMPLETED"]
            if len(tickets) != n or wrong:
                problems.append(f"{wid}: tickets by plan: {len(tickets)} of {n}, not COMPLETED: {wrong}")
        history = apis[(k + 2) % len(apis)].history(wid)
        histories[wid] = history
        counts = completions_by_ticket(history)
        expected = {t["ticket_id"]: 1 for t in view["tickets"]}
        if counts != expected:
            problems.append(f"{wid}: completions per ticket {counts}, expected one each of {sorted(expected)}")
        trouble, leases[wid] = lease_problems(wid, history)
        lease_trouble += trouble
        for t in view["tickets"]:
            spans = leases[wid].get(t["ticket_id"], [])
            if spans and spans[-1].worker_id != t["worker_id"]:
                lease_trouble.append(f"{wid}: ticket {t['task_id']} completed by {t['worker_id']} but last leased "
                                     f"to {spans[-1].worker_id}")

    # The outbox files of all replicas, together.
    files = {rid: read_outbox(replicas[rid].outbox_dir) for rid in REPLICA_IDS}
    torn_tails = {(VICTIM, topic) for topic in OUTBOX_TOPICS
                  if (replicas[VICTIM].outbox_dir / f"{topic}.jsonl").is_file()
                  and not (replicas[VICTIM].outbox_dir / f"{topic}.jsonl").read_bytes().endswith(b"\n")}
    failures["outbox files"], outbox_counts = outbox_union_problems(files, views, leases, torn_tails)
    if failures["outbox files"]:
        failures["outbox files"].append("; ".join(f"{rid}: {outbox_summary(f)}" for rid, f in files.items()))

    # Ownership: several replicas owned workflows; r2's were taken over while it was down.
    for owner, count in query(pg_url, f"SELECT owner, count(*) FROM {schema}.workflows GROUP BY 1") or []:
        owners_seen[owner] = max(owners_seen[owner], int(count))
    owners = {o for o in owners_seen if o}
    final_owners = query(pg_url, f"SELECT count(DISTINCT owner) FROM {schema}.workflows")
    moved = [wid for wid in victim_active_at_kill
             if any(killed_ms < e["at"] < restarted_ms for e in histories.get(wid, []))]
    ownership = failures["ownership and takeover"] = []
    if not owners <= set(REPLICA_IDS):
        ownership.append(f"owners other than the replica ids: {dict(owners_seen)}")
    if len(owners) < 2:
        ownership.append(f"workflows owned by {dict(owners_seen)}: expected several replicas")
    if not victim_active_at_kill:
        ownership.append(f"{VICTIM} owned no active workflow when it was killed: nothing to take over")
    elif not moved:
        ownership.append(f"none of the {len(victim_active_at_kill)} workflows of {VICTIM} progressed while it was down")
    if victim_active_before_restart != 0:
        ownership.append(f"{victim_active_before_restart} active workflows still owned by {VICTIM} after "
                         f"{DOWNTIME_S:.0f}s down (ownership TTL {OWNERSHIP_TTL_MS} ms)")

    all_spans = [s for per_ticket in leases.values() for spans in per_ticket.values() for s in spans]
    tickets_total = sum(len(v["tickets"]) for v in views.values())
    summary = (
        f"replicas: {PLANS} workflows / {tickets_total} tickets terminal in {finished_s:.0f}s on {len(REPLICA_IDS)} "
        f"replicas (accepted {dict(submitter.accepted_by)}, {submitter.redirected} redirected); {VICTIM} SIGKILLed "
        f"at {killed_at - started:.0f}s owning {len(victim_active_at_kill)} active workflows ({len(moved)} progressed "
        f"while it was down), back after {restarted_at - killed_at:.0f}s; database restarted at "
        f"{db_restarted_at - started:.0f}s ({db_restart_s:.1f}s); {len(all_spans)} leases, "
        f"{sum(s.end == 'expired' for s in all_spans)} expired; outbox {outbox_counts['messages']} messages "
        f"({outbox_counts['copies']} copies relayed again, {outbox_counts['torn_lines']} torn lines); "
        f"owners seen {dict(owners_seen)}, {final_owners[0][0] if final_owners else '?'} distinct at the end"
    )
    print(summary)
    note(request.config, summary)
    failed = {group: found for group, found in failures.items() if found}
    assert not failed, "\n".join(
        f"{group}: {len(found)} problem(s), e.g.:\n  " + "\n  ".join(found[:15]) for group, found in failed.items()
    ) + f"\n({summary})"


# --- the checks themselves, on hand-made histories ------------------------------------------------


from harness import completed_entry as _completed, history_entry as _entry, leased_entry as _leased  # noqa: E402


def test_lease_check_accepts_a_correct_history():
    history = [
        _leased(2, 1000, "A", "w1"),
        _entry(3, 1400, "heartbeat", ticketId="A", leaseEpoch=1, expiresAt=2900),
        _entry(4, 2900, "leaseExpired", ticketId="A", leaseEpoch=1),
        _entry(5, 3000, "retryDue", ticketId="A", retryCount=1),
        _leased(6, 3000, "A", "w2"),
        _completed(7, 3050, "A", 2, "w2"),
        _leased(8, 3060, "B", "w1"),
        _entry(9, 3100, "failed", ticketId="B", leaseEpoch=1, error="x", retryable=True, result=None),
        _leased(10, 3300, "B", "w1"),
        _completed(11, 3350, "B", 2, "w1"),
    ]
    problems, spans = lease_problems("wf", history)
    assert problems == []
    assert [(s.epoch, s.worker_id, s.end) for s in spans["A"]] == [(1, "w1", "expired"), (2, "w2", "completed")]
    assert completions_by_ticket(history) == {"A": 1, "B": 1}


def test_lease_check_detects_overlapping_leases_and_stale_tokens():
    # Two replicas leasing the same ticket to two workers: the second lease while the first runs.
    problems, _ = lease_problems("wf", [_leased(2, 1000, "A", "w1"), _leased(3, 1200, "A", "w2"),
                                        _completed(4, 1300, "A", 2, "w2")])
    assert any("never ended" in p for p in problems) and any("before lease 1 of w1 was over" in p for p in problems)
    # A lease declared expired early, then given to another worker: overlap of the two holders.
    problems, _ = lease_problems("wf", [_leased(2, 1000, "A", "w1"), _entry(3, 1100, "leaseExpired", ticketId="A",
                                                                            leaseEpoch=1),
                                        _leased(4, 1200, "A", "w2")])
    assert any("declared expired 1400 ms before" in p for p in problems)
    assert any("before lease 1 of w1 was over" in p for p in problems)
    # A completion under an old token (a stale replica accepted it), and one by a worker not holding the lease.
    problems, _ = lease_problems("wf", [_leased(2, 1000, "A", "w1"), _entry(3, 2500, "leaseExpired", ticketId="A",
                                                                            leaseEpoch=1),
                                        _leased(4, 2600, "A", "w2"), _completed(5, 2700, "A", 1, "w1")])
    assert any("under token 1, but the current lease is epoch 2 of w2" in p for p in problems)
    assert any("completed by w1, but lease 2 is w2's" in p for p in problems)
    # A second completion of a completed ticket.
    history = [_leased(2, 1000, "A", "w1"), _completed(3, 1100, "A", 1, "w1"), _completed(4, 1200, "A", 1, "w1")]
    problems, _ = lease_problems("wf", history)
    assert any("no lease is active" in p for p in problems)
    assert completions_by_ticket(history) == {"A": 2}


def test_outbox_check_detects_missing_and_duplicated_messages():
    def message(seq, topic, value):
        return {"sequence": seq, "topic": topic, "key": "k", "headers": {}, "value": value}

    def files(tickets, flow, frames):
        return {"execution.tickets": OutboxFile("execution.tickets", tickets, []),
                "telemetry-flow-c": OutboxFile("telemetry-flow-c", flow, []),
                "telemetry.orchestration": OutboxFile("telemetry.orchestration", frames, []),
                "orchestration.incidents": OutboxFile("orchestration.incidents", [], [])}

    view = {"wf": {"tickets": [{"ticket_id": "A", "task_id": "a", "worker_id": "w1"}]}}
    spans = {"wf": {"A": [LeaseSpan("A", 1, "w1", 1000, 2500, 2, 1100, "completed")]}}
    released = message(1, "execution.tickets", {"ticket_id": "A", "status": "PENDING"})
    assigned = message(2, "telemetry-flow-c", {"event_type": "TICKET_ASSIGNED", "ticket_id": "A", "worker_id": "w1",
                                               "metadata": {"lease_epoch": 1}})
    done = message(3, "telemetry-flow-c", {"event_type": "TICKET_COMPLETED", "ticket_id": "A"})
    flow_done = message(4, "telemetry-flow-c", {"event_type": "FLOW_C_COMPLETED", "workflow_id": "wf",
                                                "status": "COMPLETED"})
    frame = message(5, "telemetry.orchestration", {"workflow_id": "wf", "status": "COMPLETED",
                                                   "metrics": {"successful": 1}})
    # Complete, split over two replicas, with one message relayed by both and one twice by r2, and the
    # torn last line of the killed r2: fine.
    good = {"r1": files([released], [assigned, done], []), "r2": files([], [done, flow_done, flow_done], [frame])}
    good["r2"]["telemetry-flow-c"].bad_lines.append((4, '{"sequence":7,"top'))
    problems, counts = outbox_union_problems(good, view, spans, {("r2", "telemetry-flow-c")})
    assert problems == [] and counts["copies"] == 2 and counts["torn_lines"] == 1
    # The same torn line elsewhere than at the end of a killed replica's file: a problem.
    problems, _ = outbox_union_problems(good, view, spans)
    assert any("unreadable lines" in p for p in problems)
    # The final frame missing, TICKET_COMPLETED emitted twice (two sequences), a lease not announced.
    done_again = message(6, "telemetry-flow-c", {"event_type": "TICKET_COMPLETED", "ticket_id": "A"})
    bad = {"r1": files([released], [done, done_again, flow_done], [])}
    problems, _ = outbox_union_problems(bad, view, spans)
    assert any("0 final frames" in p for p in problems)
    assert any("2 TICKET_COMPLETED" in p for p in problems)
    assert any("TICKET_ASSIGNED" in p for p in problems)
    # The same sequence with different contents in two replicas' files.
    other = message(3, "telemetry-flow-c", {"event_type": "TICKET_COMPLETED", "ticket_id": "B"})
    problems, _ = outbox_union_problems({"r1": files([released], [assigned, done, flow_done], [frame]),
                                         "r3": files([], [other], [])}, view, spans)
    assert any("relayed twice with different contents" in p for p in problems)
