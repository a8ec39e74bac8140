"""8. Human review gating; 9. idempotent intake and plans arriving after their decision;
10. bad input; plus operator actions and the server's lifecycle (lock, graceful stop, restart)."""

import json
import subprocess

import pytest
import requests

from harness import Api, PyWorker, ServerProcess, expect, expect_error
import workload


# --- 8. review gating ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "final_decision, requires_human_review", [("review_required", False), ("approve", True)]
)
def test_review_parks_the_workflow_until_approved(api, py_worker, final_decision, requires_human_review):
    plan = workload.chain_plan(f"review-{final_decision}", 2)
    created = expect(api.submit_decision(
        workload.decision(plan, final_decision=final_decision, requires_human_review=requires_human_review)), 201)
    workflow_id = created["workflow_id"]
    assert created["status"] == "AWAITING_APPROVAL", created
    assert api.workflow(workflow_id)["status"] == "AWAITING_APPROVAL"
    assert py_worker.poll(max_tickets=10, wait_ms=500) == [], "a ticket was leasable before approval"
    for t in api.workflow(workflow_id)["tickets"]:
        assert t["phase"] not in ("READY", "LEASED"), t

    expect(api.post(f"/api/v1/workflows/{workflow_id}/approve", {"by": "operator-1"}), 200)
    view = api.workflow(workflow_id)
    assert view["status"] == "RUNNING", view["status"]
    py_worker.run_workflow(workflow_id, timeout=20)
    view = api.wait_terminal(workflow_id)
    assert view["status"] == "COMPLETED"
    assert view["metrics"]["successful"] == 2
    approvals = [e for e in api.history(workflow_id) if "approved" in e["event"]]
    # `by` names the authenticated principal (the harness's admin token), never the body's claim.
    assert len(approvals) == 1 and approvals[0]["event"]["approved"].get("by") == "harness-admin", approvals
    # Approving again is refused: the workflow is no longer waiting.
    expect_error(api.post(f"/api/v1/workflows/{workflow_id}/approve", {"by": "operator-1"}), 409, "conflict")


def test_rejected_review_and_rejected_decision_never_run(api, py_worker):
    plan = workload.chain_plan("review-rejected", 2)
    workflow_id = expect(api.submit_decision(workload.decision(plan, final_decision="review_required")), 201)["workflow_id"]
    expect(api.post(f"/api/v1/workflows/{workflow_id}/reject", {"by": "operator-2", "reason": "too risky"}), 200)
    view = api.wait_terminal(workflow_id, timeout=5)
    assert view["status"] == "REJECTED"
    assert "too risky" in (view.get("reason") or ""), view.get("reason")

    plan2 = workload.chain_plan("decision-rejected", 2)
    created = expect(api.submit_decision(workload.decision(plan2, final_decision="reject")), 200, 201)
    assert api.wait_terminal(created["workflow_id"], timeout=5)["status"] == "REJECTED"
    assert py_worker.poll(max_tickets=10, wait_ms=400) == []


def test_cancel_stops_a_running_workflow(api, py_worker):
    plan = workload.chain_plan("cancel-1", 3)
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]
    [lease] = py_worker.poll_until(1, timeout=10)
    expect(api.post(f"/api/v1/workflows/{workflow_id}/cancel", {"by": "operator-3", "reason": "stop"}), 200)
    view = api.wait_terminal(workflow_id, timeout=5)
    assert view["status"] == "CANCELLED"
    expect_error(py_worker.complete(lease), 409, "conflict")
    assert py_worker.poll(max_tickets=10, wait_ms=400) == []
    assert all(t["phase"] in ("CANCELLED", "COMPLETED", "SKIPPED", "FAILED") for t in api.workflow(workflow_id)["tickets"])


# --- 9. idempotent intake; the plan after its decision -----------------------------------------


def test_duplicate_decision_is_not_created_twice(api):
    plan = workload.chain_plan("dup-1", 2)
    decision = workload.decision(plan)
    first = expect(api.submit_decision(decision), 201)
    again = expect(api.submit_decision(decision), 200)
    assert again["created"] is False
    assert again["workflow_id"] == first["workflow_id"]
    listed = expect(api.get("/api/v1/workflows", params={"limit": 100}), 200)
    items = listed["workflows"] if isinstance(listed, dict) else listed
    assert [w["workflow_id"] for w in items].count(first["workflow_id"]) == 1


def test_decision_waits_for_its_plan(api, py_worker):
    plan = workload.chain_plan("late-plan-1", 3)
    created = expect(api.submit_decision(workload.decision(plan, embed="none")), 201)
    workflow_id = created["workflow_id"]
    assert workflow_id == workload.workflow_id_for(plan["plan_id"])
    assert created["status"] == "WAITING_FOR_PLAN", created
    assert api.workflow(workflow_id)["status"] == "WAITING_FOR_PLAN"
    assert py_worker.poll(max_tickets=10, wait_ms=300) == []

    r = api.submit_plan(plan, start=False)
    assert 200 <= r.status_code < 300, f"POST /api/v1/plans?start=false -> {r.status_code} {r.text[:500]}"
    py_worker.run_workflow(workflow_id, timeout=20)
    view = api.wait_terminal(workflow_id)
    assert view["status"] == "COMPLETED", view["status"]
    assert view["metrics"]["total"] == 3 and view["metrics"]["successful"] == 3
    # The plan did not start a second workflow.
    listed = expect(api.get("/api/v1/workflows", params={"limit": 100}), 200)
    items = listed["workflows"] if isinstance(listed, dict) else listed
    assert [w["workflow_id"] for w in items] == [workflow_id], items


def test_plan_first_then_decision_without_plan(api, py_worker):
    plan = workload.chain_plan("plan-first-1", 2)
    body = expect(api.submit_plan(plan, start=False), 202)
    assert body["plan_id"] == plan["plan_id"] and body["workflow"] is None, body
    created = expect(api.submit_decision(workload.decision(plan, embed="none")), 201)
    assert created["status"] == "RUNNING", created
    py_worker.run_workflow(created["workflow_id"], timeout=20)
    assert api.wait_terminal(created["workflow_id"])["status"] == "COMPLETED"


def test_plan_submitted_directly_starts_a_workflow(api, py_worker):
    plan = workload.diamond_plan("direct-plan-1")
    body = expect(api.submit_plan(plan, start=True), 202)
    assert body["plan_id"] == plan["plan_id"]
    workflow_id = body["workflow"]["workflow_id"]
    py_worker.run_workflow(workflow_id, timeout=20)
    assert api.wait_terminal(workflow_id)["status"] == "COMPLETED"
    listed = expect(api.get("/api/v1/workflows", params={"status": "COMPLETED", "limit": 10}), 200)
    items = listed["workflows"] if isinstance(listed, dict) else listed
    assert workflow_id in [w["workflow_id"] for w in items]
    listed = expect(api.get("/api/v1/workflows", params={"status": "RUNNING", "limit": 10}), 200)
    items = listed["workflows"] if isinstance(listed, dict) else listed
    assert workflow_id not in [w["workflow_id"] for w in items]


# --- 10. bad input ---------------------------------------------------------------------------


def test_malformed_json_is_400(api):
    r = api.post("/api/v1/decisions", data=b'{"decision_id": "x", ', headers={"Content-Type": "application/json"})
    expect_error(r, 400)
    r = api.post("/api/v1/plans?start=true", data=b"not json", headers={"Content-Type": "application/json"})
    expect_error(r, 400)


def test_missing_decision_id_is_422_naming_it(api):
    decision = workload.decision(workload.chain_plan("no-id", 2))
    del decision["decision_id"]
    error = expect_error(api.submit_decision(decision), 422)
    assert "decision_id" in (error.get("field") or "") or "decision_id" in error["message"], error
    listed = expect(api.get("/api/v1/workflows", params={"limit": 10}), 200)
    items = listed["workflows"] if isinstance(listed, dict) else listed
    assert items == [], f"a refused decision created a workflow: {items}"


def test_worker_api_validates_fields(api, py_worker):
    plan = workload.chain_plan("fields-1", 1)
    expect(api.submit_decision(workload.decision(plan)), 201)
    [lease] = py_worker.poll_until(1, timeout=10)
    r = api.post(f"/api/v1/tickets/{lease.ticket_id}/complete", {"worker_id": py_worker.worker_id, "output": {}})
    error = expect_error(r, 422)
    assert "fencing_token" in (error.get("field") or "") + error["message"], error
    r = api.post(f"/api/v1/workers/{py_worker.worker_id}/poll", {"max_tickets": "many", "wait_ms": 0})
    error = expect_error(r, 422)
    assert "max_tickets" in (error.get("field") or "") + error["message"], error
    expect(py_worker.complete(lease), 200)


def test_plan_with_a_cycle_fails_validation_naming_the_cycle(api, py_worker):
    tasks = [
        workload.task("start"),
        workload.task("loop-a", ["start", "loop-c"]),
        workload.task("loop-b", ["loop-a"]),
        workload.task("loop-c", ["loop-b"]),
    ]
    plan = workload.plan("cycle-1", tasks, derive_order=False)
    created = expect(api.submit_decision(workload.decision(plan)), 201)
    workflow_id = created["workflow_id"]
    view = api.wait_terminal(workflow_id, timeout=5)
    assert view["status"] == "FAILED", view["status"]
    for validation in (created["validation"], view["validation"]):
        problems = validation["problems"]
        cycle_problems = [p for p in problems if p.get("code") == "dependency_cycle"]
        assert cycle_problems, problems
        text = json.dumps(cycle_problems) + json.dumps(validation.get("cycles"))
        for task_id in ("loop-a", "loop-b", "loop-c"):
            assert task_id in text, f"{task_id} not named: {text}"
        assert "start" not in json.dumps(validation.get("cycles")), validation.get("cycles")
    assert view["tickets"] == [] or all(t["phase"] not in ("READY", "LEASED") for t in view["tickets"])
    assert py_worker.poll(max_tickets=10, wait_ms=300) == []


def test_unknown_ids_are_404(api, py_worker):
    expect_error(api.get("/api/v1/workflows/orch-does-not-exist"), 404)
    expect_error(api.get("/api/v1/workflows/orch-does-not-exist/history"), 404)
    expect_error(api.get("/api/v1/workflows/orch-does-not-exist/result"), 404)
    expect_error(api.post("/api/v1/workflows/orch-does-not-exist/approve", {"by": "x"}), 404)
    expect_error(api.get("/api/v1/tickets/00000000-0000-5000-8000-000000000000"), 404)


# --- the process -------------------------------------------------------------------------------


def test_data_dir_lock_graceful_stop_and_restart(start_server, binary, tmp_path):
    first = start_server()
    health = requests.get(first.url + "/health", timeout=5).json()
    assert health["status"] == "healthy" and health["service"] == "orchestrator-dynamic", health
    ready = requests.get(first.url + "/ready", timeout=5).json()
    assert ready["status"] == "ready", ready

    # A second server on the same data dir refuses to start.
    second = ServerProcess(binary, first.data_dir, tmp_path / "second.log", name="second server")
    second.start(wait_ready=False)
    try:
        code = second.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        second.kill9()
        pytest.fail("a second server started on a locked data dir")
    assert code != 0
    assert "lock" in second.log_tail().lower(), second.log_tail()

    client = Api(first.url)
    plan = workload.chain_plan("restart-1", 2)
    workflow_id = expect(client.submit_decision(workload.decision(plan)), 201)["workflow_id"]
    worker = PyWorker(client, "w-restart")
    worker.register()
    worker.run_workflow(workflow_id, timeout=20)

    assert first.terminate(timeout=15) == 0, "SIGTERM should stop the server gracefully with status 0"
    first.start()
    client = Api(first.url)
    view = client.workflow(workflow_id)
    assert view["status"] == "COMPLETED" and view["metrics"]["successful"] == 2
    again = expect(client.submit_decision(workload.decision(plan)), 200)
    assert again["created"] is False and again["workflow_id"] == workflow_id
