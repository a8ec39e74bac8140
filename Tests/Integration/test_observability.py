"""Observability: the Grafana dashboard (deploy/grafana/orchestrator-dynamic.json) and the Prometheus
rules (deploy/prometheus/alerts.yml) against a real Prometheus scraping the real server.

A real `prometheus` (Debian package `prometheus`) is started with deploy/prometheus/prometheus.yml
(scrape and rule evaluation every second, the server's metrics listener as target) while a workload
runs through the server: successful workflows in every risk band, a ticket that fails once and is
retried, a saga whose last task fails for good (compensations), a plan with a 200 ms SLA whose first
ticket is held by the worker past it, a lease abandoned by its worker (expiry and retry), a plan with a
cycle, a decision awaiting approval, a rejected decision. Then, through Prometheus's HTTP API, every
panel expression of the dashboard (its variables replaced by concrete values) and every rule
expression must parse; every panel must show data and, over the run, a non-zero value (except the panels
listed below with the reason they cannot be fed here); the SLA-violation alert must be pending or
firing; the alerts of a healthy server must be quiet. `promtool` checks the rules, the example
configuration and runs the rule unit tests (deploy/prometheus/alerts.test.yml).

Without `prometheus`/`promtool` the tests are skipped, unless ORCHESTRATOR_REQUIRE_PROMETHEUS=1
(scripts/test.sh sets it), which makes them fail. ORCHESTRATOR_PROMETHEUS / ORCHESTRATOR_PROMTOOL
name other binaries.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from typing import Any

import pytest
import requests
import yaml

import workload
from conftest import note
from harness import TERMINAL_STATUSES, REPO_ROOT, Api, ManagedProcess, PyWorker, expect, free_port, tickets_by_task

DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "orchestrator-dynamic.json"
PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts.test.yml"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
JOB = "orchestrator-dynamic"

# --- what the dashboard must look like ---------------------------------------------------------

ROW_TITLES = ("Overview", "Latency", "SLA by risk band", "Tickets and workers", "Incidents and compensations",
              "Kafka", "Store and replicas")
PANEL_TYPES = {"timeseries", "stat", "gauge"}

# The metric names the server exports (CONTRACTS.md "Metrics" and the server's own). An expression
# naming anything else has a typo or a metric nobody exports.
HISTOGRAMS = {
    "orchestration_workflow_duration_seconds", "orchestration_ticket_generation_duration_seconds",
    "orchestration_sla_remaining_seconds", "orchestrator_engine_commit_duration_seconds",
    "orchestrator_engine_commit_transitions", "http_server_request_duration",
}
METRICS = {
    "orchestration_workflows_started_total", "orchestration_workflows_completed_total",
    "orchestration_workflows_active", "orchestration_tickets_generated_total", "orchestration_tickets_published_total",
    "orchestration_tickets_completed_total", "orchestration_sla_violations_total",
    "orchestration_deadline_approaching_total", "orchestration_retries_total",
    "orchestration_compensations_triggered_total", "orchestration_kafka_messages_consumed_total",
    "orchestration_kafka_messages_produced_total", "orchestration_kafka_consumer_lag",
    "orchestration_kafka_errors_total", "orchestration_kafka_dead_letters_total", "orchestration_plan_validations_total",
    "orchestration_dag_cycles_detected_total", "orchestration_resource_allocations_total",
    "orchestration_results_consolidated_total", "orchestration_self_healing_triggered_total",
    "orchestration_telemetry_published_total", "orchestration_telemetry_buffered_total",
    "orchestration_outbox_relayed_total",
    "orchestrator_build_info", "orchestrator_engine_commits_total", "orchestrator_engine_queue_depth",
    "orchestrator_tickets_ready", "orchestrator_leases_active", "orchestrator_outbox_backlog",
    "orchestrator_store_errors_total", "orchestrator_sla_checks_total", "orchestrator_incidents_total",
    "orchestrator_dead_letters_total", "orchestrator_workflows_owned", "orchestrator_workflows_claimed_total",
    "orchestrator_workflows_lost_total", "orchestrator_replica_heartbeats_total",
    "orchestrator_replica_last_heartbeat_timestamp_seconds", "hb_requests",
    "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
    "process_max_fds", "process_start_time_seconds",
} | {h + suffix for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
# Metrics with a risk_band label: the dashboard filters them by the risk_band variable too.
BANDED = {
    "orchestration_workflows_started_total", "orchestration_workflows_completed_total",
    "orchestration_tickets_generated_total", "orchestration_sla_violations_total", "orchestrator_sla_checks_total",
} | {"orchestration_workflow_duration_seconds" + s for s in ("_bucket", "_sum", "_count")}
# A metric name (not part of a recording rule's `level:metric:operations` name).
METRIC_NAME = re.compile(r"(?<![\w:])((?:orchestration|orchestrator|process|hb|http_server)_[a-z0-9_]+)(?![\w:])")

# --- what a test run can feed ------------------------------------------------------------------

# Panels that this run cannot feed: they may show nothing, or only zeros. {title: why}
NOT_FED = {
    "Kafka messages consumed": "no Kafka broker here: the intake consumers are off",
    "Kafka messages produced": "no Kafka broker here: the outbox goes to JSON-lines files",
    "Kafka consumer lag by topic": "no Kafka broker here: no consumer, no lag",
    "Kafka errors by operation": "no Kafka broker here: no Kafka client errors",
    "Kafka dead letters by topic": "no Kafka broker here: dead letters come from the Kafka intake",
    "Dead letters by source": "dead letters come from consumed messages; no Kafka broker here",
    "Telemetry buffered": "telemetry is buffered only while the sink fails; the file sink never fails here",
    "Store errors by operation": "a healthy store has no errors to count",
    "Workflows claimed from other replicas": "one replica: no workflow to take over",
    "Workflows lost to other replicas": "one replica: nobody to lose workflows to",
}
NOT_FED_ON_SQLITE = {
    "Workflows owned per replica": "workflow ownership exists on PostgreSQL only (one SQLite process runs them all)",
    "Replica heartbeats by outcome": "ownership heartbeats exist on PostgreSQL only",
    "Seconds since last replica heartbeat": "ownership heartbeats exist on PostgreSQL only",
}
# Metrics the rules use that this run's server may not export at all. {name: why}
ABSENT_METRICS = {
    "orchestration_kafka_consumer_lag": "no Kafka broker here: no consumer, no lag",
    "orchestration_kafka_errors_total": "no Kafka broker here: a series appears with its first error",
}
ABSENT_METRICS_ON_SQLITE = {
    "orchestrator_replica_last_heartbeat_timestamp_seconds": "ownership heartbeats exist on PostgreSQL only",
}
# Panels that must show data, but whose value may stay 0 for the whole run. {title: why}
MAY_STAY_ZERO = {
    "Engine queue depth": "the engine drains its queue within milliseconds at this load: 0 at most scrapes",
    "Outbox backlog": "the relay empties the outbox within milliseconds: 0 at most scrapes",
    "Ready tickets": "the worker long-polls, so a released ticket is leased at once: 0 at most scrapes",
}
# Alerts that must not be pending or firing while a healthy server runs this workload.
QUIET_ALERTS = (
    "OrchestratorDown", "OrchestratorAbsent", "OrchestratorNoProgress", "OrchestratorStoreErrors",
    "OrchestratorEngineQueueBacklog", "OrchestratorReplicaHeartbeatLost", "OrchestratorReplicaHeartbeatFailing",
    "OrchestratorWorkflowsLost", "OrchestratorOutboxBacklogGrowing", "OrchestratorHTTPErrors",
    "OrchestratorFileDescriptorsHigh", "OrchestratorRestarted", "OrchestratorDeadLetters", "OrchestratorKafkaErrors",
    "OrchestratorKafkaConsumerLag",
)

# Concrete values for Grafana's built-in variables. $__rate_interval is 30 s (not Grafana's 4 x
# scrape interval) so that the rare events of the workload (one of each kind every few seconds)
# show in every rate window.
RATE_INTERVAL = "30s"
RANGE = "10m"
STEP_S = 2
TRAFFIC_S = float(os.environ.get("OBSERVABILITY_TRAFFIC_S", "30"))


# --- tools ---------------------------------------------------------------------------------------


def tool(name: str) -> str:
    """The path of `prometheus` or `promtool` (ORCHESTRATOR_PROMETHEUS / ORCHESTRATOR_PROMTOOL, else
    the PATH, else /usr/bin). Missing: skip, or fail with ORCHESTRATOR_REQUIRE_PROMETHEUS=1."""
    path = os.environ.get(f"ORCHESTRATOR_{name.upper()}") or shutil.which(name) or f"/usr/bin/{name}"
    if os.access(path, os.X_OK):
        return path
    problem = (f"`{name}` not found (looked at ORCHESTRATOR_{name.upper()}, the PATH and /usr/bin): install the "
               "Debian package `prometheus` (scripts/test.sh does)")
    if os.environ.get("ORCHESTRATOR_REQUIRE_PROMETHEUS") == "1":
        pytest.fail(f"ORCHESTRATOR_REQUIRE_PROMETHEUS=1 but {problem}", pytrace=False)
    pytest.skip(problem)


def load_dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def load_rules() -> list[dict]:
    """Every rule of alerts.yml (recording and alerting), in file order."""
    body = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in body["groups"] for rule in group["rules"]]


def panels(dashboard: dict) -> list[dict]:
    """The panels that are not rows, each with the title of the row above it under `row`."""
    found: list[dict] = []
    row = None
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            row = panel.get("title")
            found += [{**p, "row": row} for p in panel.get("panels", [])]  # a collapsed row keeps its panels
        else:
            found.append({**panel, "row": row})
    return found


def substitute(expr: str, values: dict[str, str]) -> str:
    """Grafana's variable forms `$name`, `${name}`, `${name:format}` and `[[name]]` replaced by `values`
    (longest names first, so `$__range` does not eat `$__rate_interval`). Fails on any variable left."""
    out = expr
    for name in sorted(values, key=len, reverse=True):
        value = values[name]
        out = re.sub(r"\$\{" + re.escape(name) + r"(?::[a-z]+)?\}", lambda _: value, out)
        out = out.replace(f"[[{name}]]", value)
        out = re.sub(r"\$" + re.escape(name) + r"(?![A-Za-z0-9_])", lambda _: value, out)
    left = re.findall(r"\$\{?[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z_]+\]\]", out)
    assert not left, f"variables {left} not substituted in {expr!r}"
    return out


# --- Prometheus ----------------------------------------------------------------------------------


class Prometheus(ManagedProcess):
    """A real Prometheus server on loopback with a configuration written for the test."""

    def __init__(self, binary: str, config: dict, directory, log_path) -> None:
        super().__init__("prometheus", log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        directory.mkdir(parents=True, exist_ok=True)
        self.config_path = directory / "prometheus.yml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.argv = [binary, f"--config.file={self.config_path}", f"--storage.tsdb.path={directory / 'tsdb'}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]

    def start(self, timeout: float = 30.0) -> "Prometheus":
        self._spawn(self.argv)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.running(), f"prometheus exited; log:\n{self.log_tail(60)}"
            try:
                if requests.get(self.url + "/-/ready", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"prometheus not ready within {timeout}s; log:\n{self.log_tail(60)}")

    def api(self, path: str, **params) -> dict:
        """An /api/v1 endpoint's whole JSON body (queries are POSTed: expressions can be long)."""
        if path in ("query", "query_range"):
            r = requests.post(self.url + "/api/v1/" + path, data=params, timeout=30)
        else:
            r = requests.get(self.url + "/api/v1/" + path, params=params, timeout=30)
        try:
            body = r.json()
        except ValueError:
            raise AssertionError(f"prometheus {path}: HTTP {r.status_code} {r.text[:500]}") from None
        return body

    def data(self, path: str, **params) -> Any:
        body = self.api(path, **params)
        assert body.get("status") == "success", f"prometheus {path} {params}: {body}"
        return body["data"]

    def wait_target_up(self, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        targets: list = []
        while time.monotonic() < deadline:
            targets = self.data("targets")["activeTargets"]
            if targets and all(t["health"] == "up" for t in targets):
                return targets[0]
            time.sleep(0.2)
        raise AssertionError(f"scrape target not up within {timeout}s: {targets}")

    def alerts(self) -> list[dict]:
        return self.data("alerts")["alerts"]


@pytest.fixture
def start_prometheus(request, tmp_path):
    started: list[Prometheus] = []

    def factory(config: dict) -> Prometheus:
        prom = Prometheus(tool("prometheus"), config, tmp_path / "prometheus", tmp_path / "prometheus.log")
        if not hasattr(request.node, "_orchestrator_processes"):
            request.node._orchestrator_processes = []
        request.node._orchestrator_processes.append(prom)
        started.append(prom)
        return prom.start()

    yield factory
    for prom in started:
        prom.terminate()


def prometheus_config(metrics_target: str) -> dict:
    """deploy/prometheus/prometheus.yml, scraping `metrics_target` and evaluating every second."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["rule_files"] = [str((PROMETHEUS_DIR / f).resolve()) for f in config["rule_files"]]
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == JOB]
    job["static_configs"] = [{"targets": [metrics_target]}]
    return config


# --- the workload ----------------------------------------------------------------------------------

BANDS = ("low", "medium", "high", "critical")
PRIORITIES = ("LOW", "NORMAL", "HIGH", "CRITICAL")
TASK_TYPES = ("build", "deploy", "test", "validate", "query", "transform")
# One cycle of submissions; "ok" more often, as in real traffic.
SCENARIOS = ("ok", "retry", "ok", "saga", "sla", "ok", "lost", "invalid", "review", "reject")
# The status each scenario ends in.
EXPECTED_STATUS = {"ok": "COMPLETED", "retry": "COMPLETED", "saga": "FAILED", "sla": "COMPLETED", "lost": "COMPLETED",
                   "invalid": "FAILED", "review": "COMPLETED", "reject": "REJECTED"}
SLA_DEADLINE_MS = 200  # the `sla` plans' whole-plan SLA
SLA_HOLD_S = 0.5  # how long the worker holds the `sla` plans' first ticket


def scenario_decision(scenario: str, n: int) -> dict:
    plan_id = f"obs-{scenario}-{n}"
    band = BANDS[n % 4]
    kind = TASK_TYPES[n % len(TASK_TYPES)]
    review, final = False, "approve"
    derive = True
    metadata: dict = {}
    if scenario == "ok":
        tasks = [workload.task("A", task_type=kind), workload.task("B", ["A"], task_type=TASK_TYPES[(n + 1) % 6])]
    elif scenario in ("retry", "lost", "review", "reject"):
        tasks = [workload.task("only", task_type=kind)]
        review = scenario == "review"
        final = "reject" if scenario == "reject" else "approve"
    elif scenario == "saga":
        tasks = [workload.task("A"), workload.task("B", ["A"]), workload.task("C", ["B"])]
    elif scenario == "sla":
        band = "medium"  # one series, so that the alert sees it rise
        tasks = [workload.task("A", task_type="deploy"), workload.task("B", ["A"], task_type="deploy")]
        metadata["sla_deadline_ms"] = str(SLA_DEADLINE_MS)
    elif scenario == "invalid":
        tasks = [workload.task("start"), workload.task("loop-a", ["start", "loop-b"]), workload.task("loop-b", ["loop-a"])]
        derive = False
    else:
        raise ValueError(scenario)
    plan = workload.plan(plan_id, tasks, risk_band=band, derive_order=derive)
    plan["original_priority"] = PRIORITIES[(n // 4) % 4]
    plan["metadata"].update(metadata)
    return workload.decision(plan, final_decision=final, requires_human_review=review)


class Traffic:
    """A submitter thread (one decision every `interval` seconds, cycling through SCENARIOS, approving
    the `review` workflows a second later) and a Python worker thread that handles every ticket as its
    scenario says."""

    def __init__(self, url: str, interval: float = 0.3) -> None:
        self.submit_api = Api(url)
        self.worker = PyWorker(Api(url), "obs-worker")
        self.interval = interval
        self.workflows: dict[str, str] = {}  # workflow_id -> scenario
        self.actions: Counter = Counter()
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.stop_submitting = threading.Event()
        self.stop_working = threading.Event()
        self.started_at = time.time()
        self.threads = [threading.Thread(target=self._guard, args=(self._submit,), daemon=True),
                        threading.Thread(target=self._guard, args=(self._work,), daemon=True)]

    def start(self) -> "Traffic":
        self.worker.register()
        self.started_at = time.time()
        for thread in self.threads:
            thread.start()
        return self

    def _guard(self, body) -> None:
        try:
            body()
        except Exception as error:  # a thread's failure fails the test (run_and_check, finish)
            with self.lock:
                self.errors.append(f"{body.__name__}: {type(error).__name__}: {error}")

    def cycles(self) -> int:
        with self.lock:
            return len(self.workflows) // len(SCENARIOS)

    def _submit(self) -> None:
        approvals: list[tuple[float, str]] = []
        n = 0
        while not self.stop_submitting.is_set():
            scenario = SCENARIOS[n % len(SCENARIOS)]
            created = expect(self.submit_api.submit_decision(scenario_decision(scenario, n)), 200, 201)
            with self.lock:
                self.workflows[created["workflow_id"]] = scenario
            if scenario == "review":
                approvals.append((time.monotonic() + 1.0, created["workflow_id"]))
            n += 1
            approvals = self._approve_due(approvals)
            time.sleep(self.interval)
        while approvals:
            approvals = self._approve_due(approvals)
            time.sleep(0.1)

    def _approve_due(self, approvals: list[tuple[float, str]]) -> list[tuple[float, str]]:
        now = time.monotonic()
        for _, workflow_id in [a for a in approvals if a[0] <= now]:
            expect(self.submit_api.post(f"/api/v1/workflows/{workflow_id}/approve", {"by": "obs-test"}), 200)
        return [a for a in approvals if a[0] > now]

    def _report(self, what: str, response: requests.Response) -> None:
        if response.status_code != 200:
            with self.lock:
                self.errors.append(f"{what}: HTTP {response.status_code} {response.text[:300]}")
        self.actions[what] += 1

    def _work(self) -> None:
        held: list[tuple[float, Any]] = []
        while not self.stop_working.is_set():
            for lease in self.worker.poll(max_tickets=10, wait_ms=100):
                ticket = lease.ticket
                scenario = ticket["plan_id"].split("-")[1]
                if ticket["task_type"] == "COMPENSATE":
                    self._report("compensate", self.worker.complete(lease))
                elif scenario == "retry" and ticket["retry_count"] == 0:
                    self._report("fail-retryable", self.worker.fail(lease, "transient: injected", retryable=True))
                elif scenario == "saga" and lease.task_id == "C":
                    self._report("fail-final", self.worker.fail(lease, "permanent: injected", retryable=False))
                elif scenario == "lost" and ticket["retry_count"] == 0:
                    self.actions["abandon"] += 1  # no heartbeat, no report: the lease expires
                elif scenario == "sla" and lease.task_id == "A":
                    held.append((time.monotonic() + SLA_HOLD_S, lease))
                else:
                    self._report("complete", self.worker.complete(lease))
            now = time.monotonic()
            for _, lease in [h for h in held if h[0] <= now]:
                self._report("complete-late", self.worker.complete(lease))
            held = [h for h in held if h[0] > now]

    def finish(self, timeout: float = 90.0) -> dict[str, dict]:
        """Stops submitting, waits until every workflow is final, stops the worker; the final views."""
        self.stop_submitting.set()
        self.threads[0].join(timeout=30)
        views: dict[str, dict] = {}
        deadline = time.monotonic() + timeout
        pending = set(self.workflows)
        while pending and time.monotonic() < deadline and not self.errors:
            for workflow_id in sorted(pending):
                view = self.submit_api.workflow(workflow_id)
                if view["status"] in TERMINAL_STATUSES:
                    views[workflow_id] = view
                    pending.discard(workflow_id)
            time.sleep(0.2)
        self.abort()
        assert not self.errors, f"workload errors: {self.errors}"
        assert not pending, f"{len(pending)} workflows not final within {timeout}s: " + ", ".join(
            f"{w} ({self.workflows[w]})" for w in sorted(pending)[:10])
        return views

    def abort(self) -> None:
        self.stop_submitting.set()
        self.stop_working.set()
        for thread in self.threads:
            thread.join(timeout=30)


def outcome_problems(traffic: Traffic, views: dict[str, dict]) -> list[str]:
    """Each workflow ended as its scenario was designed: what the dashboard shows really happened."""
    problems = []
    for workflow_id, scenario in sorted(traffic.workflows.items()):
        view = views[workflow_id]
        if view["status"] != EXPECTED_STATUS[scenario]:
            problems.append(f"{workflow_id} ({scenario}): {view['status']} ({view.get('reason')!r}), "
                            f"expected {EXPECTED_STATUS[scenario]}")
            continue
        m = view.get("metrics") or {}
        tickets = tickets_by_task(view)
        if scenario == "retry" and tickets["only"]["retry_count"] != 1:
            problems.append(f"{workflow_id} (retry): retry_count {tickets['only']['retry_count']}, expected 1")
        if scenario == "lost" and tickets["only"]["retry_count"] < 1:
            problems.append(f"{workflow_id} (lost): retry_count {tickets['only']['retry_count']} after the lease expired")
        if scenario == "saga" and (m.get("failed"), m.get("compensated")) != (1, 2):
            problems.append(f"{workflow_id} (saga): metrics {m}, expected 1 failed and 2 compensated")
        if scenario == "sla" and m.get("sla_violations") != 2:
            problems.append(f"{workflow_id} (sla): metrics {m}, expected 2 SLA violations")
    return problems


# --- evaluation ------------------------------------------------------------------------------------


def finite(sample_value: str) -> float | None:
    value = float(sample_value)
    return None if math.isnan(value) else value


def evaluate_range(prom: Prometheus, expr: str, start: float, end: float) -> tuple[str | None, int, bool]:
    """Runs `expr` as a range query: (error or None, number of series with a value other than NaN,
    whether any value is non-zero)."""
    body = prom.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{STEP_S}s")
    if body.get("status") != "success":
        return f"{body.get('errorType')}: {body.get('error')}", 0, False
    series = 0
    nonzero = False
    for result in body["data"]["result"]:
        values = [finite(v) for _, v in result["values"]]
        if any(v is not None for v in values):
            series += 1
        nonzero = nonzero or any(v not in (None, 0.0) for v in values)
    return None, series, nonzero


def check_variables(prom: Prometheus, dashboard: dict, instance: str) -> None:
    """The dashboard's variables: a Prometheus datasource variable, `replica` listing our target's
    instance and `risk_band` listing the four bands (as Prometheus answers their label_values queries)."""
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for name, (metric, label) in {"replica": ("orchestrator_build_info", "instance"),
                                  "risk_band": ("orchestration_workflows_started_total", "risk_band")}.items():
        values = prom.data(f"label/{label}/values", **{"match[]": metric})
        if name == "replica":
            assert instance in values, f"${name}: label_values({metric}, {label}) = {values}, not {instance}"
        else:
            assert set(BANDS) <= set(values), f"${name}: label_values({metric}, {label}) = {values}"


def wait_for_sla_alert(prom: Prometheus, timeout: float = 60.0) -> dict:
    """OrchestratorSLAViolationsRising, pending or firing (the workload misses an SLA every few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        alerts = prom.alerts()
        found = next((a for a in alerts if a["labels"].get("alertname") == "OrchestratorSLAViolationsRising"
                      and a["state"] in ("pending", "firing")), None)
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"OrchestratorSLAViolationsRising not pending/firing: {alerts}"
        time.sleep(1)


def panel_problems(prom: Prometheus, instance: str, not_fed: dict[str, str], start: float, end: float
                   ) -> tuple[list[str], list[str]]:
    """Every panel query of the dashboard, its variables replaced, over [start, end]: the problems, and
    the panels listed in `not_fed` that showed data anyway."""
    dashboard = load_dashboard()
    check_variables(prom, dashboard, instance)
    # As Grafana writes a multi-value variable for Prometheus: regex-escaped ("127\\.0\\.0\\.1:PORT").
    values = {"replica": re.sub(r"([\\^$*+?.()|\[\]{}/])", r"\\\\\1", instance), "risk_band": ".*",
              "__rate_interval": RATE_INTERVAL, "__interval": f"{STEP_S}s", "__range": RANGE,
              "datasource": "prometheus"}
    refused, empty, zero, fed_anyway = [], [], [], []
    for panel in panels(dashboard):
        title = panel["title"]
        panel_nonzero = False
        for target in panel["targets"]:
            expr = substitute(target["expr"], values)
            error, series, nonzero = evaluate_range(prom, expr, start, end)
            if error:
                refused.append(f"{title} [{target['refId']}]: {error}\n    {expr}")
            elif series == 0 and title not in not_fed:
                empty.append(f"{title} [{target['refId']}]: {expr}")
            panel_nonzero = panel_nonzero or nonzero
        if title in not_fed and panel_nonzero:
            fed_anyway.append(title)
        elif title not in not_fed and title not in MAY_STAY_ZERO and not panel_nonzero:
            zero.append(title)
    problems = []
    if refused:
        problems.append("panel expressions Prometheus refused:\n  " + "\n  ".join(refused))
    if empty:
        problems.append("panel queries that returned no data (no series, or only NaN):\n  " + "\n  ".join(empty))
    if zero:
        problems.append("panels that stayed at 0 the whole run: " + ", ".join(zero))
    return problems, fed_anyway


def rule_problems(prom: Prometheus, instance: str, absent_ok: dict[str, str]) -> list[str]:
    """Every rule expression parses, Prometheus evaluates every rule without error, every recording rule
    records, every metric a rule reads is exported (a typo or a renamed metric leaves a rule that never
    fires), and the alerts of a healthy server are quiet."""
    rules = load_rules()
    problems = []
    for rule in rules:
        body = prom.api("query", query=rule["expr"])
        if body.get("status") != "success":
            problems.append(f"{rule.get('alert') or rule.get('record')}: {body.get('error')}")
    evaluated = {r["name"]: r for g in prom.data("rules")["groups"] for r in g["rules"]}
    for rule in rules:
        name = rule.get("alert") or rule.get("record")
        state = evaluated.get(name)
        if state is None or state.get("health") != "ok":
            problems.append(f"{name}: evaluated by Prometheus as {state and state.get('health')} "
                            f"{state and state.get('lastError')}")
        elif "record" in rule and not prom.data("query", query=name)["result"]:
            problems.append(f"recording rule {name}: no series recorded")
    for name in sorted({m for rule in rules for m in METRIC_NAME.findall(rule["expr"])} - set(absent_ok)):
        if not prom.data("query", query=f'count({{__name__="{name}",instance="{instance}"}})')["result"]:
            readers = [r.get("alert") or r.get("record") for r in rules if name in METRIC_NAME.findall(r["expr"])]
            problems.append(f"{name}, read by {readers}: not exported by the server")
    noisy = {a["labels"]["alertname"]: a["state"] for a in prom.alerts() if a["labels"]["alertname"] in QUIET_ALERTS}
    if noisy:
        problems.append(f"alerts of a healthy server pending/firing: {noisy}")
    return problems


def run_and_check(start_server, start_prometheus, request, *, store: str, store_args: list[str]) -> None:
    tool("prometheus")  # skip or fail before anything starts
    metrics_port = free_port()
    server = start_server(extra_args=["--metrics-port", str(metrics_port), *store_args])
    instance = f"127.0.0.1:{metrics_port}"
    # The dedicated metrics listener answers without a token (auth.metrics_need_token is off).
    scraped = requests.get(f"http://{instance}/metrics", timeout=10)
    assert scraped.status_code == 200 and "orchestration_workflows_active" in scraped.text, scraped.text[:500]

    prom = start_prometheus(prometheus_config(instance))
    target = prom.wait_target_up()
    assert target["labels"]["instance"] == instance and target["labels"]["job"] == JOB, target["labels"]

    sqlite = store == "sqlite"
    not_fed = {**NOT_FED, **(NOT_FED_ON_SQLITE if sqlite else {})}
    traffic = Traffic(server.url).start()
    try:
        deadline = time.monotonic() + TRAFFIC_S + 120
        while (time.time() - traffic.started_at < TRAFFIC_S or traffic.cycles() < 3) and not traffic.errors:
            assert time.monotonic() < deadline, f"the workload did not get through 3 cycles: {traffic.workflows}"
            time.sleep(0.5)
        assert not traffic.errors, f"workload errors: {traffic.errors}"

        sla_alert = wait_for_sla_alert(prom)
        assert sla_alert["labels"].get("risk_band") == "medium" and sla_alert["labels"]["severity"] == "warning", sla_alert
        problems, fed_anyway = panel_problems(prom, instance, not_fed, traffic.started_at, time.time())
        problems += rule_problems(prom, instance, {**ABSENT_METRICS, **(ABSENT_METRICS_ON_SQLITE if sqlite else {})})
        for title in fed_anyway:
            note(request.config, f"observability ({store}): panel {title!r} is listed as not fed "
                                 f"({not_fed[title]}) but showed data")
        assert not problems, "\n".join(problems)
    except BaseException:
        traffic.abort()
        raise
    views = traffic.finish()
    problems = outcome_problems(traffic, views)
    assert not problems, "\n".join(problems)
    for what in ("complete", "complete-late", "compensate", "fail-retryable", "fail-final", "abandon"):
        assert traffic.actions[what] > 0, f"the worker never did {what!r}: {dict(traffic.actions)}"


# --- the tests -------------------------------------------------------------------------------------


def test_dashboard_is_well_formed():
    """Static checks of the dashboard: importable shape, variables, rows, panels, and every query
    filtered by the replica (and risk band) variables, on metric names the server exports."""
    d = load_dashboard()
    assert 36 <= d["schemaVersion"] <= 41, d["schemaVersion"]
    assert any(i["type"] == "datasource" and i["pluginId"] == "prometheus" for i in d["__inputs"]), d["__inputs"]
    assert {r["id"] for r in d["__requires"]} >= {"grafana", "prometheus", "timeseries", "stat", "gauge"}
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for name, query in (("replica", "label_values(orchestrator_build_info, instance)"),
                        ("risk_band", "label_values(orchestration_workflows_started_total, risk_band)")):
        v = variables[name]
        assert v["type"] == "query" and v["multi"] and v["includeAll"] and v["allValue"] == ".*", v
        assert v["definition"] == query and v["query"]["query"] == query, v
        assert v["datasource"]["uid"] == "${datasource}", v

    rows = [p["title"] for p in d["panels"] if p["type"] == "row"]
    assert rows == list(ROW_TITLES), rows
    found = panels(d)
    assert len(found) >= 20, len(found)
    titles = [p["title"] for p in found]
    assert len(titles) == len(set(titles)), [t for t in titles if titles.count(t) > 1]
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    problems = []
    for p in found:
        where = f"{p['title']!r}"
        if p["type"] not in PANEL_TYPES:
            problems.append(f"{where}: type {p['type']}")
        if p["row"] is None:
            problems.append(f"{where}: not under a row")
        if len(p.get("description", "")) < 20:
            problems.append(f"{where}: no description")
        if p.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"{where}: datasource {p.get('datasource')}")
        if not p.get("targets"):
            problems.append(f"{where}: no query")
        for target in p.get("targets", []):
            expr = target["expr"]
            if target.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{where} [{target['refId']}]: datasource {target.get('datasource')}")
            names = METRIC_NAME.findall(expr)
            if not names:
                problems.append(f"{where}: no metric in {expr!r}")
            for match in METRIC_NAME.finditer(expr):
                name = match.group(1)
                if name not in METRICS:
                    problems.append(f"{where}: unknown metric {name}")
                selector = re.match(r"\{([^}]*)\}", expr[match.end():])
                matchers = selector.group(1) if selector else ""
                if 'instance=~"$replica"' not in matchers:
                    problems.append(f"{where}: {name} without instance=~\"$replica\"")
                if name in BANDED and 'risk_band=~"$risk_band"' not in matchers:
                    problems.append(f"{where}: {name} without risk_band=~\"$risk_band\"")
            if re.search(r"\brate\([^)]*\[(?!\$__rate_interval\])", expr):
                problems.append(f"{where}: rate() over a fixed window instead of $__rate_interval: {expr}")
    for title in {**NOT_FED, **NOT_FED_ON_SQLITE, **MAY_STAY_ZERO}:
        if title not in titles:
            problems.append(f"the test lists a panel the dashboard does not have: {title!r}")
    assert not problems, "\n".join(problems)


def test_rules_check_and_unit_tests_with_promtool():
    """`promtool check rules` and `check config`, and `promtool test rules` over alerts.test.yml, in
    which every alert has a case where it fires; every alert has a severity and the three annotations."""
    promtool = tool("promtool")
    for argv in (["check", "rules", str(RULES)], ["check", "config", str(PROMETHEUS_CONFIG)],
                 ["test", "rules", str(RULE_TESTS)]):
        out = subprocess.run([promtool, *argv], capture_output=True, text=True, timeout=120, cwd=PROMETHEUS_DIR)
        assert out.returncode == 0, f"promtool {' '.join(argv)} failed ({out.returncode}):\n{out.stdout}{out.stderr}"
        assert "SUCCESS" in out.stdout + out.stderr, out.stdout + out.stderr

    rules = load_rules()
    alerts = [r for r in rules if "alert" in r]
    problems = []
    for rule in alerts:
        name = rule["alert"]
        if rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            problems.append(f"{name}: severity {rule.get('labels', {}).get('severity')!r}")
        for key in ("summary", "description", "runbook"):
            if len(str(rule.get("annotations", {}).get(key, "")).strip()) < 20:
                problems.append(f"{name}: annotation {key} missing or too short")
    for rule in rules:
        for name in METRIC_NAME.findall(rule["expr"]):
            if name not in METRICS:
                problems.append(f"{rule.get('alert') or rule.get('record')}: unknown metric {name}")
    names = {r["alert"] for r in alerts}
    required = {"OrchestratorSLAViolationsRising", "OrchestratorWorkflowsFailing", "OrchestratorNoProgress",
                "OrchestratorOutboxBacklogGrowing", "OrchestratorKafkaConsumerLag", "OrchestratorDeadLetters",
                "OrchestratorReplicaHeartbeatLost", "OrchestratorStoreErrors"}
    if not required <= names:
        problems.append(f"alerts missing: {sorted(required - names)}")
    for name in QUIET_ALERTS:
        if name not in names:
            problems.append(f"the test lists an alert alerts.yml does not have: {name}")

    unit = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    fires = {case["alertname"] for test in unit["tests"] for case in test.get("alert_rule_test", [])
             if case.get("exp_alerts")}
    quiet = {case["alertname"] for test in unit["tests"] for case in test.get("alert_rule_test", [])
             if not case.get("exp_alerts")}
    if names - fires:
        problems.append(f"alerts without a unit test in which they fire: {sorted(names - fires)}")
    if len(quiet) < 5:
        problems.append(f"only {sorted(quiet)} have a unit test in which they stay quiet")
    records = {r["record"] for r in rules if "record" in r}
    tested = {case["expr"] for test in unit["tests"] for case in test.get("promql_expr_test", [])}
    if records - tested:
        problems.append(f"recording rules without an expression test: {sorted(records - tested)}")
    assert not problems, "\n".join(problems)


def test_dashboard_and_alerts_on_a_real_prometheus_sqlite(start_server, start_prometheus, request):
    run_and_check(start_server, start_prometheus, request, store="sqlite", store_args=[])


def test_dashboard_and_alerts_on_a_real_prometheus_postgres(start_server, start_prometheus, request, pg_url):
    run_and_check(start_server, start_prometheus, request, store="postgresql", store_args=["--database-url", pg_url])
