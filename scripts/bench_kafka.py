#!/usr/bin/env python3
"""Kafka throughput of the real binary against Tansu on this machine.

Phase 1 (intake): N decisions are published on `plans.consensus` before the server starts; then
the server starts and we time how fast it consumes them (its counter
`orchestration_kafka_messages_consumed_total`) and publishes the first ticket of each workflow
(seen by a Python consumer on `execution.tickets`).
Phase 2 (results loop): the peer answers every ticket with a COMPLETED result on
`execution.results` until every workflow is COMPLETED; we time tickets produced and results
consumed per second over that phase.

Usage (after `bash scripts/test.sh` has made .venv-kafka and .rdkafka):
    .venv-kafka/bin/python scripts/bench_kafka.py --binary .build/debug/orchestrator-dynamic -n 300
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import time

import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Kafka"))
import kafka_harness  # noqa: E402
from kafka_harness import variant  # noqa: E402
from kafka_harness import KafkaServer, Peer, TansuProcess  # noqa: E402


def consumed(url: str) -> int:
    for line in requests.get(url + "/metrics", timeout=5).text.splitlines():
        if line.startswith("orchestration_kafka_messages_consumed_total"):
            return int(float(line.split()[-1]))
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("-n", type=int, default=300, help="decisions (each a chain of 4 tasks)")
    parser.add_argument("--format", default="json", choices=["json", "avro"])
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        tansu = TansuProcess(tmp / "tansu.log").start()
        server = None
        peer = None
        try:
            tansu.create_topics()
            peer = Peer(tansu.bootstrap, args.format, group="bench-peer")
            decisions = [variant(f"{900000 + i:012d}", embed_plan=True, fmt=args.format)[0] for i in range(n)]
            for decision in decisions:
                value = kafka_harness.avro_encode("consolidated-decision.avsc", decision) \
                    if args.format == "avro" else json.dumps(decision).encode()
                peer.producer.produce("plans.consensus", key=decision["plan_id"].encode(), value=value)
            peer.producer.flush(60)
            server = KafkaServer(args.binary, tmp / "data", tmp / "server.log", bootstrap=tansu.bootstrap,
                                 fmt=args.format, config={"engine": {}})
            server.env["ORCHESTRATOR_LOG_LEVEL"] = "warning"
            server.start()
            # The clock starts at the first consumed message (after the consumer group has formed).
            t0 = None
            first = 0
            t_consumed = t_tickets = None
            started = time.monotonic()
            while time.monotonic() - started < 600 and (t_consumed is None or t_tickets is None):
                peer.poll(0.05)
                count = consumed(server.url)
                if t0 is None and count > 0:
                    t0, first = time.monotonic(), count
                if t0 is not None and t_consumed is None and count >= n:
                    t_consumed = time.monotonic() - t0
                if t0 is not None and t_tickets is None and len(peer.received["execution.tickets"]) >= n:
                    t_tickets = time.monotonic() - t0
            print(f"phase 1: group formed and first message consumed {t0 - started:.2f} s after start; then "
                  f"{n - first} decisions consumed in {t_consumed:.2f} s = {(n - first) / t_consumed:.0f} decisions/s; "
                  f"all {n} first tickets received {t_tickets:.2f} s after the first consumption "
                  f"= {n / t_tickets:.0f} tickets/s end to end")

            answered = set()
            t1 = time.monotonic()
            done = 0
            while time.monotonic() - t1 < 900:
                peer.poll(0.2)
                for entry in peer.received["execution.tickets"]:
                    key = (entry["value"]["ticket_id"], entry["value"]["retry_count"])
                    if key not in answered:
                        answered.add(key)
                        value = {"ticket_id": key[0], "status": "COMPLETED",
                                 "result": {"success": True, "output": {}, "metadata": {}, "logs": []},
                                 "error_message": None, "actual_duration_ms": 1, "agent_id": "bench",
                                 "timestamp": int(time.time() * 1000), "schema_version": 1}
                        raw = kafka_harness.avro_encode("execution-result.avsc", value) \
                            if args.format == "avro" else json.dumps(value).encode()
                        peer.producer.produce("execution.results", key=key[0].encode(), value=raw)
                        peer.producer.poll(0)
                done = len({e["value"]["workflow_id"] for e in peer.received["telemetry.orchestration"]})
                if done >= n:
                    break
            peer.producer.flush(30)
            t_total = time.monotonic() - t1
            tickets = len(peer.received["execution.tickets"])
            print(f"phase 2: {len(answered)} results answered, {tickets} tickets received in total, {done}/{n} "
                  f"workflows finished in {t_total:.2f} s = {len(answered) / t_total:.0f} results consumed/s, "
                  f"{(tickets - n) / t_total:.0f} tickets produced/s")
        finally:
            if peer:
                peer.close()
            if server:
                server.terminate()
            tansu.terminate()


if __name__ == "__main__":
    main()
