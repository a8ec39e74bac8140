"""The local stack end to end (issue 14, "Stack test"): `scripts/stack.sh up` (PostgreSQL, Tansu,
Prometheus, replicas r1 and r2, workers w1 -> r1 and w2 -> r2) in a temporary STACK_DIR, then:

- `orchestrator-dynamic doctor` passes against each replica (with the admin token file);
- 20 decisions in the hive-mind's JSON format (examples/decision.json under new ids) produced on
  `plans.consensus` all end COMPLETED (read over REST, workflow id `orch-<plan_id>`), while a replica
  (r2, or r1 when the group gave r1 every partition) is killed with SIGKILL once it runs some of
  them: the other takes them over (ownership TTL 1.5 s, lease TTL 3 s in this stack) and its worker
  finishes them;
- `doctor` against the killed replica fails (non-zero exit) with a FAIL line saying why, and still
  passes against the survivor;
- `stack.sh down` leaves no process behind: every recorded PID is gone, and no process has the
  STACK_DIR in its command line.

Run with the Kafka venv's python: ORCHESTRATOR_BINARY (else `swift build --show-bin-path`),
RDKAFKA_LIB_DIR (else .rdkafka) as for Tests/Kafka; scripts/test.sh does.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import subprocess
import time
import uuid

import requests
from confluent_kafka import Producer

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DECISIONS = 20
KILL_AFTER = 10  # decisions produced before a replica is killed (the rest after)
TERMINAL = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "REJECTED"}
COMPLETION_TIMEOUT_S = 240


# --- helpers -------------------------------------------------------------------------------------


def admin_session(stack) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + pathlib.Path(stack["ADMIN_TOKEN_FILE"]).read_text().strip()
    return session


def doctor(stack, url: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """`orchestrator-dynamic doctor` against one replica, with the admin token file and the broker."""
    env = {**os.environ, "LD_LIBRARY_PATH": stack["RDKAFKA_LIB_DIR"]}
    env.pop("ORCHESTRATOR_TOKEN", None)
    argv = [stack["BINARY"], "doctor", "--url", url, "--token-file", stack["ADMIN_TOKEN_FILE"],
            "--kafka-bootstrap", stack["KAFKA_BOOTSTRAP"], "--timeout", "60"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def describe(done: subprocess.CompletedProcess) -> str:
    return f"exit {done.returncode}\n--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}"


def psql(stack, sql: str) -> list[list[str]]:
    done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                           "-d", stack["DATABASE_URL"], "-c", sql], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"psql {sql!r}: {done.stderr}"
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def decisions(run: str) -> list[dict]:
    """examples/decision.json under new ids: decision `stack-<run>-NN`, a new plan (embedded) and intent."""
    example = json.loads((REPO_ROOT / "examples" / "decision.json").read_text())
    out = []
    for k in range(DECISIONS):
        plan = json.loads(example["cognitive_plan"])
        plan_id, intent_id = str(uuid.uuid4()), str(uuid.uuid4())
        correlation = f"stack-{run}-{k:02d}"
        plan.update(plan_id=plan_id, intent_id=intent_id, correlation_id=correlation)
        decision = json.loads(json.dumps(example))
        decision.update(decision_id=f"decision-stack-{run}-{k:02d}", plan_id=plan_id, intent_id=intent_id,
                        correlation_id=correlation, cognitive_plan=json.dumps(plan))
        out.append(decision)
    return out


def produce(bootstrap: str, batch: list[dict]) -> None:
    """Publishes the decisions on plans.consensus (key = plan_id, JSON) and waits for every ack."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                         "message.timeout.ms": 20000, "log_level": 3})
    failures: list[str] = []

    def report(error, message):
        if error is not None:
            failures.append(f"{message.key()}: {error}")

    for decision in batch:
        producer.produce("plans.consensus", key=decision["plan_id"].encode(), value=json.dumps(decision).encode(),
                         on_delivery=report)
    left = producer.flush(30)
    assert not left and not failures, f"publishing decisions: {left} undelivered, failures {failures}"


def statuses(session: requests.Session, url: str, workflow_ids: list[str]) -> dict[str, str]:
    out = {}
    for workflow_id in workflow_ids:
        try:
            r = session.get(f"{url}/api/v1/workflows/{workflow_id}", timeout=10)
        except requests.RequestException as error:
            out[workflow_id] = f"error {type(error).__name__}"
            continue
        out[workflow_id] = r.json().get("status", "?") if r.status_code == 200 else f"HTTP {r.status_code}"
    return out


def process_gone(pid: int) -> bool:
    """No such process, or a zombie (killed, not yet reaped by whoever adopted it)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


# --- the test ------------------------------------------------------------------------------------


def test_stack_up_doctor_decisions_with_a_replica_killed_and_down(stack):
    timings = {"up": round(stack.up_seconds or 0, 1)}
    r1, r2 = stack["R1_URL"], stack["R2_URL"]
    session = admin_session(stack)
    pids = stack.recorded_pids()
    assert set(pids) == {"postgres", "tansu", "r1", "r2", "prometheus", "w1", "w2"}, pids
    status = stack.run("status", timeout=60)
    assert status.returncode == 0, describe(status)

    # Every replica ready, both scraped by Prometheus (the generated scrape config).
    for url in (r1, r2):
        assert requests.get(f"{url}/ready", timeout=5).status_code == 200
    deadline = time.monotonic() + 30
    up = {}
    while time.monotonic() < deadline:
        body = requests.get(f"{stack['PROMETHEUS_URL']}/api/v1/query", params={"query": 'up{job="orchestrator-dynamic"}'},
                            timeout=5).json()
        up = {s["metric"].get("replica"): s["value"][1] for s in body["data"]["result"]}
        if up == {"r1": "1", "r2": "1"}:
            break
        time.sleep(0.5)
    assert up == {"r1": "1", "r2": "1"}, f"Prometheus does not scrape both replicas: {up}"

    # doctor passes against each replica.
    began = time.monotonic()
    for url in (r1, r2):
        done = doctor(stack, url)
        assert done.returncode == 0, f"doctor --url {url}: {describe(done)}"
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        assert any(line.startswith("PASS ") for line in lines), f"doctor --url {url} printed no PASS line: {describe(done)}"
        assert not [line for line in lines if line.startswith("FAIL ")], describe(done)
    timings["doctor x2"] = round(time.monotonic() - began, 1)

    # 20 decisions over Kafka; a replica is killed once it runs some of the first ten.
    run = uuid.uuid4().hex[:8]
    batch = decisions(run)
    workflow_ids = ["orch-" + d["plan_id"] for d in batch]
    began = time.monotonic()
    produce(stack["KAFKA_BOOTSTRAP"], batch[:KILL_AFTER])
    first = workflow_ids[:KILL_AFTER]
    active = "status NOT IN (" + ", ".join(f"'{s}'" for s in sorted(TERMINAL)) + ")"
    in_list = ", ".join(f"'{w}'" for w in first)
    # The moment: a replica runs at least 3 of them, or (fewer on its partitions) it has run at least
    # one for a second (a workflow takes about 2.5 s at this simulation scale). That replica is killed:
    # usually r2 and r1 share the partitions, but a group that has not rebalanced yet may give r1 all
    # of them, and then r1 is the one to kill.
    victims: list[str] = []
    rows: list[list[str]] = []
    first_seen: dict[str, float] = {}
    victim = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not victim:
        rows = psql(stack, f"SELECT workflow_id, owner, {active} FROM workflows WHERE workflow_id IN ({in_list})")
        for replica in ("r2", "r1"):
            running = [w for w, owner, live in rows if owner == replica and live == "t"]
            if running:
                first_seen.setdefault(replica, time.monotonic())
            if len(running) >= 3 or (running and time.monotonic() - first_seen[replica] >= 1.0):
                victim, victims = replica, running
                break
        time.sleep(0.05)
    print(f"at the kill of {victim or '(none)'}: {sorted((owner, live) for _, owner, live in rows)}")
    assert victim, (f"no replica ran one of the first {KILL_AFTER} decisions' workflows: "
                    f"{statuses(session, r1, first)}; owners "
                    f"{psql(stack, f'SELECT workflow_id, owner, status FROM workflows WHERE workflow_id IN ({in_list})')}")
    survivor = "r1" if victim == "r2" else "r2"
    victim_url, survivor_url = (r2, r1) if victim == "r2" else (r1, r2)
    os.kill(pids[victim], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not process_gone(pids[victim]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(pids[victim]), f"{victim} still runs after SIGKILL"
    killed_at = time.monotonic()
    produce(stack["KAFKA_BOOTSTRAP"], batch[KILL_AFTER:])

    # Every workflow COMPLETED, read from the survivor (it answers for every workflow).
    states: dict[str, str] = {}
    deadline = time.monotonic() + COMPLETION_TIMEOUT_S
    while time.monotonic() < deadline:
        states = statuses(session, survivor_url, workflow_ids)
        if all(s in TERMINAL for s in states.values()):
            break
        time.sleep(0.5)
    timings["20 decisions (kill included)"] = round(time.monotonic() - began, 1)
    timings["after the kill"] = round(time.monotonic() - killed_at, 1)
    assert all(s == "COMPLETED" for s in states.values()), (
        f"not every workflow COMPLETED within {COMPLETION_TIMEOUT_S} s: "
        f"{ {w: s for w, s in states.items() if s != 'COMPLETED'} }")
    # The workflows the victim ran when it died were taken over (by the survivor, the only replica left).
    owners = dict(psql(stack, "SELECT workflow_id, coalesce(owner, '') FROM workflows WHERE workflow_id IN ("
                              + ", ".join(f"'{w}'" for w in victims) + ")"))
    assert all(owners.get(w) != victim for w in victims), f"{victim}'s workflows still owned by it: {owners}"
    replicas = session.get(f"{survivor_url}/api/v1/replicas", timeout=10).json()["replicas"]
    assert {r["replica_id"]: r["alive"] for r in replicas}.get(victim) is False, replicas

    # status names the dead replica; doctor against it fails, saying why.
    status = stack.run("status", timeout=60)
    assert status.returncode != 0, describe(status)
    assert re.search(rf"^{victim}\s+NOT RUNNING", status.stdout, re.M), describe(status)
    done = doctor(stack, victim_url, timeout=120)
    assert done.returncode != 0, f"doctor against the killed {victim} passed: {describe(done)}"
    output = done.stdout + done.stderr
    fails = [line for line in output.splitlines() if line.startswith("FAIL ")]
    assert fails, f"doctor against the killed {victim} printed no FAIL line: {describe(done)}"
    assert re.search(r"refused|connect|unreachable|not reachable|no answer", "\n".join(fails), re.I), (
        f"doctor's FAIL lines do not say why (connection refused): {describe(done)}")
    # The survivor still passes.
    done = doctor(stack, survivor_url)
    assert done.returncode == 0, f"doctor --url {survivor_url} after the kill: {describe(done)}"

    # down stops everything up started, and nothing is left.
    cluster = pathlib.Path((stack.dir / "run" / "postgres.dir").read_text().strip())
    done = stack.down()
    timings["down"] = round(stack.down_seconds or 0, 1)
    assert done.returncode == 0, describe(done)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(process_gone(pid) for pid in pids.values()):
        time.sleep(0.1)
    left = {name: pid for name, pid in pids.items() if not process_gone(pid)}
    assert not left, f"still running after stack.sh down: {left}"
    leftovers = processes_mentioning(str(stack.dir)) + processes_mentioning(str(cluster))
    assert not leftovers, f"processes with {stack.dir} or {cluster} in their command line after down: {leftovers}"
    assert not cluster.exists(), f"the PostgreSQL cluster directory {cluster} is still there"
    status = stack.run("status", timeout=60)
    assert status.returncode != 0, describe(status)
    print(f"stack test: {len(victims)} of {victim}'s workflows taken over by {survivor}; timings (s): {timings}")
