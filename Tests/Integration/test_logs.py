"""Structured logs: `serve --log-format json` writes one JSON object per line, the libraries' and
librdkafka's lines included, and the workflow lifecycle lines carry the workflow's ids."""

import json
import socket
import time

from harness import Api, PyWorker, expect
import workload

IDS = ("workflow_id", "plan_id", "intent_id", "decision_id", "correlation_id")


def json_lines(server) -> list[dict]:
    """Every line the server wrote (stdout and stderr), parsed; the harness's own start markers
    (`===== …`) are skipped. A line that is not one JSON object fails the test, quoted."""
    records = []
    for number, line in enumerate(server.log_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("===== "):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise AssertionError(f"line {number} is not JSON ({error}): {line[:300]}") from None
        assert isinstance(record, dict), f"line {number} is not an object: {line[:300]}"
        for key in ("timestamp", "level", "logger", "message"):
            assert key in record, f"line {number} has no {key}: {line[:300]}"
        assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == 24, record["timestamp"]
        records.append(record)
    return records


def test_json_logs_carry_the_lifecycle_of_a_workflow_with_its_ids(start_server):
    server = start_server(extra_args=["--log-format", "json", "--log-level", "debug"])
    api = Api(server.url)
    worker = PyWorker(api, "log-worker")
    worker.register()
    # One workflow that completes (with a retry), one that fails after its retries.
    ok_plan = workload.plan("logs-ok", [workload.task("a"), workload.task("b", ["a"])], risk_band="low")
    ok_decision = workload.decision(ok_plan)
    ok_id = expect(api.submit_decision(ok_decision), 201)["workflow_id"]
    attempts: dict[str, int] = {}

    def retry_once(lease):
        attempts[lease.ticket_id] = attempts.get(lease.ticket_id, 0) + 1
        return "fail" if lease.task_id == "a" and attempts[lease.ticket_id] == 1 else "complete"

    worker.run_workflow(ok_id, retry_once)
    bad_plan = workload.plan("logs-bad", [workload.task("x")], risk_band="low")
    bad_id = expect(api.submit_decision(workload.decision(bad_plan)), 201)["workflow_id"]
    worker.run_workflow(bad_id, lambda lease: "fail-final")
    assert api.workflow(ok_id)["status"] == "COMPLETED"
    assert api.workflow(bad_id)["status"] == "FAILED"
    server.terminate()

    records = json_lines(server)
    assert len(records) > 10
    ok_lines = [r for r in records if r.get("workflow_id") == ok_id]
    messages = [r["message"] for r in ok_lines]
    for expected in ("workflow accepted", "workflow started", "ticket leased", "ticket failed",
                     "ticket completed", "workflow completed"):
        assert expected in messages, (expected, messages)
    for record in ok_lines:
        for key in IDS:
            assert record.get(key), (key, record)
        assert record["plan_id"] == "logs-ok"
        assert record["decision_id"] == ok_decision["decision_id"]
        assert record["correlation_id"] == ok_decision["correlation_id"]
    lifecycle = [r for r in ok_lines if r["message"].startswith("workflow ")]
    assert {r["level"] for r in lifecycle} == {"info"}, lifecycle
    tickets = [r for r in ok_lines if r["message"].startswith("ticket ")]
    assert {r["level"] for r in tickets} == {"debug"}, tickets
    assert all(r.get("ticket_id") for r in tickets)
    assert all(r.get("worker_id") == "log-worker" for r in tickets if r["message"] == "ticket leased")
    [failed] = [r for r in records if r.get("workflow_id") == bad_id and r["message"] == "workflow failed"]
    assert failed["level"] == "info" and failed["reason"], failed
    # Library lines are JSON too: ServiceLifecycle's start and shutdown lines, at debug.
    assert any(r.get("source") == "ServiceLifecycle" for r in records)


def test_json_mode_turns_librdkafka_lines_into_json(start_server):
    # A broker address nobody listens on: librdkafka logs its connection failures.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    server = start_server(
        extra_args=["--log-format", "json"],
        env={"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{dead}", "ORCHESTRATOR_OUTBOX_SINK": "both",
             "KAFKA_CONSUMERS_ENABLED": "false"},
        wait_ready=False,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(r["logger"] == "librdkafka" for r in json_lines(server)):
            break
        time.sleep(0.3)
    server.terminate()
    records = json_lines(server)
    kafka = [r for r in records if r["logger"] == "librdkafka"]
    assert kafka, "no librdkafka line within 20 s"
    assert all(r.get("facility") and r.get("client") for r in kafka), kafka[:3]
    assert any(str(dead) in r["message"] for r in kafka), kafka[:3]


def test_log_format_is_checked(binary, tmp_path):
    import subprocess

    done = subprocess.run([binary, "serve", "--data-dir", str(tmp_path / "d"), "--log-format", "yaml"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "log format must be json, text or auto" in done.stderr
