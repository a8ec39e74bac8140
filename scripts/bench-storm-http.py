#!/usr/bin/env python3
"""The SLA-deadline storm of issue 10 over HTTP, against any build of the binary (so that an older
build without `bench isolation` can be measured in the same sitting).

`serve` on a temporary SQLite directory with tickets whose deadlines pass one second after
acceptance; a plan of --tasks tasks that no worker can run is accepted; then a small unrelated plan
is submitted every 100 ms (each with a 10 s timeout) while the deadlines pass, and the server's
resident memory is sampled. It ends when `orchestration_sla_violations_total` on /metrics reaches
--tasks, after --max-seconds, or when the server's memory passes --max-rss-mib.

Usage: python3 scripts/bench-storm-http.py --binary PATH [--tasks 10000] [--max-seconds 120]
Prints one line of figures; needs only the Python standard library.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import socket
import subprocess
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


def post(url: str, body: bytes, timeout: float) -> int:
    headers = {"Content-Type": "application/json"}
    if TOKEN["value"]:
        headers["Authorization"] = f"Bearer {TOKEN['value']}"
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def violations(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
            text = response.read().decode()
    except (urllib.error.URLError, TimeoutError):
        return -1
    return int(sum(float(m) for m in re.findall(r"^orchestration_sla_violations_total\{[^}]*\} ([0-9.e+]+)$",
                                                 text, re.MULTILINE)))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--max-rss-mib", type=float, default=4096)
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="orchestrator-storm-"))
    config = work / "c.json"
    config.write_text(json.dumps({"engine": {"policies": {
        "tickets": {"min_timeout_ms": 1000, "timeout_multiplier": 1},
        "validation": {"max_tasks": max(args.tasks, 100_000)}}}}))
    tasks = [{"task_id": f"t{i}", "task_type": "noop", "estimated_duration_ms": 1000,
              "required_capabilities": ["nobody"]} for i in range(args.tasks)]
    big = json.dumps({"plan_id": "storm", "version": "1", "intent_id": "i", "risk_band": "low",
                      "valid_until": 4102444800000, "tasks": tasks}).encode()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--metrics-port", "0",
                               "--data-dir", str(work / "data"), "--config", str(config), "--log-level", "error"],
                              stdout=open(work / "server.log", "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/ready", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        if (work / "data" / "admin.token").exists():
            TOKEN["value"] = (work / "data" / "admin.token").read_text().strip()
        started = time.monotonic()
        status = post(url + "/api/v1/plans?start=true", big, timeout=300)
        accept_s = time.monotonic() - started
        latencies: list[float] = []
        timeouts = 0
        peak = rss_mib(server.pid)
        raised = 0
        k = 0
        outcome = "max time"
        while time.monotonic() - started < args.max_seconds:
            k += 1
            small = json.dumps({"plan_id": f"probe-{k}", "version": "1", "intent_id": "i", "risk_band": "low",
                                "valid_until": 4102444800000,
                                "tasks": [{"task_id": "a", "task_type": "noop",
                                           "required_capabilities": ["nobody"]}]}).encode()
            sent = time.monotonic()
            try:
                post(url + "/api/v1/plans?start=true", small, timeout=10)
                latencies.append((time.monotonic() - sent) * 1000)
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                timeouts += 1
            peak = max(peak, rss_mib(server.pid))
            if peak > args.max_rss_mib:
                outcome = f"stopped: RSS over {args.max_rss_mib:.0f} MiB"
                break
            if k % 10 == 0:
                raised = violations(url)
                if raised >= args.tasks:
                    outcome = "every incident raised"
                    break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        print(f"storm {args.tasks} tasks: accepted ({status}) in {accept_s:.2f} s; {outcome} after {elapsed:.1f} s "
              f"({raised} SLA incidents); unrelated submissions: {len(latencies)} answered, p50 "
              f"{percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, max "
              f"{max(latencies, default=0):.1f} ms, {timeouts} timed out (10 s); peak RSS {peak:.0f} MiB")
    finally:
        server.kill()
        server.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
