"""4. A failed attempt is retried under a new lease; 5. exhausted retries fail the ticket and
compensate its completed predecessors in reverse order (saga)."""

import time

from harness import compensation_tickets, expect, outbox_summary, tickets_by_task, wait_outbox
import workload


def test_failed_attempt_is_retried_with_a_new_fencing_token(api, py_worker):
    plan = workload.plan("retry-1", [workload.task("only")], risk_band="medium")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]

    [first] = py_worker.poll_until(1, timeout=10)
    assert first.ticket["retry_count"] == 0
    expect(py_worker.fail(first, "transient: connection reset", retryable=True), 200)
    view = api.workflow(workflow_id)
    assert view["status"] == "RUNNING"
    assert tickets_by_task(view)["only"]["phase"] in ("RETRY_WAIT", "READY"), view["tickets"]

    [second] = py_worker.poll_until(1, timeout=10)
    assert second.ticket_id == first.ticket_id
    assert second.fencing_token != first.fencing_token
    assert second.fencing_token > first.fencing_token
    assert second.ticket["retry_count"] == 1
    # The first lease is gone: reports with its token are refused.
    expect(py_worker.complete(first), 409)
    expect(py_worker.complete(second), 200)

    view = api.wait_status(workflow_id, {"COMPLETED"}, timeout=10)
    ticket = tickets_by_task(view)["only"]
    assert ticket["status"] == "COMPLETED"
    assert ticket["retry_count"] == 1
    assert view["metrics"]["retries"] == 1
    assert view["metrics"]["successful"] == 1 and view["metrics"]["failed"] == 0


def test_exhausted_retries_fail_the_ticket_and_compensate_in_reverse_order(server, api, py_worker):
    # A -> B -> C -> D, low risk (max_retries 1); C always fails.
    tasks = [workload.task("A"), workload.task("B", ["A"]), workload.task("C", ["B"]), workload.task("D", ["C"])]
    plan = workload.plan("saga-1", tasks, risk_band="low")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]

    for expected in ("A", "B"):
        [lease] = py_worker.poll_until(1, timeout=10)
        assert lease.task_id == expected
        expect(py_worker.complete(lease), 200)
    ids = {t: x["ticket_id"] for t, x in tickets_by_task(api.workflow(workflow_id)).items()}

    for attempt in range(2):
        [lease] = py_worker.poll_until(1, timeout=10)
        assert lease.task_id == "C", f"attempt {attempt}: leased {lease.task_id}"
        assert lease.ticket["retry_count"] == attempt
        assert lease.ticket["sla"]["max_retries"] == 1
        expect(py_worker.fail(lease, f"C broke on attempt {attempt}", retryable=True), 200)

    # C failed for good: D skipped, compensation of B released first, A's only after B's completed.
    [comp_b] = py_worker.poll_until(1, timeout=10)
    assert comp_b.ticket["task_type"] == "COMPENSATE", comp_b.ticket
    assert comp_b.ticket["parameters"].get("original_ticket_id") == ids["B"], comp_b.ticket["parameters"]
    assert comp_b.ticket["parameters"].get("action") == "rollback_execution", comp_b.ticket["parameters"]
    assert py_worker.poll(max_tickets=10, wait_ms=400) == [], "A's compensation released before B's completed"
    view = api.workflow(workflow_id)
    assert view["status"] == "COMPENSATING", view["status"]
    tickets = tickets_by_task(view)
    assert tickets["C"]["status"] == "FAILED" and tickets["C"]["phase"] == "FAILED", tickets["C"]
    assert tickets["C"]["retry_count"] == 1
    assert tickets["D"]["phase"] == "SKIPPED", tickets["D"]
    assert tickets["B"]["compensation_ticket_id"] == comp_b.ticket_id
    expect(py_worker.complete(comp_b), 200)

    [comp_a] = py_worker.poll_until(1, timeout=10)
    assert comp_a.ticket["task_type"] == "COMPENSATE"
    assert comp_a.ticket["parameters"].get("original_ticket_id") == ids["A"], comp_a.ticket["parameters"]
    assert comp_a.ticket["parameters"].get("action") == "rollback_execution"
    expect(py_worker.complete(comp_a), 200)

    view = api.wait_terminal(workflow_id, timeout=10)
    assert view["status"] == "FAILED", f"nothing kept: expected FAILED, got {view['status']} ({view.get('reason')!r})"
    tickets = tickets_by_task(view)
    assert tickets["A"]["status"] == "COMPENSATED" and tickets["B"]["status"] == "COMPENSATED", (tickets["A"], tickets["B"])
    assert tickets["A"]["compensation_ticket_id"] == comp_a.ticket_id
    assert tickets["B"]["compensation_ticket_id"] == comp_b.ticket_id
    assert tickets["C"]["status"] == "FAILED"
    assert tickets["D"]["phase"] == "SKIPPED"
    comps = {t["ticket_id"]: t for t in compensation_tickets(view)}
    assert set(comps) == {comp_a.ticket_id, comp_b.ticket_id}
    assert all(t["status"] == "COMPLETED" for t in comps.values()), comps
    m = view["metrics"]
    assert (m["total"], m["failed"], m["compensated"], m["skipped"]) == (4, 1, 2, 1), m
    assert m["retries"] == 1, m

    incidents = _incidents(api, workflow_id)
    worker_failures = [i for i in incidents if i.get("incident_type") == "WORKER_FAILURE"]
    assert worker_failures, f"no WORKER_FAILURE incident: {incidents}"
    assert any(ids["C"] in i.get("affected_tickets", []) for i in worker_failures), worker_failures
    for incident in worker_failures:
        assert incident["workflow_id"] == workflow_id
        assert incident["recommended_playbook"] == "worker_failure_recovery", incident
        assert isinstance(incident.get("hash"), str) and incident["hash"], incident

    # Published: the incident, and one final frame with the failure's metrics.
    def published(files):
        return (any(m["value"].get("workflow_id") == workflow_id for m in files["telemetry.orchestration"].messages)
                and any(m["value"].get("incident_type") == "WORKER_FAILURE"
                        for m in files["orchestration.incidents"].messages))

    files = wait_outbox(server.outbox_dir, published, timeout=10)
    assert published(files), outbox_summary(files)
    incident_ids = {i["incident_id"] for i in worker_failures}
    assert incident_ids <= {m["value"]["incident_id"] for m in files["orchestration.incidents"].messages}
    assert all(m["key"] == m["value"]["incident_id"] for m in files["orchestration.incidents"].messages)
    frames = [m["value"] for m in files["telemetry.orchestration"].messages if m["value"].get("workflow_id") == workflow_id]
    assert len(frames) == 1, frames
    assert (frames[0]["metrics"]["failed"], frames[0]["metrics"]["compensated"]) == (1, 2), frames[0]["metrics"]
    released = [m["value"] for m in files["execution.tickets"].messages]
    assert {v["ticket_id"] for v in released if v["task_type"] == "COMPENSATE"} == {comp_a.ticket_id, comp_b.ticket_id}


def test_partial_when_a_completed_branch_is_kept(api, py_worker):
    # A -> B (fails, not retryable) and an independent C that completes: only B's predecessor A is
    # compensated, C is kept -> PARTIAL.
    tasks = [workload.task("A"), workload.task("B", ["A"]), workload.task("C")]
    plan = workload.plan("partial-1", tasks, risk_band="low")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]
    leases = {l.task_id: l for l in py_worker.poll_until(2, timeout=10)}
    assert set(leases) == {"A", "C"}
    expect(py_worker.complete(leases["C"]), 200)
    expect(py_worker.complete(leases["A"]), 200)
    [b] = py_worker.poll_until(1, timeout=10)
    assert b.task_id == "B"
    expect(py_worker.fail(b, "permanent", retryable=False), 200)
    [comp] = py_worker.poll_until(1, timeout=10)
    assert comp.ticket["task_type"] == "COMPENSATE"
    expect(py_worker.complete(comp), 200)
    view = api.wait_terminal(workflow_id, timeout=10)
    tickets = tickets_by_task(view)
    assert tickets["B"]["status"] == "FAILED" and tickets["B"]["retry_count"] == 0, tickets["B"]
    assert tickets["A"]["status"] == "COMPENSATED"
    assert tickets["C"]["status"] == "COMPLETED"
    assert view["status"] == "PARTIAL", view["status"]


def _incidents(api, workflow_id):
    deadline = time.monotonic() + 5
    while True:
        body = expect(api.get("/api/v1/incidents", params={"workflow_id": workflow_id}), 200)
        incidents = body.get("incidents", []) if isinstance(body, dict) else body
        if incidents or time.monotonic() > deadline:
            return incidents
        time.sleep(0.1)
