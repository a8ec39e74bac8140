"""The invariant checks of the chaos tests (harness.py), each on hand-made good and bad data: a check
that cannot fail proves nothing. No server is started (the replay check runs a stand-in binary)."""

from __future__ import annotations

import json
import os
import pathlib
import stat

from harness import (
    accepted_decision_problems, double_completion_problems, lease_overlap_problems, outbox_content_problems,
    outbox_file_problems, replay_problems, termination_problems,
)


from harness import completed_entry as _completed, history_entry as _entry, leased_entry as _leased  # noqa: E402


def _view(wid: str, decision: str, status: str, tickets: list[tuple[str, str]]) -> dict:
    return {"workflow_id": wid, "decision_id": decision, "status": status, "reason": None,
            "tickets": [{"ticket_id": tid, "task_id": tid.lower(), "status": s, "phase": s} for tid, s in tickets]}


def test_accepted_decisions_check():
    views = {"wf-1": _view("wf-1", "d1", "COMPLETED", []), "wf-2": _view("wf-2", "d2", "COMPLETED", [])}
    listed = [{"workflow_id": "wf-1", "decision_id": "d1"}, {"workflow_id": "wf-2", "decision_id": "d2"}]
    assert accepted_decision_problems({"d1": "wf-1", "d2": "wf-2"}, views, listed) == []
    # An acknowledged decision whose workflow is gone (lost after the acknowledgement).
    problems = accepted_decision_problems({"d1": "wf-1", "d3": "wf-3"}, {**views, "wf-3": None})
    assert problems == ["decision d3 was acknowledged with workflow wf-3, which does not exist"]
    # Acknowledged with another decision's workflow.
    assert "belongs to decision 'd2'" in accepted_decision_problems({"d1": "wf-2"}, views)[0]
    # A decision with two workflows, and a workflow of a decision nobody was told about.
    twice = listed + [{"workflow_id": "wf-9", "decision_id": "d1"}, {"workflow_id": "wf-7", "decision_id": "d7"}]
    problems = accepted_decision_problems({"d1": "wf-1", "d2": "wf-2"}, views, twice)
    assert any("decision d1 has 2 workflows" in p for p in problems)
    assert any("of decision d7, never acknowledged" in p for p in problems)


def test_termination_check():
    views = {"a": _view("a", "d", "COMPLETED", [("A1", "COMPLETED")]),
             "b": _view("b", "d", "FAILED", [("B1", "COMPENSATED"), ("B2", "FAILED")])}
    assert termination_problems(views, {"a": "COMPLETED", "b": "FAILED"}) == []
    # Still running, ended in another status than designed, and a "COMPLETED" one with a failed ticket.
    views["c"] = _view("c", "d", "RUNNING", [("C1", "COMPLETED"), ("C2", "LEASED")])
    views["d"] = _view("d", "d", "COMPLETED", [("D1", "FAILED")])
    problems = termination_problems(views, {"a": "FAILED", "b": "FAILED", "c": "COMPLETED", "d": "COMPLETED",
                                            "e": "COMPLETED"})
    assert any(p.startswith("a: ended COMPLETED") for p in problems)
    assert any(p.startswith("c: never ended: RUNNING, open tickets [('c2', 'LEASED', 'LEASED')]") for p in problems)
    assert any(p.startswith("d: COMPLETED with tickets [('d1', 'FAILED')]") for p in problems)
    assert any(p.startswith("e: unreadable") for p in problems)
    assert len(problems) == 4


def _flow(seq: int, **value) -> tuple[int, dict]:
    return seq, {"sequence": seq, "topic": "telemetry-flow-c", "key": "k", "headers": {}, "value": value}


def test_double_completion_check():
    history = [_leased(2, 1000, "A", "w1"), _completed(3, 1100, "A", 1, "w1")]
    outbox = {"telemetry-flow-c": dict([_flow(1, event_type="TICKET_COMPLETED", ticket_id="A")])}
    assert double_completion_problems({"wf": history}, outbox) == []
    # Completed twice in the history (a second report accepted) …
    twice = history + [_completed(4, 1200, "A", 1, "w1")]
    assert double_completion_problems({"wf": twice}) == ["wf: ticket A completed 2 times (history)"]
    # … or announced twice in the outbox (two sequences), or not at all.
    again = {"telemetry-flow-c": dict([_flow(1, event_type="TICKET_COMPLETED", ticket_id="A"),
                                       _flow(5, event_type="TICKET_COMPLETED", ticket_id="A")])}
    assert double_completion_problems({"wf": history}, again) == ["ticket A: 2 TICKET_COMPLETED events (outbox)"]
    assert double_completion_problems({"wf": history}, {}) == [
        "ticket A: completed in the history, no TICKET_COMPLETED in the outbox"]


def test_lease_overlap_check():
    good = [_leased(2, 1000, "A", "w1"), _entry(3, 2500, "leaseExpired", ticketId="A", leaseEpoch=1),
            _leased(4, 2600, "A", "w2"), _completed(5, 2700, "A", 2, "w2")]
    problems, leases = lease_overlap_problems({"wf": good})
    assert problems == [] and [(s.epoch, s.worker_id) for s in leases["wf"]["A"]] == [(1, "w1"), (2, "w2")]
    # The second lease granted while the first one still runs.
    problems, _ = lease_overlap_problems({"wf": [_leased(2, 1000, "A", "w1"), _leased(3, 1200, "A", "w2")]})
    assert any("before lease 1 of w1 was over" in p for p in problems)
    # A fencing token that does not increase, and a report under a stale token.
    stale = [_leased(2, 1000, "A", "w1"), _entry(3, 2500, "leaseExpired", ticketId="A", leaseEpoch=1),
             _entry(4, 2600, "leased", ticketId="A", workerId="w2", expiresAt=4100, leaseEpoch=1),
             _completed(5, 2700, "A", 7, "w2")]
    problems, _ = lease_overlap_problems({"wf": stale})
    assert any("leased under token 1, not above the previous lease's 1" in p for p in problems)
    assert any("under token 7, but the current lease is epoch 1" in p for p in problems)


def _line(seq: int, topic: str, **value) -> str:
    return json.dumps({"sequence": seq, "topic": topic, "key": "k", "headers": {}, "value": value}) + "\n"


def test_outbox_file_check(tmp_path: pathlib.Path):
    r1, r2 = tmp_path / "r1", tmp_path / "r2"
    r1.mkdir()
    r2.mkdir()
    (r1 / "execution.tickets.jsonl").write_text(_line(1, "execution.tickets", ticket_id="A") +
                                                _line(3, "execution.tickets", ticket_id="B"))
    # The same message relayed by the two replicas: a copy, not a problem.
    (r2 / "execution.tickets.jsonl").write_text(_line(3, "execution.tickets", ticket_id="B"))
    problems, union, counts = outbox_file_problems({"r1": r1, "r2": r2})
    assert problems == [] and sorted(union["execution.tickets"]) == [1, 3] and counts["copies"] == 1
    # One writer (SQLite): sequences must increase within a file.
    (r2 / "execution.tickets.jsonl").write_text(_line(3, "execution.tickets", ticket_id="B") +
                                                _line(2, "execution.tickets", ticket_id="Z"))
    assert outbox_file_problems({"r2": r2})[0] == []
    assert outbox_file_problems({"r2": r2}, increasing=True)[0] == ["r2 execution.tickets.jsonl:2: sequence 2 after 3"]
    # A line written twice in one file, a torn line in the middle, a torn last line, another topic's
    # message, a sequence with other contents in the other replica's file.
    (r1 / "telemetry-flow-c.jsonl").write_text(
        _line(2, "telemetry-flow-c", event_type="X") + _line(2, "telemetry-flow-c", event_type="X")
        + '{"sequence":4,"topic":"telemetry-flow-c","key":"k","hea\n' + _line(5, "execution.tickets")
        + '{"sequence":6,"topic":"tele')
    (r2 / "execution.tickets.jsonl").write_text(_line(3, "execution.tickets", ticket_id="C"))
    problems, _, _ = outbox_file_problems({"r1": r1, "r2": r2})
    assert any("torn last line" in p for p in problems)
    assert any("telemetry-flow-c.jsonl:2: sequence 2 written twice" in p for p in problems)
    assert any("telemetry-flow-c.jsonl:3: torn line" in p for p in problems)
    assert any("telemetry-flow-c.jsonl:4: not a whole outbox message" in p for p in problems)
    assert any("r2 execution.tickets.jsonl:1: sequence 3 also in r1's file with different contents" in p
               for p in problems)
    assert len(problems) == 5


def test_outbox_content_check():
    view = _view("wf", "d", "COMPLETED", [("A", "COMPLETED")])

    def msg(seq, topic, **value):
        return seq, {"sequence": seq, "topic": topic, "key": "k", "headers": {}, "value": value}

    outbox = {
        "execution.tickets": dict([msg(1, "execution.tickets", ticket_id="A")]),
        "telemetry-flow-c": dict([msg(2, "telemetry-flow-c", event_type="FLOW_C_COMPLETED", workflow_id="wf",
                                      status="COMPLETED")]),
        "telemetry.orchestration": dict([msg(3, "telemetry.orchestration", workflow_id="wf", status="COMPLETED",
                                             metrics={"successful": 1})]),
    }
    assert outbox_content_problems(outbox, {"wf": view}) == []
    failed = _view("wf", "d", "FAILED", [("A", "FAILED"), ("B", "COMPLETED")])
    problems = outbox_content_problems(outbox, {"wf": failed})
    assert any("final frames with statuses ['COMPLETED'] (expected one FAILED)" in p for p in problems)
    assert any("FLOW_C_COMPLETED statuses ['COMPLETED']" in p for p in problems)
    assert any("ticket b (B) never published" in p for p in problems)


def test_replay_check(tmp_path: pathlib.Path):
    # A stand-in for the binary: `replay good-*` is OK, `replay bad-*` a mismatch, `replay gone` unknown.
    fake = tmp_path / "orchestrator-dynamic"
    fake.write_text("#!/bin/sh\n"
                    "[ \"$1\" = replay ] || exit 9\n"
                    "case \"$2\" in\n"
                    "  good-*) echo \"replay OK: 9 event(s) rebuild workflow $2 exactly ($3 $4)\" ;;\n"
                    "  bad-*) echo 'replay MISMATCH after 9 event(s):'; echo '  - tickets[0].status: stored "
                    "COMPLETED, replayed LEASED'; exit 1 ;;\n"
                    "  *) echo \"error: no workflow $2\" >&2; exit 2 ;;\n"
                    "esac\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    problems, ok = replay_problems(str(fake), ["good-1", "good-2"], ["--data-dir", "/nowhere"])
    assert problems == [] and ok == 2
    problems, ok = replay_problems(str(fake), ["good-1", "bad-1", "gone"], ["--data-dir", "/nowhere"])
    assert ok == 1 and len(problems) == 2
    assert problems[0].startswith("bad-1: replay exited 1: replay MISMATCH after 9 event(s): | "
                                  "  - tickets[0].status: stored COMPLETED")
    assert problems[1] == "gone: replay exited 2: error: no workflow gone"
    assert os.access(fake, os.X_OK)
