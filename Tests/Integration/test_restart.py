"""Deterministic SIGKILL cases (the random ones are in test_crash.py): whatever the API confirmed
before the kill is there after the restart, and leases survive it."""

import copy

from harness import DEFAULT_CONFIG, Api, PyWorker, completions_by_ticket, expect, expect_error, tickets_by_task, wait_outbox
import workload

# A lease must outlive a kill and a restart: the test's 1.5 s lease (DEFAULT_CONFIG) expired whenever
# a restart on a busy machine took longer than that, and the ticket was re-leased under a new token.
# 60 s is far beyond any restart; nothing in this test waits for an expiry.
LONG_LEASE_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
LONG_LEASE_CONFIG["engine"]["policies"]["execution"]["lease_ttl_ms"] = 60_000


def test_confirmed_intake_completion_and_lease_survive_sigkill(start_server):
    server = start_server(LONG_LEASE_CONFIG)
    api = Api(server.url)
    plan = workload.chain_plan("durable-1", 3)
    decision = workload.decision(plan)
    workflow_id = expect(api.submit_decision(decision), 201)["workflow_id"]
    server.kill9()
    server.start()

    # The accepted decision survived: same workflow, and intake is still idempotent.
    again = expect(api.submit_decision(decision), 200)
    assert again["created"] is False and again["workflow_id"] == workflow_id
    worker = PyWorker(api, "w-durable")
    worker.register()
    [t0] = worker.poll_until(1, timeout=10)
    assert t0.task_id == "t0"
    expect(worker.complete(t0), 200)
    server.kill9()
    server.start()

    # The confirmed completion survived and released t1.
    view = api.workflow(workflow_id)
    tickets = tickets_by_task(view)
    assert tickets["t0"]["status"] == "COMPLETED", tickets["t0"]
    worker.register()
    [t1] = worker.poll_until(1, timeout=10)
    assert t1.task_id == "t1"
    server.kill9()
    server.start()

    # A lease granted before the kill is still the lease after it: the holder can heartbeat and
    # complete with its token, and a report twice is still a conflict.
    expect(worker.heartbeat(t1), 200)
    expect(worker.complete(t1), 200)
    expect_error(worker.complete(t1), 409, "conflict")
    [t2] = worker.poll_until(1, timeout=10)
    assert t2.task_id == "t2"
    expect(worker.complete(t2), 200)
    view = api.wait_status(workflow_id, {"COMPLETED"}, timeout=10)
    assert view["metrics"]["successful"] == 3 and view["metrics"]["retries"] == 0, view["metrics"]
    assert completions_by_ticket(api.history(workflow_id)) == {t["ticket_id"]: 1 for t in view["tickets"]}

    files = wait_outbox(server.outbox_dir, lambda f: len(f["telemetry.orchestration"].messages) == 1, timeout=10)
    for f in files.values():
        sequences = [m["sequence"] for m in f.messages]
        assert sequences == sorted(set(sequences)), f"{f.topic}: {sequences}"
    assert sorted(m["value"]["task_id"] for m in files["execution.tickets"].messages) == ["t0", "t1", "t2"]

