"""TLS on the real binary: `serve --tls-cert/--tls-key` with a CA made here with openssl; `worker`
and `submit --wait` run a workflow over HTTPS trusting that CA with `--ca-file`, and a client that
does not trust it is refused."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import requests

from harness import REPO_ROOT, TEST_TOKEN, Api, PyWorker, WorkerProcess, expect, free_port, psql_path


def make_ca(directory: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path, pathlib.Path]:
    """A CA, and a server certificate it signs for 127.0.0.1 and localhost."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=orchestrator-test-ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


def test_serve_worker_and_submit_run_a_workflow_over_https(start_server, binary, tmp_path):
    ca, cert, key = make_ca(tmp_path)
    server = start_server(extra_args=["--tls-cert", str(cert), "--tls-key", str(key)], wait_ready=False)
    url = f"https://127.0.0.1:{server.port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(url + "/ready", verify=str(ca), timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, server.log_tail()
        assert server.running(), server.log_tail()
        time.sleep(0.1)
    # Plain HTTP on the same port gets nothing useful; an untrusting client is refused.
    try:
        plain = requests.get(f"http://127.0.0.1:{server.port}/health", timeout=5)
        assert plain.status_code != 200
    except requests.RequestException:
        pass
    env = {**os.environ, "ORCHESTRATOR_TOKEN": TEST_TOKEN}
    untrusting = subprocess.run([binary, "status", "--url", url], capture_output=True, timeout=60, env=env)
    assert untrusting.returncode != 0, untrusting.stdout

    worker = WorkerProcess(binary, url, tmp_path / "worker.log", concurrency=2, worker_id="tls-worker")
    worker.argv += ["--ca-file", str(ca)]
    worker.start()
    try:
        submitted = subprocess.run(
            [binary, "submit", str(REPO_ROOT / "examples" / "decision.json"), "--url", url, "--ca-file", str(ca),
             "--wait"],
            capture_output=True, timeout=120, env=env,
        )
        assert submitted.returncode == 0, (submitted.stdout.decode()[-2000:], submitted.stderr.decode()[-2000:],
                                           worker.log_tail())
        status = subprocess.run([binary, "status", "--url", url, "--ca-file", str(ca)], capture_output=True,
                                timeout=60, env=env)
        assert status.returncode == 0 and b"COMPLETED" in status.stdout, status
        views = requests.get(url + "/api/v1/workflows", verify=str(ca), timeout=10,
                             headers={"Authorization": f"Bearer {TEST_TOKEN}"}).json()
        listed = views.get("workflows", views) if isinstance(views, dict) else views
        assert any(v["status"] == "COMPLETED" for v in listed), json.dumps(views)[:1000]
    finally:
        worker.terminate()


def test_half_a_tls_setup_is_refused_at_start(start_server, tmp_path):
    ca, cert, key = make_ca(tmp_path)
    server = start_server(extra_args=["--tls-cert", str(cert)], wait_ready=False)
    assert server.proc.wait(timeout=30) == 2
    assert "--tls-key" in server.log_path.read_text()


def test_postgresql_with_verify_full_against_a_server_with_a_test_certificate(start_server, binary, tmp_path):
    """A PostgreSQL cluster of its own with `ssl=on` and a certificate signed by a CA made here;
    `serve` connects with `sslmode=verify-full&sslrootcert=<that CA>` and runs a workflow, while the
    same URL trusting another CA cannot start."""
    ca, cert, key = make_ca(tmp_path)
    # Outside pytest's private temporary tree, which the `postgres` user cannot enter.
    pg_dir = pathlib.Path(tempfile.mkdtemp(prefix="orchestrator-pg-tls-"))
    pg_dir.chmod(0o755)
    for name in ("server.pem", "server.key"):
        (pg_dir / name).write_bytes((tmp_path / name).read_bytes())
        (pg_dir / name).chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(pg_dir / name, "postgres")
    port = free_port()
    env = {**os.environ, "ORCHESTRATOR_PG_PORT": str(port),
           "ORCHESTRATOR_PG_OPTIONS": f"-c ssl=on -c ssl_cert_file={pg_dir / 'server.pem'} "
                                      f"-c ssl_key_file={pg_dir / 'server.key'}"}
    started = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "postgres.sh"), "start"], capture_output=True,
                             timeout=120, env=env)
    assert started.returncode == 0, started.stderr.decode()
    try:
        url = (f"postgres://postgres@127.0.0.1:{port}/postgres?sslmode=verify-full&sslrootcert={ca}"
               f"&schema=tls_{os.urandom(4).hex()}")
        server = start_server(extra_args=["--database-url", url])
        api = Api(server.url)
        workflow_id = expect(api.submit_decision(json.loads((REPO_ROOT / "examples" / "decision.json").read_text())),
                             201)["workflow_id"]
        worker = PyWorker(api, "tls-pg-worker")
        worker.register()
        worker.run_workflow(workflow_id, timeout=60)
        assert api.wait_terminal(workflow_id)["status"] == "COMPLETED"
        # The server really speaks TLS: the sessions of this database are encrypted.
        psql = psql_path()
        assert psql, "psql is needed to check the sessions' encryption"
        ssl_rows = subprocess.run(
            [psql, "-h", "127.0.0.1", "-p", str(port), "-U",
             "postgres", "-At", "-c",
             "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
             "WHERE a.application_name = 'orchestrator-dynamic' AND s.ssl"],
            capture_output=True, timeout=30,
        )
        assert ssl_rows.returncode == 0 and int(ssl_rows.stdout.strip() or 0) >= 1, ssl_rows

        (tmp_path / "other").mkdir()
        other_ca, _, _ = make_ca(tmp_path / "other")
        wrong = start_server(extra_args=["--database-url", url.replace(str(ca), str(other_ca))], wait_ready=False)
        assert wrong.proc.wait(timeout=60) != 0, wrong.log_tail()
    finally:
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "postgres.sh"), "stop"], capture_output=True,
                       timeout=120, env=env)
        shutil.rmtree(pg_dir, ignore_errors=True)
