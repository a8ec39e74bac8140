"""Fixtures: a Tansu broker and the orchestrator binary wired to it, per test; logs of both are
attached to a failing test's report."""

from __future__ import annotations

import copy
import json
import pathlib
import uuid

import pytest

import kafka_harness
from kafka_harness import KafkaServer, Peer, TansuProcess, harness


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

    def make(fmt: str, sink: str = "kafka", config: dict | None = None):
        tansu = TansuProcess(tmp_path / "tansu.log").start()
        request.node._kafka_processes.append(tansu)
        started.append(tansu)
        tansu.create_topics()
        server = KafkaServer(binary, tmp_path / "data", tmp_path / "server.log", bootstrap=tansu.bootstrap,
                             fmt=fmt, sink=sink, config=config)
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


def example_decision() -> dict:
    return json.loads((harness.REPO_ROOT / "examples" / "decision.json").read_text())


def example_plan() -> dict:
    return json.loads(example_decision()["cognitive_plan"])


def variant(suffix: str, *, embed_plan: bool, fmt: str) -> tuple[dict, dict]:
    """The example decision and plan under new ids (plan `…-<suffix>`, decision `decision-<suffix>`)."""
    plan = example_plan()
    plan_id = plan["plan_id"][:-len(suffix)] + suffix
    plan["plan_id"] = plan_id
    decision = copy.deepcopy(example_decision())
    decision["decision_id"] = f"decision-{suffix}"
    decision["plan_id"] = plan_id
    if embed_plan:
        decision["cognitive_plan"] = json.dumps(plan)
    elif fmt == "avro":
        decision["cognitive_plan"] = None
    else:
        decision.pop("cognitive_plan")
    return decision, plan
