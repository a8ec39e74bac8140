"""End to end over Kafka (Tansu), JSON and Avro: decisions and plans in, tickets out, results in,
incidents and telemetry out; every field checked against the hive-mind's contract schemas."""

from __future__ import annotations

import time

import pytest

from kafka_harness import example_decision, variant
from kafka_harness import TRACEPARENT, check_ticket, json_matches_schema

# The terminal statuses of a workflow (WorkflowStatus.isTerminal); only used to stop waiting: every
# test asserts the one status its scenario must end in.
TERMINAL = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "REJECTED"}


def drive(peer, api, decide, workflow_ids, timeout=120.0):
    """Answers every (ticket, attempt) once with `decide(ticket)` until every workflow is terminal;
    returns their final states."""
    answered = set()
    states = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in peer.poll(0.5):
            if entry["topic"] != "execution.tickets":
                continue
            ticket = entry["value"]
            attempt = (ticket["ticket_id"], ticket["retry_count"])
            if attempt in answered:
                continue
            answered.add(attempt)
            status = decide(ticket)
            peer.publish_result(ticket, status, None if status == "COMPLETED" else "injected failure")
        for workflow_id in workflow_ids:
            r = api.get(f"/api/v1/workflows/{workflow_id}")
            if r.status_code == 200:
                states[workflow_id] = r.json()
        if len(states) == len(workflow_ids) and all(s["status"] in TERMINAL for s in states.values()):
            return states
    raise AssertionError(f"workflows not terminal within {timeout}s: "
                         f"{ {k: v['status'] for k, v in states.items()} }; peer errors {peer.errors[-5:]}")


def unique(entries, key):
    seen = {}
    for entry in entries:
        seen.setdefault(key(entry), entry)
    return list(seen.values())


@pytest.mark.parametrize("fmt", ["json", "avro"])
def test_decisions_plans_tickets_results_incidents_telemetry(stack, fmt):
    tansu, server, peer, api = stack(fmt)
    # Workflow A: the example decision (plan embedded), every ticket completes.
    decision_a = example_decision()
    if fmt == "avro":
        decision_a, _ = variant("000000000001", embed_plan=True, fmt=fmt)
        decision_a["decision_id"] = example_decision()["decision_id"]
    workflow_a = "orch-" + decision_a["plan_id"]
    peer.publish_decision(decision_a)
    # Workflow B: the plan first on plans.ready, its decision later; its TEST task always fails.
    decision_b, plan_b = variant("000000000002", embed_plan=False, fmt=fmt)
    workflow_b = "orch-" + plan_b["plan_id"]
    peer.publish_plan(plan_b)
    time.sleep(1.0)
    peer.publish_decision(decision_b)

    def decide(ticket):
        if ticket["plan_id"] == plan_b["plan_id"] and ticket["task_type"] == "TEST":
            return "FAILED"
        return "COMPLETED"

    states = drive(peer, api, decide, [workflow_a, workflow_b])
    assert states[workflow_a]["status"] == "COMPLETED", states[workflow_a]
    # B is the chain VALIDATE -> BUILD -> TEST -> DEPLOY whose TEST fails on every attempt: TEST ends
    # FAILED, DEPLOY is skipped, VALIDATE and BUILD are compensated (the peer completes the
    # compensation tickets), so nothing is kept and the workflow is FAILED (not PARTIAL).
    assert states[workflow_b]["status"] == "FAILED", (states[workflow_b]["status"], states[workflow_b].get("reason"))
    b_tickets = {t["task_type"]: t for t in states[workflow_b]["tickets"] if t["task_type"] != "COMPENSATE"}
    assert b_tickets["TEST"]["status"] == "FAILED", b_tickets["TEST"]
    assert b_tickets["DEPLOY"]["phase"] == "SKIPPED", b_tickets["DEPLOY"]
    assert b_tickets["VALIDATE"]["status"] == "COMPENSATED", b_tickets["VALIDATE"]
    assert b_tickets["BUILD"]["status"] == "COMPENSATED", b_tickets["BUILD"]

    # Collect what is still in flight (final frames, last events).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        peer.poll(0.5)
        frames = {e["value"]["workflow_id"] for e in peer.received["telemetry.orchestration"]}
        if {workflow_a, workflow_b} <= frames and peer.received["orchestration.incidents"]:
            break

    # Tickets: every field against the contract, key = plan_id, traceparent header.
    tickets = peer.received["execution.tickets"]
    problems = {e["value"]["ticket_id"]: check_ticket(e, fmt) for e in tickets}
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}
    ids_a = {e["value"]["ticket_id"] for e in tickets if e["value"]["plan_id"] == decision_a["plan_id"]}
    assert len(ids_a) == 4
    by_task = {e["value"]["task_type"] for e in tickets if e["value"]["plan_id"] == decision_a["plan_id"]}
    assert by_task == {"VALIDATE", "BUILD", "TEST", "DEPLOY"}
    retries_b = [e["value"]["retry_count"] for e in tickets
                 if e["value"]["plan_id"] == plan_b["plan_id"] and e["value"]["task_type"] == "TEST"]
    assert max(retries_b) >= 1, "the failed TEST ticket was retried (published again)"
    for e in tickets:
        assert e["value"]["decision_id"] in (decision_a["decision_id"], decision_b["decision_id"])
        assert e["value"]["priority"] in ("LOW", "NORMAL", "HIGH", "CRITICAL")
    # The API agrees with what came over the bus.
    api_a = {t["ticket_id"]: t for t in states[workflow_a]["tickets"]}
    assert set(api_a) == ids_a
    assert all(t["status"] == "COMPLETED" for t in api_a.values())

    # Incidents: B's worker failure, every field against the contract, key = incident_id.
    incidents = unique(peer.received["orchestration.incidents"], lambda e: e["value"]["incident_id"])
    assert incidents, "no incident published"
    for entry in incidents:
        assert not json_matches_schema(entry["value"], "orchestration-incident.avsc"), entry["value"]
        assert entry["key"] == entry["value"]["incident_id"]
        assert TRACEPARENT.match(entry["headers"].get("traceparent") or "")
    failures = [e["value"] for e in incidents if e["value"]["incident_type"] == "WORKER_FAILURE"]
    assert [i["workflow_id"] for i in failures] == [workflow_b]
    assert failures[0]["recommended_playbook"] == "worker_failure_recovery"
    api_incidents = api.get("/api/v1/incidents", params={"workflow_id": workflow_b}).json()["incidents"]
    assert failures[0]["incident_id"] in {i["incident_id"] for i in api_incidents}

    # Final frames: one per workflow, key = workflow_id, the documented top-level fields.
    frames = unique(peer.received["telemetry.orchestration"], lambda e: e["value"]["workflow_id"])
    assert {f["value"]["workflow_id"] for f in frames} == {workflow_a, workflow_b}
    for entry in frames:
        frame = entry["value"]
        assert entry["key"] == frame["workflow_id"]
        for field in ("correlation_id", "trace_id", "intent_id", "plan_id", "decision_id", "ticket_ids",
                      "metrics", "timestamp"):
            assert field in frame, (field, frame)
        assert frame["source"] == "orchestrator-dynamic"
        for field in ("total", "successful", "failed", "compensated", "retries", "sla_violations", "duration_ms"):
            assert isinstance(frame["metrics"][field], int), (field, frame["metrics"])
    frame_a = next(f["value"] for f in frames if f["value"]["workflow_id"] == workflow_a)
    assert frame_a["metrics"]["total"] == 4 and frame_a["metrics"]["successful"] == 4
    assert sorted(frame_a["ticket_ids"]) == sorted(ids_a)

    # Step events: every one against the contract, key = workflow_id; A started and completed.
    events = peer.received["telemetry-flow-c"]
    assert events
    for entry in events:
        assert not json_matches_schema(entry["value"], "flow-c-telemetry.avsc"), entry["value"]
        assert entry["key"] == entry["value"]["workflow_id"]
    kinds_a = {e["value"]["event_type"] for e in events if e["value"]["workflow_id"] == workflow_a}
    assert {"FLOW_C_STARTED", "TICKET_COMPLETED", "FLOW_C_COMPLETED"} <= kinds_a
    assert api.get("/api/v1/dead-letters").json()["count"] == 0
    ready = api.get("/ready").json()
    assert ready["checks"]["kafka"] == "ok", ready


@pytest.mark.parametrize("fmt", ["json", "avro"])
def test_malformed_messages_become_dead_letters_and_consumption_goes_on(stack, fmt):
    tansu, server, peer, api = stack(fmt)
    peer.publish("plans.consensus", "broken", b"{not a decision")
    peer.publish("execution.results", "nobody", b"\x00\x01garbage")
    unknown_ticket = {"ticket_id": "no-such-ticket", "retry_count": 0}
    peer.publish_result(unknown_ticket, "COMPLETED")
    decision, plan = variant("000000000003", embed_plan=True, fmt=fmt)
    peer.publish_decision(decision)
    workflow = "orch-" + plan["plan_id"]
    deadline = time.monotonic() + 60
    letters = []
    while time.monotonic() < deadline:
        letters = api.get("/api/v1/dead-letters").json()["dead_letters"]
        r = api.get(f"/api/v1/workflows/{workflow}")
        if len(letters) >= 3 and r.status_code == 200:
            break
        time.sleep(0.3)
    assert r.status_code == 200, "the decision after the malformed messages was consumed"
    assert r.json()["status"] == "RUNNING"
    by_topic = {}
    for letter in letters:
        by_topic.setdefault(letter["topic"], []).append(letter)
    assert len(by_topic.get("plans.consensus", [])) == 1
    bad = by_topic["plans.consensus"][0]
    assert bad["key"] == "broken" and bad["payload_size"] == len(b"{not a decision")
    assert bad["payload_text"] == "{not a decision" and bad["reason"]
    assert isinstance(bad["offset"], int) and isinstance(bad["partition"], int) and bad["recorded_at"] > 0
    results = by_topic.get("execution.results", [])
    assert sorted(l["key"] for l in results) == ["no-such-ticket", "nobody"], results
    unknown = next(l for l in results if l["key"] == "no-such-ticket")
    assert "no-such-ticket" in unknown["reason"]
    filtered = api.get("/api/v1/dead-letters", params={"topic": "execution.results", "limit": 1}).json()
    assert filtered["count"] == 1 and filtered["dead_letters"][0]["topic"] == "execution.results"
    # Nothing else was dropped: the workflow's tickets arrive.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not peer.received["execution.tickets"]:
        peer.poll(0.5)
    assert peer.received["execution.tickets"], "the valid decision's first ticket was published"

    # The trust rule for results without a lease secret: a result in the hive-mind workers' own
    # shape for a ticket out for execution is applied; the same result again (the ticket is now
    # finished) becomes a dead letter with the reason, and the ticket is untouched.
    ticket = peer.received["execution.tickets"][0]["value"]
    peer.publish_result(ticket, "COMPLETED")
    state = wait_ticket_status(api, ticket["ticket_id"], "COMPLETED")
    assert state.get("status") == "COMPLETED", state
    peer.publish_result(ticket, "FAILED")
    refused = wait_result_dead_letters(api, ticket["ticket_id"], 1, timeout=30)
    assert refused and "refused" in refused[0]["reason"] and ticket["ticket_id"] in refused[0]["reason"], refused
    assert api.get(f"/api/v1/tickets/{ticket['ticket_id']}").json()["status"] == "COMPLETED"


def wait_ticket_status(api, ticket_id: str, status: str, timeout: float = 30) -> dict:
    """Polls the ticket until it has `status` or `timeout` passed; returns its last state."""
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        state = api.get(f"/api/v1/tickets/{ticket_id}").json()
        if state.get("status") == status:
            break
        time.sleep(0.3)
    return state


def wait_result_dead_letters(api, ticket_id: str, count: int, timeout: float) -> list[dict]:
    """Polls the dead letters of `execution.results` until `count` are keyed by the ticket."""
    deadline = time.monotonic() + timeout
    refused: list[dict] = []
    while time.monotonic() < deadline and len(refused) < count:
        letters = api.get("/api/v1/dead-letters", params={"topic": "execution.results"}).json()["dead_letters"]
        refused = [l for l in letters if l["key"] == ticket_id]
        time.sleep(0.3)
    return refused


@pytest.mark.parametrize("fmt", ["json", "avro"])
def test_with_the_lease_secret_required_a_forged_result_is_a_dead_letter(stack, fmt):
    """`KAFKA_RESULTS_REQUIRE_LEASE_SECRET=true`: each published ticket carries a `lease-secret`
    header; a result without it, or with another one, becomes a dead letter and the ticket is
    untouched; the result that sends the ticket's secret back is applied."""
    tansu, server, peer, api = stack(fmt, env={"KAFKA_RESULTS_REQUIRE_LEASE_SECRET": "true"})
    decision, plan = variant("000000000009", embed_plan=True, fmt=fmt)
    peer.publish_decision(decision)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not peer.received["execution.tickets"]:
        peer.poll(0.5)
    assert peer.received["execution.tickets"], "the decision's first ticket was published"
    entry = peer.received["execution.tickets"][0]
    ticket = entry["value"]
    secret = entry["headers"].get("lease-secret")
    assert secret and len(secret) == 32, entry["headers"]

    peer.publish_result(ticket, "COMPLETED")  # no secret
    peer.publish_result(ticket, "COMPLETED", headers={"lease-secret": "0" * 32})  # forged
    refused = wait_result_dead_letters(api, ticket["ticket_id"], 2, timeout=60)
    reasons = sorted(l["reason"] for l in refused)
    assert len(reasons) == 2, reasons
    assert any("carries no lease secret" in r for r in reasons) and any("not the one of its current" in r
                                                                         for r in reasons), reasons
    assert api.get(f"/api/v1/tickets/{ticket['ticket_id']}").json()["status"] != "COMPLETED"

    peer.publish_result(ticket, "COMPLETED", headers={"lease-secret": secret})
    state = wait_ticket_status(api, ticket["ticket_id"], "COMPLETED")
    assert state.get("status") == "COMPLETED", state
