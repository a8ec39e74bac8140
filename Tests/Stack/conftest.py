"""The local stack of scripts/stack.sh, started once for the stack test in a temporary STACK_DIR and
always stopped again (`stack.sh down` in the fixture's teardown, also on SIGTERM from a time limit).
A failing test's report carries the tail of every component's log."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
STACK_SH = REPO_ROOT / "scripts" / "stack.sh"

# Short ownership and lease TTLs: the surviving replica takes the killed one's workflows over, and
# the tickets its worker held are retried, within seconds (docs/CONFIGURATION.md, "Several replicas").
STACK_ENV = {
    "STACK_PORT_BASE": os.environ.get("STACK_PORT_BASE", "auto"),
    "STACK_OWNERSHIP_TTL_MS": "1500",
    "STACK_LEASE_TTL_MS": "3000",
    "STACK_SIMULATION_SCALE": "0.01",
    "STACK_WORKER_CONCURRENCY": "4",
}


class Stack:
    def __init__(self, directory: pathlib.Path) -> None:
        self.dir = directory
        self.env = {**os.environ, **STACK_ENV, "STACK_DIR": str(directory), "KVENV": sys.prefix}
        self.values: dict[str, str] = {}
        self.up_seconds: float | None = None
        self.down_seconds: float | None = None

    def run(self, command: str, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(STACK_SH), command], env=self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def up(self) -> None:
        began = time.monotonic()
        done = self.run("up", timeout=420)
        self.up_seconds = time.monotonic() - began
        if done.returncode != 0:
            raise AssertionError(f"stack.sh up failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
        self.values = self.read_env()

    def down(self) -> subprocess.CompletedProcess:
        began = time.monotonic()
        done = self.run("down", timeout=180)
        self.down_seconds = time.monotonic() - began
        return done

    def read_env(self) -> dict[str, str]:
        values = {}
        for line in (self.dir / "stack.env").read_text().splitlines():
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key] = value
        return values

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def recorded_pids(self) -> dict[str, int]:
        """The PIDs `up` recorded (run/NAME.pid: "PID STARTTIME"), by component."""
        return {path.stem: int(path.read_text().split()[0]) for path in sorted((self.dir / "run").glob("*.pid"))}

    def log_tails(self, lines: int = 60) -> list[tuple[str, str]]:
        sections = []
        for path in sorted((self.dir / "logs").glob("*.log")):
            rows = path.read_text(errors="replace").splitlines()
            sections.append((f"stack {path.name}", "\n".join(rows[-lines:])))
        return sections


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, "_stack", None)
    if report.failed and stack is not None:
        for title, text in stack.log_tails():
            report.sections.append((title, text))


@pytest.fixture
def stack(request, tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("stack"))
    request.node._stack = stack

    # A time limit (`timeout` in scripts/test.sh) sends SIGTERM: stop the stack before going.
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        stack.down()
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, on_term)
    try:
        stack.up()
        yield stack
    finally:
        done = stack.down()
        signal.signal(signal.SIGTERM, previous)
        if done.returncode != 0:
            print(f"stack.sh down failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}", file=sys.stderr)
