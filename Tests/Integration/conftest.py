"""Fixtures: the binary, servers on temporary data dirs, reference workers, Python workers.

Every process a test starts is registered on the test item; when the test fails, the tail of
each process's log (server stderr, worker output) is attached to the failure report.
"""

from __future__ import annotations

import copy
import itertools
import os
import pathlib
import socket
import urllib.parse
import uuid

import pytest

import harness
from harness import Api, PyWorker, ServerProcess, WorkerProcess

_counter = itertools.count(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for process in getattr(item, "_orchestrator_processes", []):
            report.sections.append(
                (f"{process.name} log ({process.log_path}), last lines", process.log_tail(120))
            )


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    notes = getattr(config, "_orchestrator_notes", [])
    if notes:
        terminalreporter.section("orchestrator integration notes")
        for note in notes:
            terminalreporter.write_line(note)


def note(config: pytest.Config, text: str) -> None:
    """A line for the terminal summary (e.g. the number of server kills of the crash test)."""
    if not hasattr(config, "_orchestrator_notes"):
        config._orchestrator_notes = []
    config._orchestrator_notes.append(text)


@pytest.fixture(scope="session")
def binary() -> str:
    try:
        return harness.find_binary()
    except harness.HarnessError as error:
        pytest.fail(str(error), pytrace=False)


def _register(request: pytest.FixtureRequest, process) -> None:
    if not hasattr(request.node, "_orchestrator_processes"):
        request.node._orchestrator_processes = []
    request.node._orchestrator_processes.append(process)


@pytest.fixture
def start_server(request, binary, tmp_path):
    """Factory: `start_server(config=…, port=…, data_dir=…, wait_ready=True, extra_args=[…], env={…},
    name=…)` → a running ServerProcess. `config=None` uses harness.DEFAULT_CONFIG; pass `{}`-based
    dicts to change it; `extra_args` are appended to the `serve` command line; `env` is added to the
    environment (also on a restart with `server.start()`). Stopped with SIGTERM at teardown."""
    started: list[ServerProcess] = []

    def factory(config: dict | None = None, *, port: int | None = None, data_dir: pathlib.Path | None = None,
                wait_ready: bool = True, extra_args: list[str] | None = None, env: dict[str, str] | None = None,
                name: str | None = None) -> ServerProcess:
        n = next(_counter)
        server = ServerProcess(
            binary, data_dir or tmp_path / f"data-{n}", tmp_path / f"server-{n}.log", port=port,
            config=copy.deepcopy(harness.DEFAULT_CONFIG if config is None else config), name=name or f"server-{n}",
            extra_args=extra_args, env=env,
        )
        _register(request, server)
        started.append(server)
        server.start(wait_ready=wait_ready)
        return server

    yield factory
    for server in started:
        server.terminate()


@pytest.fixture
def server(start_server) -> ServerProcess:
    return start_server()


@pytest.fixture
def api(server) -> Api:
    return Api(server.url)


@pytest.fixture
def start_worker(request, binary, tmp_path):
    """Factory: `start_worker(url, concurrency=4, worker_id=…)` → a running reference worker process."""
    started: list[WorkerProcess] = []

    def factory(url: str, *, concurrency: int = 4, worker_id: str | None = None,
                capabilities: list[str] | None = None) -> WorkerProcess:
        n = next(_counter)
        worker = WorkerProcess(binary, url, tmp_path / f"worker-{n}.log", concurrency=concurrency,
                               worker_id=worker_id or f"ref-worker-{n}", capabilities=capabilities)
        _register(request, worker)
        started.append(worker)
        return worker.start()

    yield factory
    for worker in started:
        worker.terminate()


@pytest.fixture
def pg_url() -> str:
    """The test PostgreSQL server's URL (ORCHESTRATOR_TEST_POSTGRES_URL) with a fresh `schema` parameter
    (the server creates the schema). Without the URL the test is skipped, unless
    ORCHESTRATOR_REQUIRE_POSTGRES=1, which makes it fail; an unreachable server fails it."""
    url = os.environ.get(harness.POSTGRES_URL_VARIABLE, "")
    if not url:
        if os.environ.get("ORCHESTRATOR_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"ORCHESTRATOR_REQUIRE_POSTGRES=1 but {harness.POSTGRES_URL_VARIABLE} is not set",
                        pytrace=False)
        pytest.skip(f"{harness.POSTGRES_URL_VARIABLE} is not set (see scripts/postgres.sh)")
    parsed = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 5432), timeout=3).close()
    except OSError as error:
        pytest.fail(f"PostgreSQL at {parsed.hostname}:{parsed.port or 5432} is unreachable: {error}", pytrace=False)
    schema = "it_" + uuid.uuid4().hex[:16]
    return url + ("&" if parsed.query else "?") + f"schema={schema}"


@pytest.fixture
def py_worker(api) -> PyWorker:
    worker = PyWorker(api, "py-worker-1")
    worker.register()
    return worker


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The crash test runs last (it is the slowest)."""
    items.sort(key=lambda item: item.get_closest_marker("crash") is not None)
