"""Hardening of the real server: graceful shutdown with long polls parked, aborted uploads, and a
full disk (a small tmpfs as the data directory).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

import workload
from harness import TEST_TOKEN, Api, PyWorker, expect

AUTH_LINE = f"Authorization: Bearer {TEST_TOKEN}\r\n".encode()


def test_sigterm_with_parked_long_polls_exits_at_once(start_server, start_worker):
    server = start_server()
    api = Api(server.url)
    # A reference worker (it long-polls 20 s at a time) and a Python worker parked in a long poll.
    start_worker(server.url, concurrency=2, worker_id="shutdown-ref")
    parked = PyWorker(api, "shutdown-py")
    parked.register()
    answer: dict = {}

    def long_poll() -> None:
        try:
            answer["response"] = requests.post(
                f"{server.url}/api/v1/workers/shutdown-py/poll",
                json={"max_tickets": 1, "wait_ms": 30000},
                headers={"Authorization": f"Bearer {TEST_TOKEN}"},
                timeout=40,
            )
        except requests.RequestException as error:
            answer["error"] = error

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(1.5)  # both workers are parked in their long polls by now
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    status = server.proc.wait(timeout=30)
    elapsed = time.monotonic() - started
    poller.join(timeout=30)
    assert status == 0, server.log_tail(40)
    # It used to wait for the workers' long polls (20 s); the target is 2 s, the bound here leaves
    # room for a loaded machine.
    assert elapsed < 5, f"SIGTERM took {elapsed:.1f} s to exit\n{server.log_tail(40)}"
    response = answer.get("response")
    assert response is not None, f"the parked long poll got no answer: {answer.get('error')}"
    assert response.status_code == 200, (response.status_code, response.text[:200])
    assert response.json()["tickets"] == [], response.text[:200]


def test_aborted_uploads_are_no_server_errors(server):
    host, port = "127.0.0.1", server.port
    for _ in range(5):
        with socket.create_connection((host, port), timeout=10) as connection:
            connection.sendall(
                b"POST /api/v1/plans?start=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + AUTH_LINE
                + b"Content-Length: 10000000\r\n\r\n" + b'{"plan_id": "' + b"x" * 500_000
            )
    time.sleep(1.0)
    expect(requests.get(server.url + "/ready", timeout=5), 200)
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert "status=500" not in log and "request failed" not in log, log[-3000:]


def _mount_tmpfs(path, megabytes: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
                            capture_output=True, text=True)
    return result.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI runs as root)")
def test_a_full_disk_answers_503_and_ready_recovers_without_restart(start_server, tmp_path):
    volume = tmp_path / "small-volume"
    assert _mount_tmpfs(volume, 24), "mount -t tmpfs failed"
    try:
        server = start_server(data_dir=volume / "data")
        api = Api(server.url)
        accepted = []
        for k in range(3):
            plan = workload.plan(f"disk-ok-{k}", [workload.task("a")], risk_band="low")
            expect(api.submit_plan(plan, start=True), 202)
            accepted.append(workload.workflow_id_for(f"disk-ok-{k}"))
        # Fill the volume, leaving almost nothing.
        filler = volume / "filler"
        with open(filler, "wb") as out:
            chunk = b"\0" * (1 << 20)
            try:
                while True:
                    out.write(chunk)
                    out.flush()
            except OSError:
                pass
        refused = None
        for k in range(200):
            tasks = [workload.task(f"t{i}") for i in range(50)]
            plan = workload.plan(f"disk-full-{k}", tasks, risk_band="low")
            response = api.submit_plan(plan, start=True)
            if response.status_code != 202:
                refused = response
                break
        assert refused is not None, "the store never refused a write on a full volume"
        assert refused.status_code == 503, (refused.status_code, refused.text[:500])
        body = refused.json()
        assert body["error"]["code"] == "unavailable"
        assert "full" in body["error"]["message"].lower(), body
        ready = requests.get(server.url + "/ready", timeout=5)
        assert ready.status_code == 503, ready.text
        assert ready.json()["checks"]["store_writes"].startswith("error"), ready.text

        # Space again: readiness comes back by itself (a write probe), and intake works.
        filler.unlink()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and requests.get(server.url + "/ready", timeout=5).status_code != 200:
            time.sleep(0.2)
        assert requests.get(server.url + "/ready", timeout=5).status_code == 200
        plan = workload.plan("disk-after", [workload.task("a")], risk_band="low")
        expect(api.submit_plan(plan, start=True), 202)
        # Nothing accepted before the outage was lost or torn.
        for workflow_id in accepted + [workload.workflow_id_for("disk-after")]:
            assert api.workflow(workflow_id)["workflow_id"] == workflow_id
        server.terminate()
    finally:
        subprocess.run(["umount", "-l", str(volume)], capture_output=True)


def _rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status", encoding="utf-8"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_uploads_beyond_the_body_budget_are_refused_before_they_are_buffered(start_server):
    import harness

    config = dict(harness.DEFAULT_CONFIG)
    config["http"] = {"max_buffered_body_bytes": 48 * 1024 * 1024}
    server = start_server(config=config)
    connections = []
    refused = 0
    try:
        # 20 slow uploads that declare 15 MB and send 4 MB each: at most 3 fit the 48 MB budget.
        for _ in range(20):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            connection.sendall(
                b"POST /api/v1/plans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + AUTH_LINE
                + b"Content-Length: 15000000\r\n\r\n"
            )
            try:
                connection.sendall(b'{"plan_id": "' + b"x" * (4 * 1024 * 1024))
            except OSError:
                pass
            connections.append(connection)
        time.sleep(1.0)
        for connection in connections:
            connection.settimeout(0.5)
            try:
                head = connection.recv(4096)
            except (socket.timeout, OSError):
                continue
            if head.startswith(b"HTTP/1.1 503"):
                assert b"retry-after: 1" in head.lower(), head[:400]
                refused += 1
        rss = _rss_mib(server.pid)
        assert refused >= 15, f"only {refused} of 20 over-budget uploads were refused"
        assert rss < 250, f"server RSS {rss:.0f} MiB with the uploads parked"
    finally:
        for connection in connections:
            connection.close()
    # The budget is given back: a normal submission goes through.
    time.sleep(0.5)
    plan = workload.plan("after-uploads", [workload.task("a")], risk_band="low")
    expect(Api(server.url).submit_plan(plan, start=True), 202)
