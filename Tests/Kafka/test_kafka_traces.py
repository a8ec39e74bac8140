"""Traces across Kafka, decoded by a real OTLP/HTTP receiver: a decision consumed from
`plans.consensus` with a W3C `traceparent` header continues that trace (a consumer span, the
workflow under it), and the outbox's batches sent to the broker are producer spans under the
relay's span, linked to the workflows whose messages they carry; the tickets' headers carry the
workflow's trace."""

from __future__ import annotations

import json
import secrets

from kafka_harness import example_decision
from test_kafka_flow import drive
from test_traces import OTLPReceiver  # Tests/Integration (on the path through kafka_harness)

CONSUMER, PRODUCER = 5, 4  # OTLP SpanKind


def test_a_decision_from_kafka_continues_the_messages_trace_and_sends_are_producer_spans(stack):
    receiver = OTLPReceiver()
    try:
        _, _, peer, api = stack("json", env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                                             "OTEL_BSP_SCHEDULE_DELAY": "200"})
        decision = example_decision()
        assert not decision["trace_id"].startswith("00"), "the example's own ids must not be W3C ids"
        trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
        peer.publish("plans.consensus", decision["plan_id"], json.dumps(decision).encode(),
                     headers={"traceparent": f"00-{trace_id}-{parent}-01"})
        workflow_id = "orch-" + decision["plan_id"]
        states = drive(peer, api, lambda ticket: "COMPLETED", [workflow_id])
        assert states[workflow_id]["status"] == "COMPLETED", states[workflow_id]

        def complete(spans):
            return any(s["name"] == "workflow" and s["trace_id"] == trace_id for s in spans) and any(
                "execution.tickets" in s["attributes"].get("messaging.destination.name", "") for s in spans)
        spans = receiver.wait(complete)
        [consume] = [s for s in spans if s["name"] == "kafka consume plans.consensus" and s["trace_id"] == trace_id]
        assert consume["parent"] == parent and consume["kind"] == CONSUMER, consume
        assert consume["attributes"]["messaging.system"] == "kafka"
        assert consume["attributes"]["messaging.destination.name"] == "plans.consensus"
        [workflow] = [s for s in spans if s["name"] == "workflow" and s["trace_id"] == trace_id]
        assert workflow["parent"] == consume["span_id"], (workflow, consume)

        relays = {s["span_id"] for s in spans if s["name"] == "outbox relay"}
        sends = [s for s in spans if s["name"].startswith("send")]
        assert sends and all(s["kind"] == PRODUCER and s["parent"] in relays for s in sends), sends
        assert all(s["attributes"]["messaging.system"] == "kafka" and s["attributes"]["messaging.batch.message_count"] >= 1
                   for s in sends), sends
        # A batch of one topic is named after it ("send telemetry-flow-c"), a mixed one "send".
        assert all(s["name"] == "send " + s["attributes"]["messaging.destination.name"]
                   for s in sends if "," not in s["attributes"]["messaging.destination.name"]), sends
        tickets = [s for s in sends if "execution.tickets" in s["attributes"]["messaging.destination.name"]]
        assert any((trace_id, workflow["span_id"]) in s["links"] for s in tickets), tickets
        published = [e for e in peer.received["execution.tickets"] if e["value"]["plan_id"] == decision["plan_id"]]
        assert published and {e["headers"]["traceparent"].split("-")[1] for e in published} == {trace_id}
    finally:
        receiver.close()
