#!/usr/bin/env python3
"""Avro wire compatibility between orchestrator-dynamic and the hive-mind's Python services.

fastavro (what the Python services use) is the independent side:
- tickets, incidents and telemetry events that OUR code encodes are decoded by fastavro with the
  hive-mind's own schemas (../shared/contracts/*.avsc) and compared field by field with what our
  code says it encoded;
- decisions and results that FASTAVRO encodes with those schemas are decoded by our code and
  compared field by field; a fastavro-encoded decision also goes through `validate`.
Prints one line per check and ends with 'N passed, N failed'; exits 1 on any failure.
"""
import argparse
import datetime
import io
import json
import os
import subprocess
import sys
import tempfile

import fastavro

PASSED = 0
FAILED = 0


def check(name, ok, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"ok    {name}")
    else:
        FAILED += 1
        print(f"FAIL  {name}: {detail}")


def load_schema(contracts, name):
    with open(os.path.join(contracts, name)) as f:
        return fastavro.parse_schema(json.load(f))


def run(binary, *args, stdin=None):
    result = subprocess.run([binary, *args], input=stdin, capture_output=True)
    return result.returncode, result.stdout, result.stderr.decode()


def avro_decode_fastavro(schema, payload):
    return epoch_millis(fastavro.schemaless_reader(io.BytesIO(payload), schema))


def epoch_millis(value):
    """fastavro turns timestamp-millis into datetimes; the wire carries epoch milliseconds."""
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: epoch_millis(v) for k, v in value.items()}
    if isinstance(value, list):
        return [epoch_millis(v) for v in value]
    return value


def avro_encode_fastavro(schema, record):
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, record)
    return buf.getvalue()


def compare(name, expected, actual, path=""):
    """Field-by-field comparison; returns a list of differences."""
    diffs = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                diffs.append(f"{path}.{key}: missing on the decoded side")
            elif key not in expected:
                diffs.append(f"{path}.{key}: unexpected field")
            else:
                diffs.extend(compare(name, expected[key], actual[key], f"{path}.{key}"))
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            diffs.append(f"{path}: {len(expected)} items expected, {len(actual)} decoded")
        else:
            for i, (e, a) in enumerate(zip(expected, actual)):
                diffs.extend(compare(name, e, a, f"{path}[{i}]"))
    elif isinstance(expected, float) or isinstance(actual, float):
        if not (isinstance(expected, (int, float)) and isinstance(actual, (int, float))
                and abs(expected - actual) < 1e-9):
            diffs.append(f"{path}: expected {expected!r}, decoded {actual!r}")
    elif expected != actual:
        diffs.append(f"{path}: expected {expected!r}, decoded {actual!r}")
    return diffs


def ours_to_fastavro(args, record, schema_file, messages):
    """Our encoder → fastavro decoder with the contract schema."""
    schema = load_schema(args.contracts, schema_file)
    for label, message in messages:
        code, out, err = run(args.binary, "avro", "encode", record, stdin=json.dumps(message).encode())
        if code != 0:
            check(f"{record} {label}: our encoder", False, err.strip())
            continue
        try:
            decoded = avro_decode_fastavro(schema, out)
        except Exception as e:  # noqa: BLE001 - report any decoder failure
            check(f"{record} {label}: fastavro decodes ours", False, repr(e))
            continue
        diffs = compare(record, message, decoded)
        check(f"{record} {label}: fastavro decodes ours field by field ({len(message)} fields)",
              not diffs, "; ".join(diffs[:5]))


def fastavro_to_ours(args, record, schema_file, label, message, expected):
    """fastavro encoder with the contract schema → our decoder."""
    schema = load_schema(args.contracts, schema_file)
    payload = avro_encode_fastavro(schema, message)
    code, out, err = run(args.binary, "avro", "decode", record, stdin=payload)
    if code != 0:
        check(f"{record} {label}: we decode fastavro's", False, err.strip())
        return None
    decoded = json.loads(out)
    diffs = compare(record, expected, decoded)
    check(f"{record} {label}: we decode fastavro's field by field ({len(expected)} fields)",
          not diffs, "; ".join(diffs[:5]))
    return payload


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--contracts", required=True)
    parser.add_argument("--examples", required=True)
    args = parser.parse_args()

    # --- tickets: produced by our C2 from the example decision -------------------------------
    code, out, err = run(args.binary, "validate", os.path.join(args.examples, "decision.json"),
                         "--format", "json")
    check("validate example decision (exit 0)", code == 0, err)
    report = json.loads(out)
    tickets = []
    for t in report["tickets"]:
        t = dict(t)
        t.pop("priority_score")
        tickets.append(t)
    check("example yields 4 tickets", len(tickets) == 4, f"{len(tickets)} tickets")
    # A ticket later in its life: running, retried, failed, compensated (optionals set).
    later = dict(tickets[-1])
    later.update(status="FAILED", started_at=later["created_at"] + 5, completed_at=later["created_at"] + 900,
                 actual_duration_ms=895, retry_count=2, error_message="exit code 3",
                 compensation_ticket_id="00000000-0000-5000-8000-000000000001")
    ours_to_fastavro(args, "execution-ticket", "execution-ticket.avsc",
                     [(f"ticket {i + 1} ({t['task_type']})", t) for i, t in enumerate(tickets)]
                     + [("failed ticket with every optional set", later)])

    # --- incidents ------------------------------------------------------------------------------
    incident = {
        "incident_id": "inc-0001", "workflow_id": report["workflow_id"], "incident_type": "SLA_VIOLATION",
        "severity": "WARNING", "details": ["ticket deadline passed by 1200 ms"],
        "affected_tickets": [tickets[0]["ticket_id"]], "correlation_id": "corr-1", "trace_id": "trace-1",
        "recommended_playbook": "sla_violation_mitigation", "auto_remediation_enabled": True,
        "escalation_required": False, "created_at": 1761682622123,
        "hash": "0" * 64,
    }
    bare = dict(incident, incident_id="inc-0002", incident_type="WORKER_FAILURE", recommended_playbook=None,
                auto_remediation_enabled=None, escalation_required=None, details=[], affected_tickets=[])
    ours_to_fastavro(args, "orchestration-incident", "orchestration-incident.avsc",
                     [("SLA violation", incident), ("worker failure, optionals null", bare)])

    # --- telemetry --------------------------------------------------------------------------------
    event = {
        "event_type": "TICKET_COMPLETED", "timestamp": 1761682622999, "intent_id": "intent-1",
        "plan_id": "plan-1", "decision_id": "decision-1", "workflow_id": report["workflow_id"],
        "correlation_id": "corr-1", "trace_id": "0123456789abcdef0123456789abcdef",
        "span_id": "0123456789abcdef", "step": "C5", "ticket_id": tickets[0]["ticket_id"],
        "task_type": "VALIDATE", "worker_id": "worker-7", "duration_ms": 812, "status": "completed",
        "success": True, "sla_compliant": True, "ticket_ids": [t["ticket_id"] for t in tickets],
        "error": None, "error_type": None, "result": {"exit_code": "0", "stdout": "fine"},
        "metadata": {"attempt": 1, "big": 9007199254740993, "flag": True, "note": "x", "none": None},
        "schema_version": 1,
    }
    started = dict(event, event_type="FLOW_C_STARTED", step=None, ticket_id=None, task_type=None,
                   worker_id=None, duration_ms=None, status=None, success=None, sla_compliant=None,
                   ticket_ids=[], result=None, metadata={})
    ours_to_fastavro(args, "flow-c-telemetry", "flow-c-telemetry.avsc",
                     [("ticket completed", event), ("flow started, optionals null", started)])

    # --- decisions: fastavro → ours ----------------------------------------------------------------
    with open(os.path.join(args.contracts, "e2e-fixture.consolidated_decision_avro.json")) as f:
        fixture = json.load(f)
    payload = fastavro_to_ours(
        args, "consolidated-decision", "consolidated-decision.avsc", "e2e fixture", fixture,
        expected=expected_decision(fixture))
    if payload is not None:
        with tempfile.NamedTemporaryFile(suffix=".avro", delete=False) as f:
            f.write(payload)
            path = f.name
        code, out, err = run(args.binary, "validate", path, "--now", "1761682700000", "--format", "json")
        os.unlink(path)
        ok = code == 0 and len(json.loads(out)["tickets"]) == 4
        check("validate reads a fastavro-encoded decision and makes 4 tickets", ok, err or out[:200])
    no_plan = dict(fixture, decision_id="decision-without-plan", cognitive_plan=None,
                   final_decision="review_required", requires_human_review=True, valid_until=None)
    fastavro_to_ours(args, "consolidated-decision", "consolidated-decision.avsc", "no plan, review",
                     no_plan, expected=expected_decision(no_plan))

    # --- results: fastavro → ours ------------------------------------------------------------------
    result = {
        "ticket_id": tickets[0]["ticket_id"], "status": "COMPLETED",
        "result": {"success": True, "output": {"exit_code": "0", "artifact": "s3://b/k"},
                   "metadata": {"host": "w1"}, "logs": ["start", "done"]},
        "error_message": None, "actual_duration_ms": 1234, "agent_id": "worker-1",
        "timestamp": 1761682623000, "schema_version": 1,
    }
    failed = dict(result, status="FAILED", error_message="boom", actual_duration_ms=None,
                  result={"success": False, "output": {}, "metadata": {}, "logs": []})
    for label, message in [("completed", result), ("failed", failed)]:
        fastavro_to_ours(args, "execution-result", "execution-result.avsc", label, message, expected=message)

    # --- malformed Avro gets a clear error, not a crash --------------------------------------------
    code, out, err = run(args.binary, "avro", "decode", "execution-result", stdin=b"\x02\x41")
    check("truncated Avro is refused with a clear error (exit 2)",
          code == 2 and "error:" in err and "Avro" in err, f"exit {code}: {err.strip()}")

    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


def expected_decision(message):
    """What our decoder must report for a decision fastavro wrote: the contract's fields (unknown
    keys such as votes' `reasoning`/`metadata` are not in the schema, so fastavro drops them), with
    the embedded plan normalised to our canonical JSON string."""
    schema_fields = ["decision_id", "plan_id", "intent_id", "correlation_id", "trace_id", "span_id",
                     "final_decision", "consensus_method", "aggregated_confidence", "aggregated_risk",
                     "specialist_votes", "consensus_metrics", "explainability_token", "reasoning_summary",
                     "compliance_checks", "guardrails_triggered", "cognitive_plan", "requires_human_review",
                     "created_at", "valid_until", "metadata", "hash", "schema_version"]
    vote_fields = ["specialist_type", "opinion_id", "confidence_score", "risk_score", "recommendation",
                   "weight", "processing_time_ms"]
    out = {k: message.get(k) for k in schema_fields}
    out["specialist_votes"] = [{k: v[k] for k in vote_fields} for v in message["specialist_votes"]]
    out.setdefault("schema_version", 1)
    if out["cognitive_plan"] is not None:
        out["cognitive_plan"] = CanonicalPlan(json.loads(out["cognitive_plan"]))
    return out


class CanonicalPlan:
    """Compares equal to a JSON string holding the same plan fields (key order and the fields our
    model adds with their defaults do not matter)."""

    def __init__(self, plan):
        self.plan = plan

    def __eq__(self, other):
        if not isinstance(other, str):
            return False
        decoded = json.loads(other)
        return all(decoded.get(k) == v for k, v in self.plan.items())

    def __repr__(self):
        return f"<plan {self.plan.get('plan_id')}>"


if __name__ == "__main__":
    sys.exit(main())
