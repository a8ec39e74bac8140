"""Black-box harness: the real `orchestrator-dynamic` binary, real HTTP, a real SQLite data dir.

Nothing here imports project code: the server is only seen through its process, its HTTP API
and the files it writes (the SQLite file and the outbox JSON-lines files).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import requests

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

TERMINAL_STATUSES = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "REJECTED"}
OUTBOX_TOPICS = ("execution.tickets", "orchestration.incidents", "telemetry.orchestration", "telemetry-flow-c")

# The 35 fields of the ExecutionTicket contract: 29 top-level + SLA 3 + QoS 3.
TICKET_FIELDS = (
    "ticket_id", "plan_id", "intent_id", "decision_id", "correlation_id", "trace_id", "span_id", "task_id",
    "task_type", "description", "dependencies", "status", "priority", "risk_band", "sla", "qos", "parameters",
    "required_capabilities", "security_level", "created_at", "started_at", "completed_at",
    "estimated_duration_ms", "actual_duration_ms", "retry_count", "error_message", "compensation_ticket_id",
    "metadata", "schema_version",
)
SLA_FIELDS = ("deadline", "timeout_ms", "max_retries")
QOS_FIELDS = ("delivery_mode", "consistency", "durability")

# A test configuration: short leases and backoffs so that expiries and retries happen in seconds.
DEFAULT_CONFIG: dict = {
    "engine": {
        "policies": {
            "execution": {"lease_ttl_ms": 1500, "initial_backoff_ms": 100, "max_backoff_ms": 500},
            "tickets": {"max_retries": {"low": 1, "medium": 2, "high": 3, "critical": 5}},
        }
    }
}


class HarnessError(AssertionError):
    pass


# --- the binary ------------------------------------------------------------------------------


def find_binary() -> str:
    """`ORCHESTRATOR_BINARY`, else `$(swift build --show-bin-path)/orchestrator-dynamic` in the repo."""
    env = os.environ.get("ORCHESTRATOR_BINARY")
    if env:
        path = pathlib.Path(env)
    else:
        try:
            out = subprocess.run(
                ["swift", "build", "--show-bin-path"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise HarnessError(f"cannot run `swift build --show-bin-path` in {REPO_ROOT}: {error}") from error
        if out.returncode != 0:
            raise HarnessError(f"`swift build --show-bin-path` failed: {out.stderr.strip()}")
        path = pathlib.Path(out.stdout.strip().splitlines()[-1]) / "orchestrator-dynamic"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise HarnessError(
            f"orchestrator binary not found at {path}: build it with `swift build` or set ORCHESTRATOR_BINARY"
        )
    return str(path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: pathlib.Path, lines: int = 150) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return f"<cannot read {path}: {error}>"
    rows = text.splitlines()
    cut = rows[-lines:]
    prefix = f"... ({len(rows) - len(cut)} earlier lines in {path})\n" if len(rows) > len(cut) else ""
    return prefix + "\n".join(cut)


# --- processes -------------------------------------------------------------------------------


class ManagedProcess:
    """A child process whose stdout+stderr go to a log file (appended across restarts)."""

    def __init__(self, name: str, log_path: pathlib.Path) -> None:
        self.name = name
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.exit_codes: list[int] = []

    def _spawn(self, argv: list[str], env: dict | None = None) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"\n===== {time.strftime('%H:%M:%S')} start: {' '.join(argv)}\n".encode())
        log.flush()
        try:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})}, start_new_session=True,
            )
        finally:
            log.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL this very process (by pid) and reap it."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.exit_codes.append(self.proc.wait(timeout=10))

    def terminate(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait, SIGKILL if still alive. Returns the exit status (None if never started)."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                code = self.proc.wait(timeout=10)
                self._note(f"did not stop within {timeout}s of SIGTERM: killed")
            self.exit_codes.append(code)
            return code
        return self.proc.returncode

    def _note(self, text: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"\n===== harness: {text}\n")

    def log_tail(self, lines: int = 150) -> str:
        return tail(self.log_path, lines)


def terminate_all(processes: Iterable[ManagedProcess], timeout: float = 30.0) -> None:
    """SIGTERM to every running process at once, then wait for each (SIGKILL after `timeout`): a faster
    teardown than one `terminate()` after the other when servers are slow to stop."""
    running = [p for p in processes if p.running()]
    for p in running:
        os.kill(p.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in running:
        try:
            p.exit_codes.append(p.proc.wait(timeout=max(0.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            os.kill(p.proc.pid, signal.SIGKILL)
            p.exit_codes.append(p.proc.wait(timeout=10))
            p._note(f"did not stop within {timeout}s of SIGTERM: killed")


class ServerProcess(ManagedProcess):
    """`orchestrator-dynamic serve` on a data dir; restartable on the same dir and port (with the same
    arguments and environment)."""

    def __init__(self, binary: str, data_dir: pathlib.Path, log_path: pathlib.Path, *, port: int | None = None,
                 config: dict | None = None, name: str = "server", extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(name, log_path)
        self.binary = binary
        self.extra_args = list(extra_args or [])
        self.env = dict(env or {})
        self.data_dir = data_dir
        self.port = port or free_port()
        self.config_path: pathlib.Path | None = None
        if config is not None:
            self.config_path = data_dir.parent / f"{data_dir.name}-config.json"
            self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        self.data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def outbox_dir(self) -> pathlib.Path:
        return self.data_dir / "outbox"

    def argv(self) -> list[str]:
        argv = [self.binary, "serve", "--port", str(self.port), "--metrics-port", "0", "--data-dir", str(self.data_dir)]
        if self.config_path:
            argv += ["--config", str(self.config_path)]
        return argv + self.extra_args

    def start(self, wait_ready: bool = True, timeout: float = 30.0) -> "ServerProcess":
        self._spawn(self.argv(), self.env)
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise HarnessError(
                    f"server exited with status {self.proc.returncode} before it was ready; log:\n{self.log_tail(60)}"
                )
            try:
                r = requests.get(self.url + "/ready", timeout=2)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as error:
                last = type(error).__name__
            time.sleep(0.05)
        raise HarnessError(f"server not ready within {timeout}s (last: {last}); log:\n{self.log_tail(60)}")


class WorkerProcess(ManagedProcess):
    """The reference worker, `orchestrator-dynamic worker`."""

    def __init__(self, binary: str, url: str, log_path: pathlib.Path, *, concurrency: int = 4,
                 worker_id: str | None = None, capabilities: list[str] | None = None) -> None:
        super().__init__(f"worker {worker_id or ''}".strip(), log_path)
        self.argv = [binary, "worker", "--url", url, "--concurrency", str(concurrency), "--simulation-scale", "0"]
        if worker_id:
            self.argv += ["--worker-id", worker_id]
        if capabilities:
            self.argv += ["--capabilities", ",".join(capabilities)]

    def start(self) -> "WorkerProcess":
        self._spawn(self.argv)
        return self


# --- HTTP ------------------------------------------------------------------------------------


def describe(r: requests.Response) -> str:
    return f"{r.request.method} {r.request.url} -> {r.status_code} {r.text[:2000]}"


def expect(r: requests.Response, *statuses: int) -> Any:
    """Asserts the status and returns the JSON body (or None when there is none)."""
    if r.status_code not in statuses:
        raise AssertionError(f"expected HTTP {' or '.join(map(str, statuses))}: {describe(r)}")
    if not r.content:
        return None
    try:
        return r.json()
    except ValueError as error:
        raise AssertionError(f"response is not JSON: {describe(r)}") from error


def expect_error(r: requests.Response, status: int, code: str | None = None) -> dict:
    """Asserts a `{"error":{"code","message",…}}` body with the given status."""
    body = expect(r, status)
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), f"no error object: {describe(r)}"
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], f"error without code: {describe(r)}"
    assert isinstance(error.get("message"), str) and error["message"], f"error without message: {describe(r)}"
    if code is not None:
        assert error["code"] == code, f"error code {error['code']!r}, expected {code!r}: {describe(r)}"
    return error


class Api:
    """The REST API of one server."""

    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", self.timeout)
        return self.session.request(method, self.base + path, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> requests.Response:
        if body is not None:
            kw["json"] = body
        return self.request("POST", path, **kw)

    # convenience
    def submit_decision(self, decision: dict) -> requests.Response:
        return self.post("/api/v1/decisions", decision)

    def submit_plan(self, plan: dict, start: bool) -> requests.Response:
        return self.post(f"/api/v1/plans?start={'true' if start else 'false'}", plan)

    def workflow(self, workflow_id: str) -> dict:
        return expect(self.get(f"/api/v1/workflows/{workflow_id}"), 200)

    def history(self, workflow_id: str, page: int = 500) -> list[dict]:
        """The whole history, read page by page (`after` = last sequence seen)."""
        entries: list[dict] = []
        after = 0
        while True:
            body = expect(
                self.get(f"/api/v1/workflows/{workflow_id}/history", params={"after": after, "limit": page}), 200
            )
            assert isinstance(body.get("entries"), list), f"history without entries: {str(body)[:500]}"
            batch = body["entries"]
            entries += batch
            if len(batch) < page:
                break
            after = batch[-1]["sequence"]
        sequences = [e["sequence"] for e in entries]
        assert sequences == sorted(set(sequences)), f"history of {workflow_id}: sequences not increasing"
        return entries

    def result(self, workflow_id: str) -> dict:
        return expect(self.get(f"/api/v1/workflows/{workflow_id}/result"), 200)

    def wait_status(self, workflow_id: str, statuses: Iterable[str], timeout: float = 30.0) -> dict:
        wanted = set(statuses)
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.workflow(workflow_id)
            if body.get("status") in wanted:
                return body
            time.sleep(0.05)
        raise AssertionError(
            f"workflow {workflow_id} not in {sorted(wanted)} within {timeout}s: status {body.get('status')}, "
            f"reason {body.get('reason')!r}, tickets "
            f"{[(t.get('task_id'), t.get('status'), t.get('phase')) for t in body.get('tickets', [])]}"
        )

    def wait_terminal(self, workflow_id: str, timeout: float = 30.0) -> dict:
        return self.wait_status(workflow_id, TERMINAL_STATUSES, timeout)


# --- a worker written in Python --------------------------------------------------------------


@dataclass
class Lease:
    workflow_id: str
    ticket: dict
    fencing_token: int
    lease_expires_at: int
    heartbeat_interval_ms: int | None
    raw: dict = field(repr=False, default_factory=dict)

    @property
    def ticket_id(self) -> str:
        return self.ticket["ticket_id"]

    @property
    def task_id(self) -> str:
        return self.ticket["task_id"]


class PyWorker:
    """A worker speaking the pull API: register, poll, heartbeat, complete, fail."""

    def __init__(self, api: Api, worker_id: str, capabilities: list[str] | None = None) -> None:
        self.api = api
        self.worker_id = worker_id
        self.capabilities = capabilities or ["*"]
        self.registration: dict | None = None

    def register(self) -> dict:
        body = expect(
            self.api.post("/api/v1/workers/register", {"worker_id": self.worker_id, "capabilities": self.capabilities}),
            200, 201,
        )
        assert body.get("worker_id") == self.worker_id, f"register answered {body}"
        assert isinstance(body.get("lease_ttl_ms"), int) and body["lease_ttl_ms"] > 0, f"register answered {body}"
        assert isinstance(body.get("heartbeat_interval_ms"), int), f"register answered {body}"
        self.registration = body
        return body

    def poll(self, max_tickets: int = 1, wait_ms: int = 0) -> list[Lease]:
        r = self.api.post(
            f"/api/v1/workers/{self.worker_id}/poll", {"max_tickets": max_tickets, "wait_ms": wait_ms},
            timeout=self.api.timeout + wait_ms / 1000.0,
        )
        body = expect(r, 200)
        assert isinstance(body.get("tickets"), list), f"poll answered {str(body)[:500]}"
        leases = []
        for item in body["tickets"]:
            for key in ("workflow_id", "ticket", "fencing_token", "lease_expires_at"):
                assert key in item, f"poll item without {key}: {str(item)[:500]}"
            leases.append(Lease(item["workflow_id"], item["ticket"], item["fencing_token"], item["lease_expires_at"],
                                item.get("heartbeat_interval_ms"), item))
        assert len(leases) <= max_tickets, f"poll returned {len(leases)} tickets for max_tickets={max_tickets}"
        return leases

    def poll_until(self, count: int = 1, timeout: float = 10.0, max_tickets: int = 10) -> list[Lease]:
        """Polls (long polls) until at least `count` tickets were leased in total."""
        deadline = time.monotonic() + timeout
        leases: list[Lease] = []
        while len(leases) < count and time.monotonic() < deadline:
            wait = max(0, min(2000, int((deadline - time.monotonic()) * 1000)))
            leases += self.poll(max_tickets=max_tickets, wait_ms=wait)
        return leases

    def heartbeat(self, lease: Lease, token: int | None = None) -> requests.Response:
        return self.api.post(
            f"/api/v1/tickets/{lease.ticket_id}/heartbeat",
            {"worker_id": self.worker_id, "fencing_token": lease.fencing_token if token is None else token},
        )

    def complete(self, lease: Lease, *, token: int | None = None, output: dict | None = None,
                 duration_ms: int = 5) -> requests.Response:
        return self.api.post(
            f"/api/v1/tickets/{lease.ticket_id}/complete",
            {
                "worker_id": self.worker_id,
                "fencing_token": lease.fencing_token if token is None else token,
                "output": output if output is not None else {"done_by": self.worker_id},
                "logs": [f"completed by {self.worker_id}"],
                "actual_duration_ms": duration_ms,
            },
        )

    def fail(self, lease: Lease, message: str = "injected failure", *, retryable: bool = True,
             token: int | None = None) -> requests.Response:
        return self.api.post(
            f"/api/v1/tickets/{lease.ticket_id}/fail",
            {
                "worker_id": self.worker_id,
                "fencing_token": lease.fencing_token if token is None else token,
                "error_message": message,
                "retryable": retryable,
            },
        )

    def run_workflow(self, workflow_id: str, decide: Callable[[Lease], str] | None = None,
                     timeout: float = 30.0) -> list[tuple[Lease, str]]:
        """Leases and reports tickets until the workflow is terminal. `decide(lease)` returns
        "complete", "fail" or "fail-final"; default complete. Returns what was done, in order."""
        done: list[tuple[Lease, str]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api.workflow(workflow_id)["status"] in TERMINAL_STATUSES:
                return done
            for lease in self.poll(max_tickets=10, wait_ms=300):
                action = decide(lease) if decide else "complete"
                if action == "complete":
                    expect(self.complete(lease), 200)
                elif action in ("fail", "fail-final"):
                    expect(self.fail(lease, retryable=action == "fail"), 200)
                else:
                    raise ValueError(action)
                done.append((lease, action))
        raise AssertionError(f"workflow {workflow_id} not terminal within {timeout}s: {self.api.workflow(workflow_id)}")


# --- PostgreSQL ------------------------------------------------------------------------------

POSTGRES_URL_VARIABLE = "ORCHESTRATOR_TEST_POSTGRES_URL"


def psql_path() -> str | None:
    """`ORCHESTRATOR_PSQL` if set, else psql on the PATH, else the PostgreSQL 15 client beside the server
    binaries (Debian's postgresql-15 depends on postgresql-client-15, so it is there wherever the
    tests can start a cluster). None when not executable."""
    psql = os.environ.get("ORCHESTRATOR_PSQL") or shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    return psql if os.access(psql, os.X_OK) else None


def psql_rows(url_with_schema: str, sql: str, timeout: float = 30) -> list[list[str]]:
    """Runs `sql` with psql on the test server (schema-qualified by the caller: the `schema` parameter
    of the URL is dropped); the rows as lists of text fields (NULL as ''). Without psql this fails
    (HarnessError): a row check is never skipped silently."""
    psql = psql_path()
    if psql is None:
        raise HarnessError("psql not found (set ORCHESTRATOR_PSQL, put psql on the PATH, or install "
                           "postgresql-client-15): the PostgreSQL row checks need it")
    parts = urllib.parse.urlsplit(url_with_schema)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "schema"]
    url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    out = subprocess.run([psql, url, "-At", "-F", "\t", "-c", sql], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"psql failed: {out.stderr}"
    return [line.split("\t") for line in out.stdout.splitlines()]


def psql_scalar(url_with_schema: str, sql: str) -> str:
    """The single value of `sql` (see psql_rows; fails without psql)."""
    rows = psql_rows(url_with_schema, sql)
    return "\n".join("\t".join(row) for row in rows).strip()


def schema_of(url: str) -> str:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["schema"]


# --- outbox files ----------------------------------------------------------------------------


@dataclass
class OutboxFile:
    topic: str
    messages: list[dict]
    bad_lines: list[tuple[int, str]]


def read_outbox(outbox_dir: pathlib.Path) -> dict[str, OutboxFile]:
    files: dict[str, OutboxFile] = {}
    for topic in OUTBOX_TOPICS:
        path = outbox_dir / f"{topic}.jsonl"
        messages: list[dict] = []
        bad: list[tuple[int, str]] = []
        if path.exists():
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    messages.append(json.loads(line))
                except ValueError:
                    bad.append((number, line[:300]))
        files[topic] = OutboxFile(topic, messages, bad)
    return files


def wait_outbox(outbox_dir: pathlib.Path, predicate: Callable[[dict[str, OutboxFile]], bool],
                timeout: float = 15.0) -> dict[str, OutboxFile]:
    deadline = time.monotonic() + timeout
    files = read_outbox(outbox_dir)
    while not predicate(files) and time.monotonic() < deadline:
        time.sleep(0.1)
        files = read_outbox(outbox_dir)
    return files


def outbox_summary(files: dict[str, OutboxFile]) -> str:
    parts = []
    for topic, f in files.items():
        parts.append(f"{topic}: {len(f.messages)} messages, {len(f.bad_lines)} unreadable lines")
    return "; ".join(parts)


# --- history ---------------------------------------------------------------------------------


def event_kind(entry: dict) -> str:
    """The enum case of a history entry's event: the single key of `event` (e.g. `completed`)."""
    event = entry.get("event")
    if isinstance(event, dict) and len(event) == 1:
        return next(iter(event))
    raise AssertionError(f"history entry whose event is not a one-case enum object: {str(entry)[:500]}")


def event_payload(entry: dict) -> dict:
    payload = entry["event"][event_kind(entry)]
    return payload if isinstance(payload, dict) else {}


def event_ticket_id(entry: dict) -> str | None:
    payload = event_payload(entry)
    return payload.get("ticketId", payload.get("ticket_id"))


def completions_by_ticket(entries: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        if event_kind(entry) == "completed":
            tid = event_ticket_id(entry)
            assert tid, f"completed event without a ticket id: {str(entry)[:500]}"
            counts[tid] = counts.get(tid, 0) + 1
    return counts


def tickets_by_task(workflow: dict) -> dict[str, dict]:
    """The plan's own tickets (not compensation tickets) by task id."""
    return {t["task_id"]: t for t in workflow["tickets"] if t.get("task_type") != "COMPENSATE"}


def compensation_tickets(workflow: dict) -> list[dict]:
    return [t for t in workflow["tickets"] if t.get("task_type") == "COMPENSATE"]


def contains_pair(value: Any, key: str, expected: Any) -> bool:
    """Whether `key: expected` occurs anywhere inside a JSON value."""
    if isinstance(value, dict):
        return value.get(key) == expected or any(contains_pair(v, key, expected) for v in value.values())
    if isinstance(value, list):
        return any(contains_pair(v, key, expected) for v in value)
    return False
