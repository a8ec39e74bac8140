"""Configuration files as docs/CONFIGURATION.md describes them: partial, snake_case, defaults kept."""

import json
import subprocess

import pytest

import harness
from harness import Api, PyWorker, expect
import workload


@pytest.mark.parametrize("config", [{}, {"engine": {"policies": {"tickets": {"max_retries": {"medium": 7}}}}}],
                         ids=["empty", "partial"])
def test_serve_accepts_a_partial_config_file(start_server, config):
    server = start_server(config)
    api = Api(server.url)
    plan = workload.chain_plan("config-1", 1)
    expect(api.submit_decision(workload.decision(plan)), 201)
    worker = PyWorker(api, "w-config")
    worker.register()
    [lease] = worker.poll_until(1, timeout=10)
    expected = config.get("engine", {}).get("policies", {}).get("tickets", {}).get("max_retries", {}).get("medium", 2)
    assert lease.ticket["sla"]["max_retries"] == expected
    # Keys left out keep their defaults (QoS of a medium-risk ticket).
    assert lease.ticket["qos"] == {"delivery_mode": "AT_LEAST_ONCE", "consistency": "EVENTUAL", "durability": "PERSISTENT"}


def test_validate_accepts_the_documented_config_example(binary, tmp_path):
    config = tmp_path / "policies.json"
    config.write_text(json.dumps({"tickets": {"max_retries": {"medium": 7}}}), encoding="utf-8")
    out = subprocess.run(
        [binary, "validate", "--format", "json", "--config", str(config), str(workload.EXAMPLE_DECISION)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr.strip()[:500]}"
    tickets = json.loads(out.stdout)["tickets"]
    assert len(tickets) == 4 and {t["sla"]["max_retries"] for t in tickets} == {7}


def test_unknown_config_key_is_refused(start_server):
    with pytest.raises(harness.HarnessError, match="unknown key"):
        start_server({"engine": {"policies": {"execution": {"lease_ttl": 5}}}})


def test_secrets_come_from_files_and_never_show(start_server, pg_url, tmp_path):
    """`ORCHESTRATOR_DATABASE_URL_FILE` (a mounted Secret) is read at start; the password is in no
    log line, nor in `/ready`, `/metrics`, `/openapi.yaml` or an error body. (The test cluster
    trusts local connections, so any password connects.)"""
    password = "pw-" + tmp_path.name[-12:] + "-S3cret"
    with_password = pg_url.replace("postgres://postgres@", f"postgres://postgres:{password}@")
    assert password in with_password
    url_file = tmp_path / "database-url"
    url_file.write_text(with_password + "\n")
    url_file.chmod(0o600)
    server = start_server(env={"ORCHESTRATOR_DATABASE_URL_FILE": str(url_file)})
    api = Api(server.url)
    expect(api.get("/api/v1/workflows"), 200)
    pages = [api.get(path).text for path in ("/ready", "/metrics", "/openapi.yaml", "/api/v1/workflows/nope")]
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert "postgres://postgres:***@" in log, log[-2000:]
    for text in pages + [log]:
        assert password not in text

    missing = start_server(env={"ORCHESTRATOR_DATABASE_URL_FILE": str(tmp_path / "absent")}, wait_ready=False)
    assert missing.proc.wait(timeout=30) == 2
    assert "database_url_file" in missing.log_path.read_text()


def test_librdkafka_security_settings_pass_through_from_the_environment(start_server, tmp_path):
    """KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_* reach librdkafka: a CA file that does not
    exist, or a SASL mechanism it does not know, stops the start with librdkafka's own complaint
    naming the setting (no broker is needed to see that)."""
    base = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "ORCHESTRATOR_OUTBOX_SINK": "kafka"}
    missing_ca = str(tmp_path / "no-such-ca.pem")
    server = start_server(env={**base, "KAFKA_SECURITY_PROTOCOL": "ssl", "KAFKA_SSL_CA_LOCATION": missing_ca},
                          wait_ready=False)
    assert server.proc.wait(timeout=60) == 2
    log = server.log_path.read_text()
    assert "ssl.ca.location" in log and "no-such-ca.pem" in log, log[-2000:]

    password_file = tmp_path / "sasl-password"
    password_file.write_text("pw-from-a-file\n")
    sasl = start_server(env={**base, "KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "KAFKA_SASL_MECHANISM": "NOT-A-MECH",
                             "KAFKA_SASL_USERNAME": "orchestrator", "KAFKA_SASL_PASSWORD_FILE": str(password_file)},
                        wait_ready=False)
    assert sasl.proc.wait(timeout=60) == 2
    log = sasl.log_path.read_text()
    assert "sasl.mechanism" in log.lower() or "NOT-A-MECH" in log, log[-2000:]
    assert "pw-from-a-file" not in log
