"""The CLI commands other than `serve` and `worker`, run as real processes:

- `run FILE`: each documented exit status, from an input built to produce it: 0 COMPLETED, 1 FAILED
  (a failing task; a plan that fails validation), 2 unreadable input, 3 PARTIAL, 4 REJECTED,
  5 parked awaiting approval (and 0 with `--approve`);
- `migrate` on a fresh SQLite data directory (prints the versions it applied; a second run applies
  none);
- `submit` (with and without `--wait`) and `status` against a running `serve` with a reference
  `worker`;
- `replay ID` against the stored history of finished workflows (from `run` and from `serve`), and
  against a tampered store: a changed workflow row, a removed history entry.
"""

from __future__ import annotations

import json
import pathlib
import sqlite3
import subprocess

import pytest

from harness import DEFAULT_CONFIG, REPO_ROOT, Api
import workload

EXAMPLES = REPO_ROOT / "examples"
CLI_TIMEOUT_S = 180  # a hang is a failure; a slow machine is not (the runs take a second or two)


def cli(binary: str, *args: str, timeout: float = CLI_TIMEOUT_S, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Runs `orchestrator-dynamic ARGS…`; stdout and stderr as text."""
    return subprocess.run([binary, *args], capture_output=True, timeout=timeout, input=stdin if stdin is not None else b"",
                          cwd=REPO_ROOT)


def out(result: subprocess.CompletedProcess) -> str:
    return result.stdout.decode("utf-8", "replace")


def err(result: subprocess.CompletedProcess) -> str:
    return result.stderr.decode("utf-8", "replace")


def describe(result: subprocess.CompletedProcess) -> str:
    return (f"`{' '.join(map(str, result.args[1:]))}` exited {result.returncode}\n--- stdout\n{out(result)[-3000:]}"
            f"\n--- stderr\n{err(result)[-3000:]}")


def write_json(path: pathlib.Path, body: dict) -> pathlib.Path:
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path) -> pathlib.Path:
    """The test configuration (short backoffs, few retries) for `run` and `replay`."""
    return write_json(tmp_path / "config.json", DEFAULT_CONFIG)


def run_cli(binary: str, input_path: pathlib.Path | str, data_dir: pathlib.Path, config: pathlib.Path,
            *extra: str) -> subprocess.CompletedProcess:
    return cli(binary, "run", str(input_path), "--data-dir", str(data_dir), "--config", str(config),
               "--simulation-scale", "0", "--workers", "2", "--json", *extra)


def result_json(result: subprocess.CompletedProcess) -> dict:
    """The consolidated result `run --json` prints last (a JSON object after the progress lines)."""
    text = out(result)
    start = text.find("\n{")
    assert start >= 0, f"no JSON result in the output: {describe(result)}"
    return json.loads(text[start + 1:])


def fail_task(task_id: str, deps: list[str] | tuple[str, ...] = ()) -> dict:
    return workload.task(task_id, deps, parameters={"work": "fail", "retryable": "false"})


# --- run: the exit statuses ---------------------------------------------------------------------------


def test_run_completed_exits_0(binary, tmp_path, config_file):
    result = run_cli(binary, EXAMPLES / "decision.json", tmp_path / "data", config_file)
    assert result.returncode == 0, describe(result)
    body = result_json(result)
    assert body["status"] == "COMPLETED", body
    assert (tmp_path / "data" / "orchestrator.sqlite").exists()


def test_run_a_plan_file_completed_exits_0(binary, tmp_path, config_file):
    plan = workload.chain_plan("cli-plan-ok", 3)
    result = run_cli(binary, write_json(tmp_path / "plan.json", plan), tmp_path / "data", config_file)
    assert result.returncode == 0, describe(result)
    assert result_json(result)["status"] == "COMPLETED"


def test_run_failed_exits_1(binary, tmp_path, config_file):
    # One task that fails for good: nothing completed, nothing kept -> FAILED.
    plan = workload.plan("cli-failed", [fail_task("only")], risk_band="low")
    result = run_cli(binary, write_json(tmp_path / "decision.json", workload.decision(plan)), tmp_path / "data",
                     config_file)
    assert result.returncode == 1, describe(result)
    assert result_json(result)["status"] == "FAILED"


def test_run_plan_failing_validation_exits_1(binary, tmp_path, config_file):
    result = run_cli(binary, EXAMPLES / "invalid-plan.json", tmp_path / "data", config_file)
    assert result.returncode == 1, describe(result)
    assert "FAILED" in out(result) + err(result), describe(result)


@pytest.mark.parametrize("content", [None, b"{not json", b"\x00\x01 not a document"],
                         ids=["missing-file", "malformed-json", "binary-garbage"])
def test_run_unreadable_input_exits_2(binary, tmp_path, config_file, content):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_bytes(content)
    result = run_cli(binary, path, tmp_path / "data", config_file)
    assert result.returncode == 2, describe(result)
    assert "error" in err(result).lower(), describe(result)


def test_run_unreadable_configuration_exits_2(binary, tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text('{"no_such_key": 1}', encoding="utf-8")
    result = run_cli(binary, EXAMPLES / "decision.json", tmp_path / "data", bad)
    assert result.returncode == 2, describe(result)


def test_run_partial_exits_3(binary, tmp_path, config_file):
    # Two independent tasks: `kept` completes, `broken` fails for good. `kept` is no predecessor of
    # `broken`, so it is not compensated: it is kept -> PARTIAL.
    plan = workload.plan("cli-partial", [workload.task("kept"), fail_task("broken")], risk_band="low")
    result = run_cli(binary, write_json(tmp_path / "decision.json", workload.decision(plan)), tmp_path / "data",
                     config_file)
    assert result.returncode == 3, describe(result)
    body = result_json(result)
    assert body["status"] == "PARTIAL", body


def test_run_rejected_exits_4(binary, tmp_path, config_file):
    plan = workload.chain_plan("cli-rejected", 2)
    decision = workload.decision(plan, final_decision="reject")
    result = run_cli(binary, write_json(tmp_path / "decision.json", decision), tmp_path / "data", config_file)
    assert result.returncode == 4, describe(result)
    assert result_json(result)["status"] == "REJECTED"


def test_run_awaiting_approval_exits_5_and_approve_completes_it(binary, tmp_path, config_file):
    plan = workload.chain_plan("cli-review", 2)
    decision = write_json(tmp_path / "decision.json", workload.decision(plan, final_decision="review_required"))
    result = run_cli(binary, decision, tmp_path / "data-1", config_file)
    assert result.returncode == 5, describe(result)
    assert "AWAITING_APPROVAL" in out(result), describe(result)

    approved = run_cli(binary, decision, tmp_path / "data-2", config_file, "--approve")
    assert approved.returncode == 0, describe(approved)
    assert result_json(approved)["status"] == "COMPLETED"


# --- migrate ----------------------------------------------------------------------------------------


def test_migrate_fresh_sqlite_then_nothing_to_apply(binary, tmp_path):
    data = tmp_path / "fresh"
    first = cli(binary, "migrate", "--data-dir", str(data))
    assert first.returncode == 0, describe(first)
    with sqlite3.connect(data / "orchestrator.sqlite") as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert versions and versions == list(range(1, len(versions) + 1)), versions
    assert {"workflows", "tickets", "history", "timers", "outbox"} <= tables, tables
    assert "applied migration(s) " + ", ".join(map(str, versions)) in out(first), describe(first)

    second = cli(binary, "migrate", "--data-dir", str(data))
    assert second.returncode == 0, describe(second)
    assert "schema up to date" in out(second) and "applied" not in out(second), describe(second)
    with sqlite3.connect(data / "orchestrator.sqlite") as db:
        assert [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")] == versions


# --- submit and status against a running server ----------------------------------------------------


def test_submit_wait_and_status_against_a_server_with_a_worker(binary, start_server, start_worker, tmp_path):
    server = start_server()
    start_worker(server.url, concurrency=2, worker_id="cli-worker")
    url = ["--url", server.url]

    # submit without --wait: the server's answer (201, created) as JSON, exit 0.
    plan_a = workload.chain_plan("cli-submit-a", 3)
    decision_a = write_json(tmp_path / "a.json", workload.decision(plan_a))
    result = cli(binary, "submit", str(decision_a), *url)
    assert result.returncode == 0, describe(result)
    answer = json.loads(out(result))
    workflow_a = answer["workflow_id"]
    assert answer["created"] is True and workflow_a == workload.workflow_id_for("cli-submit-a"), answer

    # The same decision again: accepted, not created again.
    again = cli(binary, "submit", str(decision_a), *url)
    assert again.returncode == 0, describe(again)
    assert json.loads(out(again))["created"] is False

    # submit --wait: returns once the workflow is terminal, exit 0 for COMPLETED.
    plan_b = workload.plan("cli-submit-b", [workload.task("x"), workload.task("y", ["x"])])
    result = cli(binary, "submit", str(write_json(tmp_path / "b.json", workload.decision(plan_b))), "--wait", *url)
    assert result.returncode == 0, describe(result)
    workflow_b = workload.workflow_id_for("cli-submit-b")
    assert f"workflow {workflow_b}: COMPLETED" in out(result), describe(result)
    assert Api(server.url).workflow(workflow_b)["status"] == "COMPLETED"

    # submit --wait of a decision whose workflow fails: exit 1 and the status printed.
    plan_c = workload.plan("cli-submit-c", [fail_task("only")], risk_band="low")
    result = cli(binary, "submit", str(write_json(tmp_path / "c.json", workload.decision(plan_c))), "--wait", *url)
    assert result.returncode == 1, describe(result)
    assert f"workflow {workload.workflow_id_for('cli-submit-c')}: FAILED" in out(result), describe(result)

    # status ID: the workflow with its tickets, once A has finished.
    Api(server.url).wait_status(workflow_a, {"COMPLETED"}, timeout=60)
    result = cli(binary, "status", workflow_a, *url)
    assert result.returncode == 0, describe(result)
    text = out(result)
    assert f"workflow   {workflow_a}: COMPLETED" in text, describe(result)
    assert "3 total, 3 successful, 0 failed" in text, describe(result)
    assert sum(" COMPLETED " in line for line in text.splitlines() if line.startswith("  ")) == 3, describe(result)

    # status: the list holds every workflow with its status.
    result = cli(binary, "status", *url)
    assert result.returncode == 0, describe(result)
    rows = {line.split()[0]: line.split()[1] for line in out(result).splitlines()[1:] if line.strip()}
    assert rows == {workflow_a: "COMPLETED", workflow_b: "COMPLETED",
                    workload.workflow_id_for("cli-submit-c"): "FAILED"}, describe(result)
    result = cli(binary, "status", "--state", "FAILED", *url)
    assert result.returncode == 0 and workflow_a not in out(result), describe(result)
    assert workload.workflow_id_for("cli-submit-c") in out(result), describe(result)

    # Errors: an unknown workflow (1), unreadable input (2), an unreachable server (2).
    result = cli(binary, "status", "orch-no-such-workflow", *url)
    assert result.returncode == 1, describe(result)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{not json")
    result = cli(binary, "submit", str(bad), *url)
    assert result.returncode == 2, describe(result)
    server.terminate()
    result = cli(binary, "submit", str(decision_a), *url)
    assert result.returncode == 2, describe(result)
    result = cli(binary, "status", workflow_a, *url)
    assert result.returncode == 2, describe(result)


# A plan is answered {plan_id, workflow: {workflow_id, …}}: `--wait` must follow that workflow (it once
# read the outcome from the top level only and returned at once with exit 0).
def test_submit_wait_of_a_plan_waits_for_its_workflow(binary, start_server, start_worker, tmp_path):
    server = start_server()
    start_worker(server.url, concurrency=2, worker_id="cli-plan-worker")
    plan = workload.plan("cli-submit-plan", [workload.task("x"), fail_task("y", ["x"])], risk_band="low")
    result = cli(binary, "submit", str(write_json(tmp_path / "plan.json", plan)), "--wait", "--url", server.url)
    workflow_id = workload.workflow_id_for("cli-submit-plan")
    assert f"workflow {workflow_id}: FAILED" in out(result), describe(result)
    assert result.returncode == 1, describe(result)


# --- replay -----------------------------------------------------------------------------------------


def replay(binary: str, workflow_id: str, data_dir: pathlib.Path, config: pathlib.Path) -> subprocess.CompletedProcess:
    return cli(binary, "replay", workflow_id, "--data-dir", str(data_dir), "--config", str(config))


def test_replay_of_a_finished_workflow_and_of_a_tampered_store(binary, tmp_path, config_file):
    # A finished workflow with a failure, a compensation and a kept branch (PARTIAL): a history with
    # more than the happy path in it.
    tasks = [workload.task("a"), fail_task("b", ["a"]), workload.task("c")]
    plan = workload.plan("cli-replay", tasks, risk_band="low")
    data = tmp_path / "data"
    result = run_cli(binary, write_json(tmp_path / "decision.json", workload.decision(plan)), data, config_file)
    assert result.returncode == 3, describe(result)
    workflow_id = workload.workflow_id_for("cli-replay")
    database = data / "orchestrator.sqlite"
    with sqlite3.connect(database) as db:
        events = db.execute("SELECT count(*) FROM history WHERE workflow_id = ?", (workflow_id,)).fetchone()[0]
    assert events >= 5, events

    ok = replay(binary, workflow_id, data, config_file)
    assert ok.returncode == 0, describe(ok)
    assert f"replay OK: {events} event(s) rebuild workflow {workflow_id} exactly (PARTIAL, 4 ticket(s))" in out(ok), \
        describe(ok)

    unknown = replay(binary, "orch-no-such-workflow", data, config_file)
    assert unknown.returncode == 2, describe(unknown)
    assert "no workflow orch-no-such-workflow" in err(unknown), describe(unknown)

    # Tamper with the stored state (status and reason in the workflow row): replay must see it.
    with sqlite3.connect(database) as db:
        [state_text] = db.execute("SELECT state FROM workflows WHERE workflow_id = ?", (workflow_id,)).fetchone()
        state = json.loads(state_text)
        assert state["status"] == "PARTIAL", state.get("status")
        state["status"] = "COMPLETED"
        db.execute("UPDATE workflows SET state = ?, status = 'COMPLETED' WHERE workflow_id = ?",
                   (json.dumps(state), workflow_id))
    tampered = replay(binary, workflow_id, data, config_file)
    assert tampered.returncode == 1, describe(tampered)
    assert "replay MISMATCH" in out(tampered) and "status: stored COMPLETED, replayed PARTIAL" in out(tampered), \
        describe(tampered)

    # Put the row back (replay agrees again), then drop the history's last event instead.
    with sqlite3.connect(database) as db:
        db.execute("UPDATE workflows SET state = ?, status = 'PARTIAL' WHERE workflow_id = ?", (state_text, workflow_id))
    assert replay(binary, workflow_id, data, config_file).returncode == 0
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM history WHERE workflow_id = ? AND sequence = "
                   "(SELECT max(sequence) FROM history WHERE workflow_id = ?)", (workflow_id, workflow_id))
    truncated = replay(binary, workflow_id, data, config_file)
    assert truncated.returncode == 1, describe(truncated)
    assert "replay MISMATCH" in out(truncated), describe(truncated)


def test_replay_of_a_workflow_run_by_serve_and_a_worker(binary, start_server, start_worker, tmp_path, config_file):
    server = start_server()
    start_worker(server.url, concurrency=4, worker_id="replay-worker")
    dag = workload.generate("random", 30, 11)
    plan = workload.dag_plan("cli-replay-serve", dag)
    api = Api(server.url)
    workflow_id = api.submit_decision(workload.decision(plan)).json()["workflow_id"]
    assert api.wait_terminal(workflow_id, timeout=120)["status"] == "COMPLETED"
    assert server.terminate() == 0
    result = replay(binary, workflow_id, server.data_dir, server.config_path)
    assert result.returncode == 0, describe(result)
    assert f"rebuild workflow {workflow_id} exactly (COMPLETED, 30 ticket(s))" in out(result), describe(result)
