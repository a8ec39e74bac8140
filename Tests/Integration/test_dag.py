"""2. A diamond released with maximum parallelism; 3. a 200-task random DAG run by reference workers."""

import time

from harness import completions_by_ticket, expect, tickets_by_task
import workload


def test_diamond_releases_both_branches_then_the_join(api, py_worker):
    plan = workload.diamond_plan("diamond-1")
    # The plan embedded as an object this time (examples use a JSON string).
    created = expect(api.submit_decision(workload.decision(plan, embed="object")), 201)
    workflow_id = created["workflow_id"]

    [a] = py_worker.poll_until(1, timeout=10)
    assert a.task_id == "A"
    assert py_worker.poll(max_tickets=10, wait_ms=300) == [], "B/C/D leasable before A completed"
    expect(py_worker.complete(a), 200)

    # B and C are both leasable once A completed, before either of them completes.
    branches = py_worker.poll_until(2, timeout=10, max_tickets=10)
    assert sorted(lease.task_id for lease in branches) == ["B", "C"]
    by_task = {lease.task_id: lease for lease in branches}
    assert by_task["B"].ticket["dependencies"] == [a.ticket_id]
    assert by_task["C"].ticket["dependencies"] == [a.ticket_id]

    # D waits for both.
    expect(py_worker.complete(by_task["C"]), 200)
    assert py_worker.poll(max_tickets=10, wait_ms=400) == [], "D leasable while B still runs"
    assert tickets_by_task(api.workflow(workflow_id))["D"]["phase"] == "WAITING"
    expect(py_worker.complete(by_task["B"]), 200)

    [d] = py_worker.poll_until(1, timeout=10)
    assert d.task_id == "D"
    assert sorted(d.ticket["dependencies"]) == sorted([by_task["B"].ticket_id, by_task["C"].ticket_id])
    expect(py_worker.complete(d), 200)

    view = api.wait_status(workflow_id, {"COMPLETED"}, timeout=10)
    assert view["metrics"]["total"] == 4 and view["metrics"]["successful"] == 4
    tickets = tickets_by_task(view)
    assert tickets["D"]["started_at"] >= max(tickets["B"]["completed_at"], tickets["C"]["completed_at"])


def test_random_dag_of_200_tasks_with_two_reference_workers(server, api, start_worker):
    dag = workload.generate("random", 200, 42)
    plan = workload.dag_plan(f"random-n200-s42", dag)
    start = time.monotonic()
    created = expect(api.submit_decision(workload.decision(plan)), 201)
    workflow_id = created["workflow_id"]
    start_worker(server.url, concurrency=4, worker_id="ref-a")
    start_worker(server.url, concurrency=4, worker_id="ref-b")

    view = api.wait_terminal(workflow_id, timeout=90)
    elapsed = time.monotonic() - start
    assert view["status"] == "COMPLETED", f"status {view['status']} reason {view.get('reason')!r}"
    assert view["metrics"]["total"] == 200
    assert view["metrics"]["successful"] == 200
    tickets = tickets_by_task(view)
    assert len(tickets) == 200
    assert all(t["status"] == "COMPLETED" for t in tickets.values())
    assert {t["worker_id"] for t in tickets.values()} <= {"ref-a", "ref-b"}

    # CONTRACTS.md: completed_at > started_at.
    not_after = [(t["task_id"], t["started_at"], t["completed_at"]) for t in tickets.values()
                 if not t["completed_at"] > t["started_at"]]
    assert not not_after, f"{len(not_after)} tickets with completed_at <= started_at, e.g. {not_after[:5]}"

    violations = []
    for i, deps in enumerate(dag.dependencies):
        mine = tickets[f"task-{i}"]
        for d in deps:
            parent = tickets[f"task-{d}"]
            if mine["started_at"] < parent["completed_at"]:
                violations.append(f"task-{i} started {mine['started_at']} before task-{d} completed {parent['completed_at']}")
    assert not violations, violations[:10]

    counts = completions_by_ticket(api.history(workflow_id))
    assert counts == {t["ticket_id"]: 1 for t in tickets.values()}
    print(f"200-task DAG completed in {elapsed:.1f}s")
