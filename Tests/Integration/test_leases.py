"""6. A worker that stops heartbeating loses its lease to another worker; 7. fencing refuses stale
and duplicate reports."""

import copy
import threading
import time

from harness import DEFAULT_CONFIG, Api, PyWorker, completions_by_ticket, expect, expect_error, tickets_by_task
import workload

LEASE_TTL_MS = 1500  # harness.DEFAULT_CONFIG


def test_expired_lease_moves_to_another_worker_and_the_late_report_is_refused(api):
    worker_a = PyWorker(api, "worker-a")
    worker_b = PyWorker(api, "worker-b")
    assert worker_a.register()["lease_ttl_ms"] == LEASE_TTL_MS
    worker_b.register()
    plan = workload.plan("lease-1", [workload.task("only")], risk_band="medium")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]

    [lease_a] = worker_a.poll_until(1, timeout=10)
    leased_at = time.monotonic()
    # Worker A heartbeats once (extends the lease), then "dies".
    expect(worker_a.heartbeat(lease_a), 200)
    died_at = time.monotonic()

    # Generous: only the lower bound below is the lease's behaviour; a slow machine may take longer.
    leases_b = worker_b.poll_until(1, timeout=LEASE_TTL_MS / 1000 + 20)
    waited = time.monotonic() - died_at
    assert [l.ticket_id for l in leases_b] == [lease_a.ticket_id], "worker B never got the expired ticket"
    lease_b = leases_b[0]
    assert waited >= LEASE_TTL_MS / 1000 * 0.8, f"re-leased after {waited:.2f}s, lease TTL is {LEASE_TTL_MS} ms"
    assert lease_b.fencing_token > lease_a.fencing_token
    assert lease_b.ticket["retry_count"] == 1, "a lease expiry counts as a retry"
    print(f"lease moved after {time.monotonic() - leased_at:.2f}s")

    before = api.workflow(workflow_id)
    history_before = api.history(workflow_id)
    # A wakes up: heartbeat, completion and failure are all refused and change nothing.
    expect_error(worker_a.heartbeat(lease_a), 409, "conflict")
    expect_error(worker_a.complete(lease_a), 409, "conflict")
    expect_error(worker_a.fail(lease_a, "late"), 409, "conflict")
    after = api.workflow(workflow_id)
    assert after["tickets"] == before["tickets"]
    assert after["status"] == "RUNNING"
    ticket = tickets_by_task(after)["only"]
    assert ticket["worker_id"] == "worker-b" and ticket["phase"] == "LEASED"
    assert len(api.history(workflow_id)) == len(history_before), "a refused report was recorded in the history"

    expect(worker_b.complete(lease_b), 200)
    view = api.wait_status(workflow_id, {"COMPLETED"}, timeout=10)
    ticket = tickets_by_task(view)["only"]
    assert ticket["worker_id"] == "worker-b" and ticket["retry_count"] == 1
    assert completions_by_ticket(api.history(workflow_id)) == {lease_a.ticket_id: 1}


def test_heartbeats_keep_a_lease_alive(start_server):
    # A lease of 4 s here (not the 1.5 s of DEFAULT_CONFIG): a heartbeat every ~0.4 s must keep it, and
    # on a busy 2-core machine one round trip can stall for more than a second, which expired a 1.5 s
    # lease without any bug. Still 2.5 TTLs of heartbeats.
    ttl_ms = 4000
    config = copy.deepcopy(DEFAULT_CONFIG)
    config["engine"]["policies"]["execution"]["lease_ttl_ms"] = ttl_ms
    api = Api(start_server(config).url)
    py_worker = PyWorker(api, "py-worker-1")
    assert py_worker.register()["lease_ttl_ms"] == ttl_ms
    plan = workload.plan("lease-2", [workload.task("only")], risk_band="medium")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]
    [lease] = py_worker.poll_until(1, timeout=10)
    other = PyWorker(api, "worker-other")
    other.register()
    # Heartbeat every 400 ms for 2.5 lease TTLs: nobody else may take the ticket.
    end = time.monotonic() + ttl_ms / 1000 * 2.5
    while time.monotonic() < end:
        expect(py_worker.heartbeat(lease), 200)
        assert other.poll(max_tickets=1, wait_ms=400) == []
    expect(py_worker.complete(lease), 200)
    view = api.wait_status(workflow_id, {"COMPLETED"}, timeout=10)
    assert tickets_by_task(view)["only"]["retry_count"] == 0


def test_wrong_fencing_token_or_lease_secret_and_duplicate_completion_are_refused(api, py_worker):
    plan = workload.plan("fence-1", [workload.task("only"), workload.task("next", ["only"])], risk_band="medium")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]
    [lease] = py_worker.poll_until(1, timeout=10)
    assert len(lease.raw["lease_secret"]) == 32

    # A fencing token that was never granted has no lease secret: guessing one is a 403.
    expect_error(py_worker.complete(lease, token=lease.fencing_token + 1000), 403, "forbidden")
    expect_error(py_worker.complete(lease, token=lease.fencing_token - 1), 403, "forbidden")
    expect_error(py_worker.heartbeat(lease, token=lease.fencing_token + 1000), 403, "forbidden")
    expect_error(py_worker.fail(lease, token=lease.fencing_token + 1000), 403, "forbidden")
    expect_error(py_worker.complete(lease, secret="0" * 32), 403, "forbidden")
    missing = py_worker.proof(lease, None, None)
    del missing["lease_secret"]
    assert expect_error(api.post(f"/api/v1/tickets/{lease.ticket_id}/complete", missing), 422)["field"] == "lease_secret"
    assert tickets_by_task(api.workflow(workflow_id))["only"]["phase"] == "LEASED"

    expect(py_worker.complete(lease), 200)
    expect_error(py_worker.complete(lease), 409, "conflict")
    expect_error(py_worker.fail(lease, "after completion"), 409, "conflict")
    expect_error(py_worker.heartbeat(lease), 409, "conflict")

    view = api.workflow(workflow_id)
    only = tickets_by_task(view)["only"]
    assert only["status"] == "COMPLETED" and only["retry_count"] == 0
    counts = completions_by_ticket(api.history(workflow_id))
    assert counts == {lease.ticket_id: 1}

    # Reports for tickets that do not exist are 404.
    ghost = {"worker_id": "py-worker-1", "fencing_token": 1, "lease_secret": "0" * 32, "output": {}, "logs": [],
             "actual_duration_ms": 1}
    expect_error(api.post("/api/v1/tickets/00000000-0000-5000-8000-000000000000/complete", ghost), 404)


def test_a_report_from_a_worker_that_does_not_hold_the_lease_is_refused(api, py_worker):
    plan = workload.plan("holder-1", [workload.task("only")], risk_band="medium")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]
    [lease] = py_worker.poll_until(1, timeout=10)
    other = PyWorker(api, "not-the-holder")
    other.register()
    # Fencing tokens are small per-ticket numbers (1, 2, …), but the lease secret is bound to the
    # worker id (and principal) it was granted to: even with the secret, another worker is refused.
    expect_error(other.complete(lease), 403, "forbidden")
    expect_error(other.fail(lease, "not mine", retryable=False), 403, "forbidden")
    expect_error(other.heartbeat(lease), 403, "forbidden")
    ticket = tickets_by_task(api.workflow(workflow_id))["only"]
    assert ticket["phase"] == "LEASED" and ticket["worker_id"] == py_worker.worker_id, ticket
    expect(py_worker.complete(lease), 200)
    assert api.wait_terminal(workflow_id)["status"] == "COMPLETED"


def test_concurrent_pollers_never_share_a_ticket(api):
    plan = workload.plan("fanout-1", [workload.task(f"t{i}") for i in range(24)], risk_band="medium")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]
    workers = [PyWorker(api, f"racer-{i}") for i in range(6)]
    for w in workers:
        w.register()
    leased: list = []
    lock = threading.Lock()

    def race(worker):
        for _ in range(3):
            got = worker.poll(max_tickets=3, wait_ms=200)
            with lock:
                leased.extend((worker, lease) for lease in got)

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [lease.ticket_id for _, lease in leased]
    assert len(ids) == len(set(ids)), "a ticket was leased to two pollers at once"
    assert len(ids) == 24
    for worker, lease in leased:
        expect(worker.complete(lease), 200)
    assert api.wait_terminal(workflow_id)["status"] == "COMPLETED"


def test_capability_routing(api):
    tasks = [workload.task("deploy"), workload.task("script")]
    tasks[0]["required_capabilities"] = ["kubernetes", "helm"]
    tasks[1]["required_capabilities"] = ["python"]
    workflow_id = expect(api.submit_decision(workload.decision(workload.plan("caps-1", tasks))), 201)["workflow_id"]
    python_only = PyWorker(api, "python-only", ["python"])
    python_only.register()
    k8s = PyWorker(api, "k8s", ["KUBERNETES", "Helm", "docker"])  # capabilities match case-insensitively
    k8s.register()
    got = python_only.poll(max_tickets=5, wait_ms=300)
    assert [lease.task_id for lease in got] == ["script"]
    assert python_only.poll(max_tickets=5, wait_ms=300) == []
    got_k8s = k8s.poll(max_tickets=5, wait_ms=1000)
    assert [lease.task_id for lease in got_k8s] == ["deploy"]
    for worker, lease in ((python_only, got[0]), (k8s, got_k8s[0])):
        expect(worker.complete(lease), 200)
    assert api.wait_terminal(workflow_id)["status"] == "COMPLETED"
