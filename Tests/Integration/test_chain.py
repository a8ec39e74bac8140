"""1. The hive-mind's example decision (a 4-task chain) end to end with a Python worker."""

import json

from harness import (
    QOS_FIELDS, SLA_FIELDS, TICKET_FIELDS, completions_by_ticket, contains_pair, expect, outbox_summary, tickets_by_task,
    wait_outbox,
)
import workload


def test_example_chain_runs_in_dependency_order(server, api, py_worker):
    decision = workload.example_decision()
    plan = json.loads(decision["cognitive_plan"])
    order = plan["execution_order"]
    assert len(order) == 4

    created = expect(api.submit_decision(decision), 201)
    assert created["created"] is True
    workflow_id = created["workflow_id"]
    assert workflow_id == workload.workflow_id_for(decision["plan_id"])
    assert created["status"] in ("RUNNING", "VALIDATING"), created
    assert created["validation"] is not None

    for index, task_id in enumerate(order):
        # Each poll (asking for up to 10) hands out exactly the next task of the chain...
        leases = py_worker.poll_until(1, timeout=10, max_tickets=10)
        assert [lease.task_id for lease in leases] == [task_id], f"step {index}: leased {[l.task_id for l in leases]}"
        lease = leases[0]
        assert lease.workflow_id == workflow_id
        assert lease.ticket["status"] in ("PENDING", "RUNNING")
        assert isinstance(lease.fencing_token, int) and lease.fencing_token > 0
        # ...and while it is leased nothing else of the chain is leasable.
        assert py_worker.poll(max_tickets=10, wait_ms=300) == []
        view = api.workflow(workflow_id)
        phases = {t["task_id"]: t["phase"] for t in tickets_by_task(view).values()}
        assert phases[task_id] == "LEASED", phases
        for later in order[index + 1:]:
            assert phases[later] == "WAITING", f"{later} is {phases[later]} while {task_id} runs"
        for earlier in order[:index]:
            assert phases[earlier] == "COMPLETED", phases
        expect(py_worker.complete(lease, output={"step": str(index)}), 200)

    view = api.wait_status(workflow_id, {"COMPLETED"}, timeout=10)
    metrics = view["metrics"]
    assert metrics["total"] == 4
    assert metrics["successful"] == 4
    assert metrics["failed"] == 0 and metrics["compensated"] == 0 and metrics["skipped"] == 0
    assert metrics["retries"] == 0
    assert isinstance(metrics["duration_ms"], int) and metrics["duration_ms"] >= 0
    tickets = tickets_by_task(view)
    assert sorted(tickets) == sorted(order)
    for task_id in order:
        t = tickets[task_id]
        assert t["status"] == "COMPLETED" and t["phase"] == "COMPLETED", t
        assert t["retry_count"] == 0
        assert t["worker_id"] == py_worker.worker_id
        assert t["completed_at"] >= t["started_at"], t
    for before, after in zip(order, order[1:]):
        assert tickets[after]["started_at"] >= tickets[before]["completed_at"], (before, after)

    # The consolidated result agrees with the workflow.
    result = api.result(workflow_id)
    assert result["workflow_id"] == workflow_id
    assert result["status"] == "COMPLETED"
    assert result["finished"] is True
    assert result["metrics"] == metrics
    assert {t["ticket_id"]: t["status"] for t in result["tickets"]} == {t["ticket_id"]: "COMPLETED" for t in tickets.values()}
    steps = {t["task_id"]: t for t in result["tickets"]}
    for index, task_id in enumerate(order):
        # The worker's output is kept with the ticket's result (wherever the result nests it).
        assert contains_pair(steps[task_id]["result"], "step", str(index)), steps[task_id]

    # Ticket endpoints.
    ticket_ids = {t["ticket_id"] for t in tickets.values()}
    by_plan = expect(api.get(f"/api/v1/tickets/by-plan/{decision['plan_id']}"), 200)
    listed = by_plan["tickets"] if isinstance(by_plan, dict) else by_plan
    assert {t["ticket_id"] for t in listed} == ticket_ids
    for tid in ticket_ids:
        ticket = expect(api.get(f"/api/v1/tickets/{tid}"), 200)
        assert ticket["ticket_id"] == tid and ticket["status"] == "COMPLETED"
        assert set(TICKET_FIELDS) <= set(ticket), set(TICKET_FIELDS) - set(ticket)

    # History: exactly one accepted completion per ticket.
    assert completions_by_ticket(api.history(workflow_id)) == {tid: 1 for tid in ticket_ids}

    # Outbox files: 4 tickets released as PENDING with the full contract, the final frame, the step events.
    def complete_outbox(files):
        flow = [m for m in files["telemetry-flow-c"].messages if m.get("value", {}).get("workflow_id") == workflow_id]
        return (
            len(files["execution.tickets"].messages) >= 4
            and files["telemetry.orchestration"].messages
            and any(m["value"].get("event_type") == "FLOW_C_COMPLETED" for m in flow)
        )

    files = wait_outbox(server.outbox_dir, complete_outbox, timeout=15)
    assert complete_outbox(files), outbox_summary(files)
    for f in files.values():
        assert not f.bad_lines, f"{f.topic}: unreadable lines {f.bad_lines}"
        for m in f.messages:
            assert set(m) >= {"sequence", "topic", "key", "headers", "value"}, m
            assert m["topic"] == f.topic
            assert m["headers"].get("traceparent"), m

    released = files["execution.tickets"].messages
    assert len(released) == 4, [m["value"].get("task_id") for m in released]
    assert [m["value"]["task_id"] for m in released] == order
    assert {m["value"]["ticket_id"] for m in released} == ticket_ids
    for m in released:
        value = m["value"]
        assert m["key"] == decision["plan_id"]
        assert value["status"] == "PENDING"
        missing = [name for name in TICKET_FIELDS if name not in value]
        assert not missing, f"ticket {value.get('task_id')} lacks {missing}"
        assert set(value["sla"]) >= set(SLA_FIELDS) and set(value["qos"]) >= set(QOS_FIELDS)
        assert value["plan_id"] == decision["plan_id"]
        assert value["decision_id"] == decision["decision_id"]
        assert value["intent_id"] == decision["intent_id"]
        assert value["correlation_id"] == decision["correlation_id"]
        assert value["risk_band"] == "medium"
        assert value["sla"]["max_retries"] == 2
        assert value["qos"] == {"delivery_mode": "AT_LEAST_ONCE", "consistency": "EVENTUAL", "durability": "PERSISTENT"}
        assert value["priority"] == "HIGH" and value["security_level"] == "CONFIDENTIAL"
        assert value["ticket_id"] not in value["dependencies"]
    by_task = {m["value"]["task_id"]: m["value"] for m in released}
    # SLA policy (CONTRACTS.md, CONFIGURATION.md): timeout = max(60 s, 3 x estimate) and the deadline
    # of a chain's ticket adds up the timeouts of the chain so far (30/60/45/120 s estimates).
    assert [by_task[t]["estimated_duration_ms"] for t in order] == [30000, 60000, 45000, 120000]
    assert [by_task[t]["sla"]["timeout_ms"] for t in order] == [90000, 180000, 135000, 360000]
    assert [by_task[t]["sla"]["deadline"] - by_task[t]["created_at"] for t in order] == [90000, 270000, 405000, 765000]
    for before, after in zip(order, order[1:]):
        assert by_task[after]["dependencies"] == [by_task[before]["ticket_id"]]
    assert {m["value"]["task_type"] for m in released} == {"VALIDATE", "BUILD", "TEST", "DEPLOY"}

    frames = [m for m in files["telemetry.orchestration"].messages if m["value"].get("workflow_id") == workflow_id]
    assert len(frames) == 1, frames
    frame = frames[0]["value"]
    assert frames[0]["key"] == workflow_id
    assert frame["source"] == "orchestrator-dynamic"
    for key in ("correlation_id", "trace_id", "intent_id", "plan_id", "decision_id"):
        assert frame[key] == decision[key], (key, frame[key])
    assert sorted(frame["ticket_ids"]) == sorted(ticket_ids)
    assert frame["metrics"]["total"] == 4 and frame["metrics"]["successful"] == 4
    assert isinstance(frame["timestamp"], int)

    events = [m["value"] for m in files["telemetry-flow-c"].messages if m["value"].get("workflow_id") == workflow_id]
    kinds = [e["event_type"] for e in events]
    steps_seen = [(e["event_type"], e.get("step")) for e in events if e["event_type"].startswith("STEP_")]
    for step in ("C1", "C2", "C3", "C4", "C5", "C6"):
        assert ("STEP_STARTED", step) in steps_seen and ("STEP_COMPLETED", step) in steps_seen, (step, steps_seen)
        assert steps_seen.index(("STEP_STARTED", step)) < steps_seen.index(("STEP_COMPLETED", step)), steps_seen
    for kind in ("TICKET_ASSIGNED", "TICKET_COMPLETED"):
        assert sorted(e["ticket_id"] for e in events if e["event_type"] == kind) == sorted(ticket_ids), (kind, kinds)
    assert kinds.count("FLOW_C_STARTED") == 1 and kinds.count("FLOW_C_COMPLETED") == 1, kinds
    assert kinds[0] == "FLOW_C_STARTED", kinds
    # The flow's last word is FLOW_C_COMPLETED: nothing of the flow (not even step C6) after it.
    assert kinds[-1] == "FLOW_C_COMPLETED", f"events after FLOW_C_COMPLETED: {kinds[kinds.index('FLOW_C_COMPLETED'):]}"
    completed = events[-1]
    assert completed["status"] == "COMPLETED" and sorted(completed["ticket_ids"]) == sorted(ticket_ids), completed

    for f in files.values():
        sequences = [m["sequence"] for m in f.messages]
        assert sequences == sorted(set(sequences)), f"{f.topic}: sequences {sequences}"
