"""OpenTelemetry traces, received by a real OTLP/HTTP receiver (protobuf decoded with PyPI
`opentelemetry-proto`): one trace per workflow continuing the caller's trace, with the workflow,
C1, C2, ticket-attempt and HTTP spans, and the tickets' trace_id/span_id the real ids."""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from harness import TEST_TOKEN, Api, PyWorker, expect, free_port, read_outbox
import workload

# From Tests/Integration/requirements.txt (scripts/test.sh installs it): a missing module fails.
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_service


class OTLPReceiver:
    """`POST /v1/traces` (OTLP/HTTP protobuf) on loopback; keeps every span it decodes."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                request = trace_service.ExportTraceServiceRequest.FromString(body)
                receiver.add(request)
                answer = trace_service.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, request) -> None:
        with self.lock:
            self.requests += 1
            for resource_spans in request.resource_spans:
                resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append({
                            "name": span.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent": span.parent_span_id.hex(),
                            "kind": span.kind,
                            "start": span.start_time_unix_nano,
                            "end": span.end_time_unix_nano,
                            "status": span.status.code,
                            "attributes": {a.key: value(a.value) for a in span.attributes},
                            "links": [(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
                            "resource": resource,
                        })

    def wait(self, predicate, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                spans = list(self.spans)
            if predicate(spans):
                return spans
            time.sleep(0.2)
        raise AssertionError(f"spans not received within {timeout}s; got {[(s['name'], s['trace_id']) for s in spans]}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@pytest.fixture
def receiver():
    r = OTLPReceiver()
    yield r
    r.close()


def traced_server(start_server, receiver, **env):
    return start_server(extra_args=["--log-format", "json"], env={
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_SERVICE_NAME": "orchestrator-under-test",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        **env,
    })


def run_to_end(api: Api, workflow_id: str) -> dict:
    worker = PyWorker(api, "trace-worker")
    worker.register()
    worker.run_workflow(workflow_id)
    return api.workflow(workflow_id)


def test_the_example_decision_gives_one_trace_continuing_the_decisions_ids(start_server, receiver):
    server = traced_server(start_server, receiver)
    api = Api(server.url)
    decision = workload.example_decision()
    trace_id, parent_span = secrets.token_hex(16), secrets.token_hex(8)
    decision["trace_id"], decision["span_id"] = trace_id, parent_span
    workflow_id = expect(api.submit_decision(decision), 201)["workflow_id"]
    view = run_to_end(api, workflow_id)
    assert view["status"] == "COMPLETED"
    tickets = view["tickets"]

    spans = receiver.wait(lambda spans: any(s["name"] == "workflow" and s["trace_id"] == trace_id for s in spans)
                          and sum(s["name"] == "ticket attempt" for s in spans) >= len(tickets)
                          and sum(s["kind"] == 2 and s["trace_id"] == trace_id for s in spans) >= len(tickets))
    mine = [s for s in spans if s["trace_id"] == trace_id]
    by_name: dict[str, list[dict]] = {}
    for span in mine:
        by_name.setdefault(span["name"], []).append(span)
    [workflow] = by_name["workflow"]
    # The workflow span continues the decision's span; C1, C2 and every attempt hang under it.
    assert workflow["parent"] == parent_span
    [c1], [c2] = by_name["C1 validation"], by_name["C2 ticket generation"]
    assert c1["parent"] == c2["parent"] == workflow["span_id"]
    assert c1["end"] <= c2["start"] + 1_000 and c2["attributes"]["orchestrator.tickets"] == len(tickets)
    attempts = by_name["ticket attempt"]
    assert len(attempts) == len(tickets)
    assert all(a["parent"] == workflow["span_id"] for a in attempts)
    assert {a["attributes"]["orchestrator.ticket_id"] for a in attempts} == {t["ticket_id"] for t in tickets}
    for attempt in attempts:
        attributes = attempt["attributes"]
        assert attributes["orchestrator.outcome"] == "completed"
        assert attributes["orchestrator.worker_id"] == "trace-worker"
        assert attributes["orchestrator.attempt"] == 1
        assert attributes["orchestrator.task_type"] in {"VALIDATE", "BUILD", "TEST", "DEPLOY"}
    for span in [workflow, c1, c2, *attempts]:
        attributes = span["attributes"]
        assert attributes["orchestrator.workflow_id"] == workflow_id
        assert attributes["orchestrator.plan_id"] == decision["plan_id"]
        assert attributes["orchestrator.decision_id"] == decision["decision_id"]
        assert attributes["orchestrator.correlation_id"] == decision["correlation_id"]
    assert workflow["attributes"]["orchestrator.status"] == "COMPLETED"
    assert workflow["resource"]["service.name"] == "orchestrator-under-test"
    assert workflow["resource"]["deployment.environment"] == "test"
    # The tickets carry the real ids: the trace, and the workflow span they hang under.
    full = [expect(api.get(f"/api/v1/tickets/{t['ticket_id']}"), 200) for t in tickets]
    assert {t["trace_id"] for t in full} == {trace_id}
    assert {t["span_id"] for t in full} == {workflow["span_id"]}
    # The workflow's log lines carry its trace.
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    lifecycle = [r for r in lines if r.get("workflow_id") == workflow_id and r["message"].startswith("workflow ")]
    assert {(r["trace_id"], r["span_id"]) for r in lifecycle} == {(trace_id, workflow["span_id"])}, lifecycle
    # Store commits and outbox relays are root spans; a commit links the workflows it wrote.
    commits = [s for s in spans if s["name"] == "store commit"]
    assert commits and all(s["attributes"]["db.system"] == "sqlite" for s in commits)
    assert any((trace_id, workflow["span_id"]) in s["links"] for s in commits)
    relays = [s for s in spans if s["name"] == "outbox relay"]
    assert relays and all(s["attributes"]["messaging.batch.message_count"] >= 1 for s in relays)
    # The published tickets carry a traceparent whose parent is the workflow span.
    published = read_outbox(server.outbox_dir)["execution.tickets"].messages
    assert published and {m["headers"]["traceparent"] for m in published} == {
        f"00-{trace_id}-{workflow['span_id']}-01"}
    # The HTTP request spans of the submission and of the reports are in traces too: the reports
    # carry the grant's traceparent, so their server spans join the workflow's trace.
    report_spans = [s for s in mine if s["kind"] == 2]  # SPAN_KIND_SERVER
    assert len(report_spans) >= len(tickets), [s["name"] for s in mine]


def test_a_traceparent_sent_with_an_http_submission_is_continued(start_server, receiver):
    server = traced_server(start_server, receiver)
    api = Api(server.url)
    # The hive-mind's fixture ids are not W3C ids: the incoming traceparent is continued instead.
    plan = workload.plan("traced-http", [workload.task("a")], risk_band="low")
    decision = workload.decision(plan)
    assert decision["trace_id"] == "trace-traced-http"
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    r = requests.post(server.url + "/api/v1/decisions", json=decision, timeout=15,
                      headers={"Authorization": f"Bearer {TEST_TOKEN}", "traceparent": f"00-{trace_id}-{caller_span}-01"})
    workflow_id = expect(r, 201)["workflow_id"]
    run_to_end(api, workflow_id)
    spans = receiver.wait(lambda spans: any(s["name"] == "workflow" and s["trace_id"] == trace_id for s in spans))
    mine = [s for s in spans if s["trace_id"] == trace_id]
    [http] = [s for s in mine if s["parent"] == caller_span]
    assert http["kind"] == 2, http  # SPAN_KIND_SERVER
    assert http["attributes"].get("http.request.method") == "POST", http
    assert http["name"] == "/api/v1/decisions", http
    [workflow] = [s for s in mine if s["name"] == "workflow"]
    assert workflow["parent"] == http["span_id"]
    assert workflow["attributes"]["orchestrator.decision_trace_id"] == "trace-traced-http"
    ticket_id = api.workflow(workflow_id)["tickets"][0]["ticket_id"]
    ticket = expect(api.get(f"/api/v1/tickets/{ticket_id}"), 200)
    assert ticket["trace_id"] == trace_id and ticket["span_id"] == workflow["span_id"]


def test_without_an_endpoint_nothing_is_traced_and_ids_are_kept(start_server, receiver):
    server = start_server()
    api = Api(server.url)
    plan = workload.plan("untraced", [workload.task("a")], risk_band="low")
    workflow_id = expect(api.submit_decision(workload.decision(plan)), 201)["workflow_id"]
    view = run_to_end(api, workflow_id)
    ticket = expect(api.get(f"/api/v1/tickets/{view['tickets'][0]['ticket_id']}"), 200)
    assert ticket["trace_id"] == "trace-untraced"
    time.sleep(0.5)
    assert receiver.requests == 0


def test_the_config_file_sets_the_collector_and_a_started_plan_is_traced(start_server, receiver):
    config = copy.deepcopy(__import__("harness").DEFAULT_CONFIG)
    config["tracing"] = {"endpoint": receiver.endpoint + "/", "service_name": "from-the-file",
                         "sampler": "traceidratio", "sampler_arg": 1.0}
    server = start_server(config, env={"OTEL_BSP_SCHEDULE_DELAY": "200"})
    api = Api(server.url)
    plan = workload.plan("traced-plan", [workload.task("a"), workload.task("b", ["a"])], risk_band="high")
    plan["trace_id"], plan["span_id"] = secrets.token_hex(16), secrets.token_hex(8)
    workflow_id = expect(api.submit_plan(plan, start=True), 202)["workflow"]["workflow_id"]
    run_to_end(api, workflow_id)
    spans = receiver.wait(lambda spans: any(s["name"] == "workflow" and s["trace_id"] == plan["trace_id"]
                                            for s in spans))
    [workflow] = [s for s in spans if s["name"] == "workflow" and s["trace_id"] == plan["trace_id"]]
    assert workflow["parent"] == plan["span_id"]
    assert workflow["resource"]["service.name"] == "from-the-file"
    assert workflow["attributes"]["orchestrator.decision_id"] == "plan-traced-plan"
    assert workflow["attributes"]["orchestrator.risk_band"] == "high"


@pytest.mark.parametrize("tracing, message", [
    ({"sampler": "sometimes"}, "tracing.sampler must be"),
    ({"exporter": "jaeger"}, "tracing.exporter must be auto, otlp or none"),
    ({"endpoint": "http://127.0.0.1:1", "sampler": "traceidratio", "sampler_arg": 2}, "tracing.sampler_arg"),
])
def test_bad_tracing_settings_are_refused_at_start(binary, tmp_path, tracing, message):
    import json
    import subprocess

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"tracing": tracing}))
    done = subprocess.run([binary, "serve", "--data-dir", str(tmp_path / "d"), "--config", str(path)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done
    assert message in done.stderr, done.stderr
