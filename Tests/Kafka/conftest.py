"""Fixtures: a Tansu broker and the orchestrator binary wired to it, per test; logs of both are
attached to a failing test's report."""

from __future__ import annotations

import uuid

import pytest

from kafka_harness import KafkaServer, Peer, TansuProcess, example_decision, example_plan, harness, variant  # noqa: F401


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for process in getattr(item, "_kafka_processes", []):
            report.sections.append((f"{process.name} log ({process.log_path})", process.log_tail(120)))


@pytest.fixture(scope="session")
def binary() -> str:
    return harness.find_binary()


@pytest.fixture
def stack(request, tmp_path, binary):
    """Factory: `stack(fmt)` → (tansu, server, peer, api), all stopped at the end."""
    started = []
    request.node._kafka_processes = []

    def make(fmt: str, sink: str = "kafka", config: dict | None = None, env: dict | None = None):
        tansu = TansuProcess(tmp_path / "tansu.log").start()
        request.node._kafka_processes.append(tansu)
        started.append(tansu)
        tansu.create_topics()
        server = KafkaServer(binary, tmp_path / "data", tmp_path / "server.log", bootstrap=tansu.bootstrap,
                             fmt=fmt, sink=sink, config=config)
        server.env.update(env or {})
        request.node._kafka_processes.append(server)
        started.append(server)
        server.start()
        peer = Peer(tansu.bootstrap, fmt, group=f"peer-{uuid.uuid4().hex[:8]}")
        started.append(peer)
        return tansu, server, peer, harness.Api(server.url)

    yield make
    for item in reversed(started):
        if isinstance(item, Peer):
            item.close()
        else:
            item.terminate()
