"""Broker outage: Tansu is stopped while workflows are in flight and restarted empty (in-memory);
the orchestrator keeps serving, keeps what it must publish in its outbox, reports the Kafka sink
not ready, and delivers everything once the broker is back."""

from __future__ import annotations

import sqlite3
import time

import pytest

from kafka_harness import variant
from test_kafka_flow import TERMINAL

WORKFLOWS_BEFORE = 10
WORKFLOWS_DURING = 10
# One workflow submitted during the outage whose TEST ticket the peer fails on every attempt: it ends
# FAILED with a WORKER_FAILURE incident, so the incidents checked after the outage are real data (every
# other workflow completes and raises none, so without it the incident check compared [] with []).
FAILING_SUFFIX = f"{200:012d}"


def outbox_count(server) -> int:
    with sqlite3.connect(f"file:{server.data_dir / 'orchestrator.sqlite'}?mode=ro", uri=True, timeout=5) as db:
        return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


def answer_new(peer, answered, failing_plan_id=None):
    """Publishes a result for each (ticket, attempt) not answered yet: FAILED for the TEST ticket of
    `failing_plan_id`, COMPLETED for every other one; returns how many."""
    count = 0
    for entry in peer.received["execution.tickets"]:
        ticket = entry["value"]
        attempt = (ticket["ticket_id"], ticket["retry_count"])
        if attempt not in answered:
            answered.add(attempt)
            if ticket["plan_id"] == failing_plan_id and ticket["task_type"] == "TEST":
                peer.publish_result(ticket, "FAILED", "injected failure")
            else:
                peer.publish_result(ticket, "COMPLETED")
            count += 1
    return count


def quiesce(peer, server, seconds=3.0, timeout=60.0):
    """Reads until the outbox is empty and nothing new arrived for `seconds`."""
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if peer.poll(0.5):
            quiet_since = time.monotonic()
        elif outbox_count(server) == 0 and time.monotonic() - quiet_since >= seconds:
            return
    raise AssertionError("the orchestrator did not go quiet")


@pytest.mark.outage
def test_broker_outage_loses_nothing_and_every_workflow_finishes(stack):
    tansu, server, peer, api = stack("json")
    workflows = []
    for i in range(WORKFLOWS_BEFORE):
        decision, plan = variant(f"{100 + i:012d}", embed_plan=True, fmt="json")
        peer.publish_decision(decision)
        workflows.append("orch-" + plan["plan_id"])
    answered: set = set()
    # Run a little: answer the first tickets, so that the workflows are mid-way.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(answered) < WORKFLOWS_BEFORE * 2:
        peer.poll(0.5)
        answer_new(peer, answered)
    assert len(answered) >= WORKFLOWS_BEFORE * 2, f"only {len(answered)} tickets answered before the outage"
    # The peer stops answering; once it has read everything published so far, the broker goes down.
    quiesce(peer, server)
    running_before = [w for w in workflows if api.workflow(w)["status"] == "RUNNING"]
    assert running_before, "some workflows are in flight when the broker goes down"
    tansu.terminate()

    # During the outage: ten more decisions over HTTP. The service stays up; the outbox grows;
    # /ready says why.
    failing_plan_id = failing_workflow = None
    for i in range(WORKFLOWS_DURING):
        decision, plan = variant(f"{200 + i:012d}", embed_plan=True, fmt="json")
        assert api.submit_decision(decision).status_code in (200, 201, 202)
        workflows.append("orch-" + plan["plan_id"])
        if f"{200 + i:012d}" == FAILING_SUFFIX:
            failing_plan_id, failing_workflow = plan["plan_id"], "orch-" + plan["plan_id"]
    assert failing_workflow is not None
    assert api.get("/health").status_code == 200
    grew = False
    not_ready = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (grew and not_ready):
        grew = grew or outbox_count(server) >= WORKFLOWS_DURING
        r = api.get("/ready")
        if r.status_code == 503 and r.json()["checks"].get("kafka", "").startswith("error"):
            not_ready = r.json()
        time.sleep(0.5)
    assert grew, f"outbox holds {outbox_count(server)} messages during the outage"
    assert not_ready is not None, "the Kafka sink was reported ready while the broker was down"
    assert server.running()
    held = outbox_count(server)

    # The broker comes back empty (in-memory): topics again, then everything flows.
    tansu.start()
    tansu.create_topics()
    deadline = time.monotonic() + 180
    states = {}
    while time.monotonic() < deadline:
        peer.poll(0.5)
        answer_new(peer, answered, failing_plan_id)
        states = {w: api.workflow(w)["status"] for w in workflows}
        if all(s in TERMINAL for s in states.values()):
            break
    expected_states = {w: "FAILED" if w == failing_workflow else "COMPLETED" for w in workflows}
    assert states == expected_states, {w: s for w, s in states.items() if s != expected_states[w]}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        peer.poll(0.5)
        frames = {e["value"]["workflow_id"] for e in peer.received["telemetry.orchestration"]}
        if frames >= set(workflows) and outbox_count(server) == 0:
            break
    assert outbox_count(server) == 0
    assert api.get("/ready").status_code == 200

    # Every message that should exist arrived. The idempotent producer prevents duplicates within
    # one producer session, but a batch that timed out while the broker was down is published again
    # by the relay, so repeats are possible: dedupe by the outbox sequence header (one outbox row =
    # one message) and check the distinct set against the API.
    sequences = {}
    for topic, entries in peer.received.items():
        for entry in entries:
            sequences.setdefault(int(entry["headers"]["outbox-sequence"]), (topic, entry))
    tickets = {(e["value"]["ticket_id"], e["value"]["retry_count"]) for t, e in sequences.values()
               if t == "execution.tickets"}
    # Every attempt of every released ticket: a retried ticket is published once per attempt
    # (retry_count 0..final); a skipped one (after the failing workflow's TEST) is never released.
    expected_tickets = set()
    for workflow in workflows:
        for ticket in api.workflow(workflow)["tickets"]:
            if ticket["phase"] != "SKIPPED":
                expected_tickets.update((ticket["ticket_id"], k) for k in range(ticket["retry_count"] + 1))
    assert tickets == expected_tickets, (len(tickets), len(expected_tickets))
    frames = [e["value"] for t, e in sequences.values() if t == "telemetry.orchestration"]
    assert sorted(f["workflow_id"] for f in frames) == sorted(workflows)
    finished = {e["value"]["workflow_id"] for t, e in sequences.values()
                if t == "telemetry-flow-c" and e["value"]["event_type"] == "FLOW_C_COMPLETED"}
    assert finished == set(workflows)
    incidents = [e for t, e in sequences.values() if t == "orchestration.incidents"]
    api_incidents = api.get("/api/v1/incidents", params={"limit": 1000}).json()["incidents"]
    # Real data on both sides: the failing workflow's WORKER_FAILURE was recorded and published.
    worker_failures = [i for i in api_incidents if i["incident_type"] == "WORKER_FAILURE"]
    assert [i["workflow_id"] for i in worker_failures] == [failing_workflow], api_incidents
    assert api_incidents, "no incident recorded: the comparison below would be vacuous"
    assert sorted(e["value"]["incident_id"] for e in incidents) == sorted(i["incident_id"] for i in api_incidents)
    print(f"outage: {held} messages held in the outbox at the peak check; {len(sequences)} distinct messages; "
          f"{sum(len(v) for v in peer.received.values()) - len(sequences)} repeats dropped by outbox-sequence")
