#!/usr/bin/env python3
"""Soak: `serve` on a temporary SQLite directory with two reference workers, a moderate steady load
of small plans for a while; the server's resident memory and open file descriptors are sampled and
must stay flat. Not part of CI (it runs for 30 minutes by default).

Usage:
  python3 scripts/soak.py --binary .build/release/orchestrator-dynamic [--minutes 30] [--rate 5]

Prints a sample line every --sample-seconds and a verdict at the end; exits 1 when memory or file
descriptors grew (the mean of the last third above the mean of the second third by more than
--tolerance, default 15 %), when a workflow did not complete, or when a process died.
Needs only the Python standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The server's admin token (builds with authentication create `<data-dir>/admin.token` at start);
# empty for older builds, which need none.
TOKEN = {"value": ""}


def call(method: str, url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if TOKEN["value"]:
        headers["Authorization"] = f"Bearer {TOKEN['value']}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def plan(index: int) -> dict:
    tasks = [
        {"task_id": "a", "task_type": "create", "description": "a", "dependencies": [],
         "parameters": {"work": "sleep", "sleep_ms": "20"}},
        {"task_id": "b", "task_type": "create", "description": "b", "dependencies": ["a"],
         "parameters": {"work": "noop"}},
        {"task_id": "c", "task_type": "create", "description": "c", "dependencies": ["a"],
         "parameters": {"work": "sleep", "sleep_ms": "10"}},
        {"task_id": "d", "task_type": "create", "description": "d", "dependencies": ["b", "c"],
         "parameters": {"work": "noop"}},
    ]
    now = int(time.time() * 1000)
    return {"plan_id": f"soak-{index}", "version": "1", "intent_id": f"soak-intent-{index}", "risk_band": "low",
            "created_at": now, "valid_until": now + 86_400_000, "tasks": tasks}


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=5, help="plans submitted per second")
    parser.add_argument("--sample-seconds", type=float, default=30)
    parser.add_argument("--tolerance", type=float, default=0.15)
    args = parser.parse_args()

    workdir = pathlib.Path(tempfile.mkdtemp(prefix="orchestrator-soak-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(workdir / "server.log", "w")
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--metrics-port", "0",
                               "--data-dir", str(workdir / "data"), "--log-level", "warning"],
                              stdout=log, stderr=subprocess.STDOUT)
    workers: list[subprocess.Popen] = []
    samples: list[tuple[float, float, int, int]] = []
    submitted: list[str] = []
    failures: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if call("GET", url + "/ready", timeout=2)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        token_file = workdir / "data" / "admin.token"
        if token_file.exists():
            TOKEN["value"] = token_file.read_text().strip()
        token_args = ["--token-file", str(token_file)] if token_file.exists() else []
        workers += [subprocess.Popen([args.binary, "worker", "--url", url, "--concurrency", "8", "--simulation-scale",
                                      "0", "--worker-id", f"soak-{k}", "--log-level", "warning", *token_args],
                                     stdout=open(workdir / f"worker-{k}.log", "w"), stderr=subprocess.STDOUT)
                    for k in range(2)]
        start = time.monotonic()
        end = start + args.minutes * 60
        next_sample = start
        index = 0
        print(f"soak: {args.minutes} min at {args.rate} plans/s against {url}; data in {workdir}", flush=True)
        print("elapsed_s  rss_mib  open_fds  plans", flush=True)
        while time.monotonic() < end:
            status, body = call("POST", url + "/api/v1/plans?start=true", plan(index))
            if status == 202 and body.get("workflow"):
                submitted.append(body["workflow"]["workflow_id"])
            else:
                failures.append(f"submission {index}: {status} {str(body)[:200]}")
            index += 1
            if time.monotonic() >= next_sample:
                sample = (time.monotonic() - start, rss_mib(server.pid), open_files(server.pid), index)
                samples.append(sample)
                print(f"{sample[0]:9.0f}  {sample[1]:7.1f}  {sample[2]:8d}  {sample[3]:5d}", flush=True)
                next_sample += args.sample_seconds
            for process in [server, *workers]:
                if process.poll() is not None:
                    failures.append(f"process {process.args[1]} exited with {process.returncode}")
                    raise SystemExit
            time.sleep(max(0.0, 1 / args.rate - 0.002))
    except SystemExit:
        pass
    finally:
        # Let the last workflows finish, then check every one completed.
        time.sleep(10)
        incomplete = 0
        for workflow_id in submitted[-200:]:
            status, body = call("GET", f"{url}/api/v1/workflows/{workflow_id}")
            if status != 200 or body.get("status") != "COMPLETED":
                incomplete += 1
        if incomplete:
            failures.append(f"{incomplete} of the last {min(200, len(submitted))} workflows not COMPLETED")
        for process in [*workers, server]:
            process.send_signal(signal.SIGTERM)
        for process in [*workers, server]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    third = max(1, len(samples) // 3)
    middle, last = samples[third:2 * third], samples[-third:]
    for name, column in (("RSS", 1), ("open files", 2)):
        before, after = mean([s[column] for s in middle]), mean([s[column] for s in last])
        grew = before > 0 and after > before * (1 + args.tolerance)
        print(f"{name}: mean {before:.1f} in the second third, {after:.1f} in the last third"
              f"{' — GREW' if grew else ' — flat'}")
        if grew:
            failures.append(f"{name} grew from {before:.1f} to {after:.1f}")
    print(f"plans submitted: {len(submitted)}; failures: {len(failures)}")
    for failure in failures[:20]:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
