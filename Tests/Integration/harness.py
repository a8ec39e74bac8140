"""Black-box harness: the real `orchestrator-dynamic` binary, real HTTP, a real SQLite data dir.

Nothing here imports project code: the server is only seen through its process, its HTTP API
and the files it writes (the SQLite file and the outbox JSON-lines files).
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
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


# --- authentication ----------------------------------------------------------------------------
# Every server the harness starts accepts TEST_TOKEN as `admin` (a token file written once per test
# process, given as ORCHESTRATOR_AUTH_FILE), `Api` sends it, and the CLI clients started by the tests
# (`worker`, `submit`, `status`) read it from ORCHESTRATOR_TOKEN. A test of the secure default starts
# its server with `env={"ORCHESTRATOR_AUTH_FILE": ""}` (no token file: `admin.token` is created).

TEST_TOKEN = "harness-" + secrets.token_hex(24)


def write_token_file(path: pathlib.Path, entries: dict[str, tuple[str, list[str]]]) -> pathlib.Path:
    """A token file of `{name: (token, roles)}`, mode 0600, holding only the tokens' SHA-256."""
    body = {"tokens": [{"name": name, "sha256": hashlib.sha256(token.encode()).hexdigest(), "roles": roles}
                       for name, (token, roles) in entries.items()]}
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


TOKEN_FILE = write_token_file(pathlib.Path(tempfile.mkdtemp(prefix="orchestrator-test-auth-")) / "tokens.json",
                              {"harness-admin": (TEST_TOKEN, ["admin"])})
os.environ["ORCHESTRATOR_TOKEN"] = TEST_TOKEN


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
        self.env = {"ORCHESTRATOR_AUTH_FILE": str(TOKEN_FILE), **(env or {})}
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

    def __init__(self, base_url: str, timeout: float = 15.0, token: str | None = TEST_TOKEN) -> None:
        """`token`: the bearer token sent with every request (default the harness's admin token;
        None sends none)."""
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

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

    def proof(self, lease: Lease, token: int | None, secret: str | None) -> dict:
        """The lease a report is made under: this worker, the lease's fencing token and lease secret
        (or the ones given)."""
        return {"worker_id": self.worker_id, "fencing_token": lease.fencing_token if token is None else token,
                "lease_secret": lease.raw.get("lease_secret") if secret is None else secret}

    @staticmethod
    def trace_headers(lease: Lease) -> dict:
        """As the reference worker does: a report continues the trace of its lease."""
        traceparent = lease.raw.get("traceparent")
        return {"headers": {"traceparent": traceparent}} if traceparent else {}

    def heartbeat(self, lease: Lease, token: int | None = None, secret: str | None = None) -> requests.Response:
        return self.api.post(f"/api/v1/tickets/{lease.ticket_id}/heartbeat", self.proof(lease, token, secret),
                             **self.trace_headers(lease))

    def complete(self, lease: Lease, *, token: int | None = None, secret: str | None = None,
                 output: dict | None = None, duration_ms: int = 5) -> requests.Response:
        return self.api.post(
            f"/api/v1/tickets/{lease.ticket_id}/complete",
            {
                **self.proof(lease, token, secret),
                "output": output if output is not None else {"done_by": self.worker_id},
                "logs": [f"completed by {self.worker_id}"],
                "actual_duration_ms": duration_ms,
            },
            **self.trace_headers(lease),
        )

    def fail(self, lease: Lease, message: str = "injected failure", *, retryable: bool = True,
             token: int | None = None, secret: str | None = None) -> requests.Response:
        return self.api.post(
            f"/api/v1/tickets/{lease.ticket_id}/fail",
            {
                **self.proof(lease, token, secret),
                "error_message": message,
                "retryable": retryable,
            },
            **self.trace_headers(lease),
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


def postgres_restart(pg_url: str) -> float:
    """`scripts/postgres.sh restart` of the cluster on the URL's port; returns the seconds it took."""
    port = urllib.parse.urlsplit(pg_url).port or 5432
    began = time.monotonic()
    out = subprocess.run(["bash", "scripts/postgres.sh", "restart"], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "ORCHESTRATOR_PG_PORT": str(port)})
    assert out.returncode == 0, f"postgres.sh restart failed ({out.returncode}): {out.stderr}{out.stdout}"
    return time.monotonic() - began


def require_restartable_cluster(pg_url: str) -> None:
    port = urllib.parse.urlsplit(pg_url).port or 5432
    state = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"orchestrator-pg-{port}.dir"
    problem = None
    if not state.is_file():
        problem = (f"no cluster of scripts/postgres.sh recorded for port {port} ({state}): "
                   "the test restarts the database")
    elif psql_path() is None:
        problem = "psql not found (PostgreSQL client binaries)"
    if problem:
        import pytest

        if os.environ.get("ORCHESTRATOR_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)


def query(pg_url: str, sql: str, timeout: float = 10) -> list[list[str]] | None:
    """psql rows, or None when the query fails (e.g. during the database restart)."""
    try:
        return psql_rows(pg_url, sql, timeout=timeout)
    except (AssertionError, subprocess.TimeoutExpired):
        return None


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


# --- leases of a workflow history -----------------------------------------------------------


@dataclass
class LeaseSpan:
    """One lease of a ticket, as the history tells it."""
    ticket_id: str
    epoch: int
    worker_id: str
    granted_at: int
    expires_at: int
    sequence: int
    ended_at: int | None = None
    end: str | None = None

    @property
    def until(self) -> int:
        """The end of the interval in which the worker may hold the lease: its expiry (as last extended by
        a heartbeat), or the holder's own completion/failure report if earlier. An expiry event or a
        cancellation does not end it sooner: the worker is not told and may still be working."""
        if self.ended_at is not None and self.end in ("completed", "failed"):
            return min(self.expires_at, self.ended_at)
        return self.expires_at


def _field(payload: dict, camel: str, snake: str):
    return payload.get(camel, payload.get(snake))


def lease_problems(workflow_id: str, entries: list[dict]) -> tuple[list[str], dict[str, list[LeaseSpan]]]:
    """Replays a history's lease events per ticket. Problems: a lease granted while the previous one
    was not ended (by a completion, a failure or its expiry) or before the previous lease's interval
    [granted, expiry or the holder's completion/failure if earlier] was over, so two workers held it at
    once; a lease declared expired before its expiry; a heartbeat or report that does not carry the
    current lease's epoch (lease epochs are 1, 2, 3… per ticket, the fencing tokens), or that comes from
    another worker than the holder. Returns the problems and the leases by ticket."""
    problems: list[str] = []
    spans: dict[str, list[LeaseSpan]] = defaultdict(list)

    def active(tid: str) -> LeaseSpan | None:
        span = spans[tid][-1] if spans.get(tid) else None
        return span if span is not None and span.ended_at is None else None

    def where(entry: dict) -> str:
        return f"{workflow_id} #{entry.get('sequence')} ({event_kind(entry)} at {entry.get('at')})"

    def report(entry: dict, tid: str, epoch, verb: str) -> LeaseSpan | None:
        span = active(tid)
        if epoch is None:  # an unfenced report (from the bus): accepted while leased or ready
            return span
        if span is None:
            problems.append(f"{where(entry)}: {verb} of ticket {tid} under token {epoch}, but no lease is active")
            return None
        if epoch != span.epoch:
            problems.append(f"{where(entry)}: {verb} of ticket {tid} under token {epoch}, but the current lease "
                            f"is epoch {span.epoch} of {span.worker_id}")
        return span

    for entry in sorted(entries, key=lambda e: e["sequence"]):
        kind = event_kind(entry)
        payload = event_payload(entry)
        at = entry["at"]
        tid = event_ticket_id(entry)
        if kind == "leased":
            worker = _field(payload, "workerId", "worker_id")
            expires = _field(payload, "expiresAt", "expires_at")
            previous = spans[tid][-1] if spans.get(tid) else None
            if previous is not None and previous.ended_at is None:
                problems.append(
                    f"{where(entry)}: ticket {tid} leased to {worker} while lease {previous.epoch} of "
                    f"{previous.worker_id} (granted {previous.granted_at}, expiring {previous.expires_at}) never ended")
            if previous is not None and at < previous.until:
                problems.append(
                    f"{where(entry)}: ticket {tid} leased to {worker} at {at}, {previous.until - at} ms before lease "
                    f"{previous.epoch} of {previous.worker_id} was over ({previous.until})")
            # The lease epoch (fencing token) of a ticket counts its leases: 1, 2, 3… (the event carries
            # it only if a later version of the event encoding adds it; then it must increase).
            epoch = _field(payload, "leaseEpoch", "lease_epoch")
            if epoch is None:
                epoch = (previous.epoch if previous else 0) + 1
            elif previous is not None and epoch <= previous.epoch:
                problems.append(f"{where(entry)}: ticket {tid} leased under token {epoch}, not above the previous "
                                f"lease's {previous.epoch}")
            spans[tid].append(LeaseSpan(tid, epoch, worker, at, expires, entry["sequence"]))
        elif kind == "heartbeat":
            span = report(entry, tid, _field(payload, "leaseEpoch", "lease_epoch"), "heartbeat")
            if span is not None:
                span.expires_at = _field(payload, "expiresAt", "expires_at")
        elif kind in ("completed", "failed"):
            span = report(entry, tid, _field(payload, "leaseEpoch", "lease_epoch"), kind)
            result = payload.get("result") or {}
            reporter = ((result.get("result") or {}).get("metadata") or {}).get("worker_id")
            if span is not None and reporter and reporter != span.worker_id:
                problems.append(f"{where(entry)}: ticket {tid} {kind} by {reporter}, but lease {span.epoch} is "
                                f"{span.worker_id}'s")
            if span is not None:
                span.ended_at, span.end = at, kind
        elif kind == "leaseExpired":
            span = report(entry, tid, _field(payload, "leaseEpoch", "lease_epoch"), "expiry")
            if span is not None:
                if at < span.expires_at:
                    problems.append(f"{where(entry)}: lease {span.epoch} of ticket {tid} ({span.worker_id}) declared "
                                    f"expired {span.expires_at - at} ms before its expiry {span.expires_at}")
                span.ended_at, span.end = at, "expired"
        elif kind in ("cancelled", "rejected"):
            for tid_ in list(spans):
                span = active(tid_)
                if span is not None:
                    span.ended_at, span.end = at, kind
    return problems, dict(spans)


# --- the invariants of a chaos run ------------------------------------------------------------
#
# Each takes what was observed (acknowledged decisions, workflow views, histories, outbox files, the
# binary) and returns a list of problems, empty when the invariant holds. Tests/Integration/
# test_invariants.py shows that each one catches hand-made bad data.


def accepted_decision_problems(accepted: dict[str, str], views: dict[str, dict | None],
                               listed: list[dict] | None = None) -> list[str]:
    """Invariant 1: every decision the API acknowledged (HTTP 200/201, `accepted`: decision_id →
    workflow_id it answered) has its workflow: readable (`views`: workflow_id → the workflow, None
    when it could not be read), of that decision, the same workflow for every acknowledgement. With
    `listed` (every workflow summary the store lists), also: no decision has two workflows, and no
    workflow exists for a decision that was never acknowledged."""
    problems: list[str] = []
    for decision_id, workflow_id in sorted(accepted.items()):
        view = views.get(workflow_id)
        if view is None:
            problems.append(f"decision {decision_id} was acknowledged with workflow {workflow_id}, "
                            "which does not exist")
        elif view.get("decision_id") != decision_id:
            problems.append(f"decision {decision_id} was acknowledged with workflow {workflow_id}, which belongs to "
                            f"decision {view.get('decision_id')!r}")
    if listed is not None:
        by_decision: dict[str, list[str]] = defaultdict(list)
        for summary in listed:
            by_decision[summary.get("decision_id")].append(summary.get("workflow_id"))
        for decision_id, workflow_ids in sorted(by_decision.items(), key=lambda kv: str(kv[0])):
            if len(workflow_ids) > 1:
                problems.append(f"decision {decision_id} has {len(workflow_ids)} workflows: {sorted(workflow_ids)}")
            if decision_id not in accepted:
                problems.append(f"workflow(s) {sorted(workflow_ids)} of decision {decision_id}, never acknowledged")
            elif accepted[decision_id] not in workflow_ids:
                problems.append(f"decision {decision_id}: acknowledged workflow {accepted[decision_id]} is not listed "
                                f"(listed: {sorted(workflow_ids)})")
    return problems


def termination_problems(views: dict[str, dict], expected: dict[str, str]) -> list[str]:
    """Invariant 2: every workflow ends, in the status its plan was designed for (`expected`:
    workflow_id → status). A COMPLETED workflow has every ticket COMPLETED; a terminal workflow has no
    ticket still waiting, leased or running."""
    problems: list[str] = []
    for workflow_id, status in sorted(expected.items()):
        view = views.get(workflow_id)
        if view is None:
            problems.append(f"{workflow_id}: unreadable (expected {status})")
            continue
        tickets = view.get("tickets") or []
        if view.get("status") not in TERMINAL_STATUSES:
            open_tickets = [(t.get("task_id"), t.get("status"), t.get("phase")) for t in tickets
                            if t.get("status") not in TICKET_FINAL_STATUSES]
            problems.append(f"{workflow_id}: never ended: {view.get('status')}, open tickets {open_tickets[:10]}")
            continue
        if view.get("status") != status:
            problems.append(f"{workflow_id}: ended {view.get('status')} ({view.get('reason')!r}), expected {status}")
        still_open = [(t.get("task_id"), t.get("status")) for t in tickets
                      if t.get("status") not in TICKET_FINAL_STATUSES]
        if still_open:
            problems.append(f"{workflow_id}: {view.get('status')} with tickets not final: {still_open[:10]}")
        if view.get("status") == "COMPLETED":
            not_done = [(t.get("task_id"), t.get("status")) for t in tickets if t.get("status") != "COMPLETED"]
            if not_done:
                problems.append(f"{workflow_id}: COMPLETED with tickets {not_done[:10]}")
    return problems


# The statuses a ticket keeps once its workflow ended.
TICKET_FINAL_STATUSES = {"COMPLETED", "FAILED", "SKIPPED", "COMPENSATED", "CANCELLED", "REJECTED"}


def double_completion_problems(histories: dict[str, list[dict]],
                               outbox: dict[str, dict[int, dict]] | None = None) -> list[str]:
    """Invariant 3: no ticket is completed twice: at most one accepted completion per ticket in each
    history (`histories`: workflow_id → entries) and, with `outbox` (topic → sequence → message, the
    deduplicated union of the outbox files), at most one TICKET_COMPLETED event per ticket, and one for
    each completion of the history (a completion that was accepted is announced)."""
    problems: list[str] = []
    accepted: dict[str, int] = {}
    for workflow_id, entries in sorted(histories.items()):
        for ticket_id, count in sorted(completions_by_ticket(entries).items()):
            accepted[ticket_id] = count
            if count > 1:
                problems.append(f"{workflow_id}: ticket {ticket_id} completed {count} times (history)")
    if outbox is not None:
        announced = Counter(m["value"].get("ticket_id") for _, m in sorted(outbox.get("telemetry-flow-c", {}).items())
                            if m["value"].get("event_type") == "TICKET_COMPLETED")
        for ticket_id, count in sorted(announced.items(), key=lambda kv: str(kv[0])):
            if count > 1:
                problems.append(f"ticket {ticket_id}: {count} TICKET_COMPLETED events (outbox)")
        for ticket_id, count in sorted(accepted.items()):
            if count >= 1 and announced.get(ticket_id, 0) == 0:
                problems.append(f"ticket {ticket_id}: completed in the history, no TICKET_COMPLETED in the outbox")
    return problems


def lease_overlap_problems(histories: dict[str, list[dict]]) -> tuple[list[str], dict[str, dict[str, list[LeaseSpan]]]]:
    """Invariant 4: no two leases of a ticket overlap in time and the fencing tokens increase (every
    report carries the current one): `lease_problems` over every history. Returns the problems and
    the leases (workflow_id → ticket_id → spans)."""
    problems: list[str] = []
    leases: dict[str, dict[str, list[LeaseSpan]]] = {}
    for workflow_id, entries in sorted(histories.items()):
        found, leases[workflow_id] = lease_problems(workflow_id, entries)
        problems += found
    return problems, leases


OUTBOX_LINE_KEYS = ("sequence", "topic", "key", "headers", "value")


def outbox_file_problems(outbox_dirs: dict[str, pathlib.Path], *, increasing: bool = False
                         ) -> tuple[list[str], dict[str, dict[int, dict]], dict]:
    """Invariant 5: the outbox JSON-lines files (`outbox_dirs`: owner, e.g. a replica id → its outbox
    directory) have no torn and no duplicate lines. Torn: a line that is not a complete JSON object
    with the five keys, a sequence number and its file's topic, or a last line without its newline.
    Duplicate: a sequence written twice in one file, or written with different contents in two
    owners' files. (The same message in two replicas' files is the at-least-once relay of the
    outbox rows after a replica died between writing its file and deleting the rows; it is counted in
    `copies`, not a problem.) With `increasing` (one writer, SQLite), the sequences of each file must
    also increase line after line. Returns the problems, the deduplicated union (topic → sequence →
    message) and counts."""
    problems: list[str] = []
    union: dict[str, dict[int, dict]] = defaultdict(dict)
    where: dict[tuple[str, int], str] = {}
    counts = {"files": 0, "lines": 0, "copies": 0}
    for owner, directory in sorted(outbox_dirs.items()):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.jsonl")):
            counts["files"] += 1
            topic = path.name[: -len(".jsonl")]
            data = path.read_bytes()
            label = f"{owner} {path.name}"
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                problems.append(f"{label}: torn last line (no newline): {data[cut:][:200]!r}")
                data = data[:cut]
            seen: set[int] = set()
            last = None
            for number, raw in enumerate(data.split(b"\n")[:-1] if data else [], 1):
                counts["lines"] += 1
                try:
                    message = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    problems.append(f"{label}:{number}: torn line {raw[:200]!r}")
                    continue
                if (not isinstance(message, dict) or any(k not in message for k in OUTBOX_LINE_KEYS)
                        or not isinstance(message["sequence"], int) or message["topic"] != topic
                        or not isinstance(message["value"], dict)):
                    problems.append(f"{label}:{number}: not a whole outbox message: {raw[:200]!r}")
                    continue
                sequence = message["sequence"]
                if sequence in seen:
                    problems.append(f"{label}:{number}: sequence {sequence} written twice in the file")
                    continue
                seen.add(sequence)
                if increasing and last is not None and sequence < last:
                    problems.append(f"{label}:{number}: sequence {sequence} after {last}")
                last = sequence
                first = union[topic].get(sequence)
                if first is None:
                    union[topic][sequence] = message
                    where[(topic, sequence)] = owner
                elif (first["key"], first["headers"], first["value"]) != (
                        message["key"], message["headers"], message["value"]):
                    problems.append(f"{label}:{number}: sequence {sequence} also in {where[(topic, sequence)]}'s "
                                    f"file with different contents")
                else:
                    counts["copies"] += 1
    return problems, dict(union), counts


def outbox_content_problems(outbox: dict[str, dict[int, dict]], views: dict[str, dict],
                            leases: dict[str, dict[str, list[LeaseSpan]]] | None = None) -> list[str]:
    """The outbox (deduplicated union, see `outbox_file_problems`) tells what the workflows did:
    every ticket that ran released on `execution.tickets`, one final frame on
    `telemetry.orchestration` and one FLOW_C_COMPLETED on `telemetry-flow-c` per workflow with its
    final status, and (with `leases`) the TICKET_ASSIGNED events of each ticket are its leases of
    the history, in order."""
    problems: list[str] = []

    def ordered(topic: str) -> list[dict]:
        messages = outbox.get(topic, {})
        return [messages[s]["value"] for s in sorted(messages)]

    released = Counter(v.get("ticket_id") for v in ordered("execution.tickets"))
    flow_done: dict[str, list] = defaultdict(list)
    assigned: dict[str, list[tuple]] = defaultdict(list)
    for v in ordered("telemetry-flow-c"):
        if v.get("event_type") == "FLOW_C_COMPLETED":
            flow_done[v.get("workflow_id")].append(v.get("status"))
        elif v.get("event_type") == "TICKET_ASSIGNED":
            assigned[v.get("ticket_id")].append(((v.get("metadata") or {}).get("lease_epoch"), v.get("worker_id")))
    frames: dict[str, list[dict]] = defaultdict(list)
    for v in ordered("telemetry.orchestration"):
        frames[v.get("workflow_id")].append(v)
    for workflow_id, view in sorted(views.items()):
        status = view["status"]
        if [f.get("status") for f in frames[workflow_id]] != [status]:
            problems.append(f"{workflow_id} ({status}): final frames with statuses "
                            f"{[f.get('status') for f in frames[workflow_id]]} (expected one {status})")
        elif status == "COMPLETED" and (frames[workflow_id][0].get("metrics") or {}).get("successful") != len(
                view["tickets"]):
            problems.append(f"{workflow_id}: final frame {str(frames[workflow_id][0])[:300]}")
        if flow_done[workflow_id] != [status]:
            problems.append(f"{workflow_id} ({status}): FLOW_C_COMPLETED statuses {flow_done[workflow_id]}")
        for t in view["tickets"]:
            tid = t["ticket_id"]
            if t.get("status") != "SKIPPED" and released[tid] < 1:
                problems.append(f"{workflow_id}: ticket {t.get('task_id')} ({tid}) never published on "
                                "execution.tickets")
            if leases is not None:
                history = [(s.epoch, s.worker_id) for s in leases.get(workflow_id, {}).get(tid, [])]
                if assigned[tid] != history:
                    problems.append(f"{workflow_id}: ticket {t.get('task_id')}: TICKET_ASSIGNED (epoch, worker) "
                                    f"{assigned[tid]} != leases of the history {history}")
    return problems


def replay_problems(binary: str, workflow_ids: Iterable[str], store_args: list[str] | Callable[[int], list[str]], *,
                    parallel: int = 4, timeout: float = 120.0) -> tuple[list[str], int]:
    """Invariant 6: `orchestrator-dynamic replay ID <store_args>` (e.g. `--database-url URL --config C
    --data-dir D`) exits 0 with `replay OK` for every workflow: its history rebuilds exactly the
    stored state. `parallel` processes at a time; `store_args` may be a function of the slot (0 …
    parallel-1) for per-process arguments: `replay` locks its `--data-dir` like the server, so on
    SQLite each slot needs a data dir of its own, with the store given by `--database-url sqlite:FILE`
    (the server must be stopped). Returns the problems and the number of workflows replayed OK."""

    def one(workflow_id: str, args: list[str]) -> str | None:
        try:
            out = subprocess.run([binary, "replay", workflow_id, *args], capture_output=True, text=True,
                                 timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return f"{workflow_id}: replay did not finish within {timeout:.0f}s"
        if out.returncode != 0 or not out.stdout.startswith("replay OK"):
            text = (out.stdout + out.stderr).strip().replace("\n", " | ")
            return f"{workflow_id}: replay exited {out.returncode}: {text[:1500]}"
        return None

    ids = list(workflow_ids)
    slots = max(1, min(parallel, len(ids)))

    def run_slot(slot: int) -> list[tuple[int, str | None]]:
        args = store_args(slot) if callable(store_args) else store_args
        return [(i, one(ids[i], args)) for i in range(slot, len(ids), slots)]

    with ThreadPoolExecutor(max_workers=slots) as pool:
        results = sorted(r for chunk in pool.map(run_slot, range(slots)) for r in chunk)
    problems = [r for _, r in results if r is not None]
    return problems, len(ids) - len(problems)


# --- hand-made history entries, for the tests of the checks above ------------------------------------


def history_entry(sequence: int, at: int, kind: str, **payload) -> dict:
    """A history entry as `GET /api/v1/workflows/{id}/history` lists it."""
    return {"sequence": sequence, "at": at, "type": kind, "event": {kind: payload}}


def leased_entry(seq, at, tid, worker, ttl=1500):
    return history_entry(seq, at, "leased", ticketId=tid, workerId=worker, expiresAt=at + ttl)


def completed_entry(seq, at, tid, epoch, worker=None):
    result = {"ticket_id": tid, "status": "COMPLETED", "result": {"success": True, "metadata": {"worker_id": worker}}}
    return history_entry(seq, at, "completed", ticketId=tid, leaseEpoch=epoch, result=result)

