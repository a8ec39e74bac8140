"""Authentication and roles on the real binary (issue 11): the authorization matrix generated from
the served OpenAPI document, the secure default (`admin.token`), `--auth none`, and the CLI clients'
tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pathlib
import re
import stat
import subprocess
import threading
import time

import requests
import yaml

from harness import REPO_ROOT, TEST_TOKEN, Api, write_token_file

ROLES = ("submit", "read", "operate", "worker")


def role_tokens(tmp_path):
    tokens = {role: f"{role}-token-{os.urandom(12).hex()}" for role in ROLES}
    path = write_token_file(tmp_path / "roles.json", {
        **{f"{role}-principal": (token, [role]) for role, token in tokens.items()},
        "harness-admin": (TEST_TOKEN, ["admin"]),
    })
    return tokens, path


def call(base: str, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {} if method == "post" else None
    # The event stream never ends: only its status matters.
    with requests.request(method.upper(), base + path, json=body, headers=headers, timeout=15, stream=True) as r:
        return r.status_code


def test_authorization_matrix_generated_from_the_openapi_document(start_server, tmp_path):
    """For every documented operation: anonymous gets 401, a token without the role 403, the role
    (and admin) neither. A route added to the document without a rule in the server fails here."""
    tokens, token_file = role_tokens(tmp_path)
    server = start_server(env={"ORCHESTRATOR_AUTH_FILE": str(token_file)})
    document = yaml.safe_load(requests.get(server.url + "/openapi.yaml", timeout=10).text)
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearer"]["description"]}
    checked = 0
    problems = []
    for template, operations in document["paths"].items():
        path = re.sub(r"\{[^}]+\}", "matrix-x", template)
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            security = operation.get("security")
            assert security is not None, f"{method} {template} declares no security"
            roles = sorted({role for requirement in security for role in requirement.get("bearer", [])})
            anonymous_ok = security == [] or {} in security
            status = call(server.url, method, path, None)
            if anonymous_ok:
                if status in (401, 403):
                    problems.append(f"{method} {template}: open, but anonymous got {status}")
                checked += 1
                continue
            assert len(roles) == 1, f"{method} {template}: expected one role, got {roles}"
            role = roles[0]
            if status != 401:
                problems.append(f"{method} {template}: anonymous got {status}, expected 401")
            other = next(r for r in ROLES if r != role)
            status = call(server.url, method, path, tokens[other])
            if status != 403:
                problems.append(f"{method} {template}: role {other} got {status}, expected 403 (needs {role})")
            for holder in (tokens.get(role), TEST_TOKEN):
                status = call(server.url, method, path, holder)
                if status in (401, 403):
                    problems.append(f"{method} {template}: the role {role} got {status}")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 29


def test_a_fresh_serve_refuses_anonymous_calls_and_keeps_its_admin_token(start_server, binary, tmp_path):
    server = start_server(env={"ORCHESTRATOR_AUTH_FILE": ""})
    token_path = server.data_dir / "admin.token"
    assert token_path.exists(), server.log_tail()
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    token = token_path.read_text().strip()
    assert len(token) == 64 and all(c in "0123456789abcdef" for c in token)

    anonymous = requests.get(server.url + "/api/v1/workflows", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.post(server.url + "/api/v1/decisions", json={}, timeout=10).status_code == 401
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    assert Api(server.url, token=token).get("/api/v1/workflows").status_code == 200
    assert Api(server.url, token=TEST_TOKEN).get("/api/v1/workflows").status_code == 401

    # The CLI with --token-file, and without a token (exit status 1, the 401 named).
    status = subprocess.run([binary, "status", "--url", server.url, "--token-file", str(token_path)],
                            capture_output=True, timeout=30, env={**os.environ, "ORCHESTRATOR_TOKEN": ""})
    assert status.returncode == 0, status.stderr.decode()
    refused = subprocess.run([binary, "status", "--url", server.url], capture_output=True, timeout=30,
                             env={**os.environ, "ORCHESTRATOR_TOKEN": ""})
    assert refused.returncode != 0 and b"401" in refused.stderr + refused.stdout, refused.stderr.decode()

    server.terminate()
    server.start()
    assert token_path.read_text().strip() == token
    assert Api(server.url, token=token).get("/api/v1/workflows").status_code == 200
    log = server.log_path.read_text()
    assert token not in log
    assert str(token_path) in log and "admin token created" in log and "admin token reused" in log


def test_an_admin_token_others_may_read_is_refused(start_server, tmp_path):
    data = tmp_path / "loose"
    data.mkdir()
    (data / "admin.token").write_text("x" * 64)
    (data / "admin.token").chmod(0o644)
    server = start_server(data_dir=data, env={"ORCHESTRATOR_AUTH_FILE": ""}, wait_ready=False)
    assert server.proc.wait(timeout=30) == 2
    assert "chmod 600" in server.log_path.read_text()


def test_auth_none_lets_everyone_in_and_warns_at_every_start(start_server):
    server = start_server(extra_args=["--auth", "none"])
    assert requests.get(server.url + "/api/v1/workflows", timeout=10).status_code == 200
    server.terminate()
    server.start()
    assert server.log_path.read_text().count("authentication is OFF") == 2
    assert not (server.data_dir / "admin.token").exists()


def test_mesh_callers_get_the_configured_roles_without_a_token(start_server):
    server = start_server(env={"ORCHESTRATOR_AUTH_ANONYMOUS_ROLES": "submit,read"})
    assert requests.get(server.url + "/api/v1/workflows", timeout=10).status_code == 200
    assert requests.post(server.url + "/api/v1/workers/register", json={"worker_id": "w"},
                         timeout=10).status_code == 403
    assert "requests without a token are trusted" in server.log_path.read_text()


def test_an_operator_action_records_the_principal(start_server, tmp_path):
    tokens, token_file = role_tokens(tmp_path)
    server = start_server(env={"ORCHESTRATOR_AUTH_FILE": str(token_file)})
    decision = json.loads((REPO_ROOT / "examples" / "decision.json").read_text())
    decision["final_decision"] = "review_required"
    submitted = Api(server.url, token=tokens["submit"]).submit_decision(decision)
    assert submitted.status_code == 201, submitted.text
    workflow_id = submitted.json()["workflow_id"]
    approved = Api(server.url, token=tokens["operate"]).post(f"/api/v1/workflows/{workflow_id}/approve", {"by": "mallory"})
    assert approved.status_code == 200, approved.text
    history = Api(server.url, token=tokens["read"]).get(f"/api/v1/workflows/{workflow_id}/history").text
    assert "operate-principal" in history and "mallory" not in history


def test_limits_answer_clearly_and_the_server_stays_up(start_server, binary, tmp_path):
    """A flood over the rate limit gets 429 with Retry-After; a 50 MB body 413; a 100 000-deep
    document 400 naming the depth limit, through the server and through `validate`; long polls
    over the per-worker limit 429."""
    config = json.loads(json.dumps(__import__("harness").DEFAULT_CONFIG))
    config["http"] = {"rate_limit_per_second": 20, "rate_limit_burst": 40, "max_long_polls_per_worker": 2}
    server = start_server(config)
    api = Api(server.url)
    statuses = [api.get("/api/v1/workflows").status_code for _ in range(120)]
    assert 429 in statuses and statuses[0] == 200, statuses
    limited = api.get("/api/v1/workflows")
    while limited.status_code != 429:
        limited = api.get("/api/v1/workflows")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    # Another principal is not limited by the first one's flood; the open routes never are.
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    time.sleep(2.5)

    big = b'{"plan_id": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    # The server answers 413 once the body passes the limit and may close the connection before the
    # client has sent the rest, which the client can see as a reset: up to three tries, one of which
    # must read the 413 (on loopback, every one does).
    answers = []
    for _ in range(3):
        try:
            answer = requests.post(server.url + "/api/v1/plans", data=big, timeout=60,
                                   headers={"Authorization": f"Bearer {TEST_TOKEN}",
                                            "Content-Type": "application/json"})
        except requests.ConnectionError as error:
            answers.append(f"connection error: {error}")
            continue
        assert answer.status_code == 413, answer.text[:300]
        assert answer.json()["error"]["code"] == "payload_too_large"
        break
    else:
        raise AssertionError(f"no 413 read in three tries: {answers}")
    time.sleep(2.5)

    deep = "[" * 100_000 + "]" * 100_000
    answer = api.post("/api/v1/decisions", data=deep, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text[:300]
    assert "deep" in answer.json()["error"]["message"] or "depth" in answer.json()["error"]["message"]
    path = tmp_path / "deep.json"
    path.write_text(deep)
    validated = subprocess.run([binary, "validate", str(path)], capture_output=True, timeout=60)
    assert validated.returncode == 2, validated
    assert b"deep" in validated.stderr + validated.stdout or b"depth" in validated.stderr + validated.stdout

    time.sleep(2.5)
    api.post("/api/v1/workers/register", {"worker_id": "poller", "capabilities": ["nobody"]})
    results: list[int] = []

    def hold() -> None:
        results.append(api.post("/api/v1/workers/poller/poll", {"max_tickets": 1, "wait_ms": 3000}).status_code)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    third = api.post("/api/v1/workers/poller/poll", {"max_tickets": 1, "wait_ms": 3000})
    assert third.status_code == 429 and "max_long_polls_per_worker" in third.json()["error"]["message"], third.text
    for t in threads:
        t.join()
    assert results == [200, 200]
    assert requests.get(server.url + "/ready", timeout=10).status_code == 200


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(secret: bytes, claims: dict) -> str:
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


def jwt_rs256(key: pathlib.Path, kid: str, claims: dict) -> str:
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    body = b64url(json.dumps(claims).encode())
    signed = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=f"{head}.{body}".encode(),
                            capture_output=True, check=True, timeout=30).stdout
    return f"{head}.{body}.{b64url(signed)}"


def rsa_jwks(key: pathlib.Path, kid: str) -> dict:
    modulus = subprocess.run(["openssl", "rsa", "-in", str(key), "-noout", "-modulus"], capture_output=True,
                             check=True, timeout=30).stdout.decode().strip().split("=", 1)[1]
    return {"keys": [{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                      "n": b64url(bytes.fromhex(modulus)), "e": b64url((65537).to_bytes(3, "big"))}]}


def test_jwts_hs256_and_rs256_with_issuer_audience_expiry_and_a_roles_claim(start_server, tmp_path):
    secret = os.urandom(32).hex().encode()
    (tmp_path / "hs256.secret").write_bytes(secret)
    key = tmp_path / "rsa.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
                   check=True, capture_output=True, timeout=60)
    (tmp_path / "jwks.json").write_text(json.dumps(rsa_jwks(key, "k1")))
    server = start_server(env={
        "ORCHESTRATOR_JWT_HS256_SECRET_FILE": str(tmp_path / "hs256.secret"),
        "ORCHESTRATOR_JWKS_FILE": str(tmp_path / "jwks.json"),
        "ORCHESTRATOR_JWT_ISSUER": "https://idp.test", "ORCHESTRATOR_JWT_AUDIENCE": "orchestrator",
        "ORCHESTRATOR_JWT_ROLES_CLAIM": "realm_access.roles",
    })
    now = int(time.time())
    good = {"sub": "alice", "iss": "https://idp.test", "aud": ["orchestrator", "other"], "exp": now + 300,
            "realm_access": {"roles": ["read", "unknown-role"]}}

    def status(token: str, path: str = "/api/v1/workflows", method: str = "GET") -> int:
        return requests.request(method, server.url + path, json={} if method == "POST" else None, timeout=10,
                                headers={"Authorization": f"Bearer {token}"}).status_code

    assert status(jwt_hs256(secret, good)) == 200
    assert status(jwt_rs256(key, "k1", good)) == 200
    assert status(jwt_hs256(secret, good), "/api/v1/decisions", "POST") == 403  # read only
    assert status(jwt_hs256(b"another secret of 32 bytes or more!!", good)) == 401
    assert status(jwt_hs256(secret, {**good, "exp": now - 3600})) == 401
    assert status(jwt_hs256(secret, {**good, "iss": "https://evil.test"})) == 401
    assert status(jwt_hs256(secret, {**good, "aud": "someone-else"})) == 401
    no_exp = dict(good)
    del no_exp["exp"]
    assert status(jwt_hs256(secret, no_exp)) == 401
    refused = requests.get(server.url + "/api/v1/workflows", timeout=10,
                           headers={"Authorization": f"Bearer {jwt_hs256(secret, {**good, 'exp': now - 3600})}"})
    assert "expired" in refused.json()["error"]["message"]
    # The JWT's subject is the principal an operator action records.
    operator = {**good, "sub": "bob", "realm_access": {"roles": ["operate", "submit", "read"]}}
    decision = json.loads((REPO_ROOT / "examples" / "decision.json").read_text())
    decision["final_decision"] = "review_required"
    bob = Api(server.url, token=jwt_rs256(key, "k1", operator))
    workflow_id = bob.submit_decision(decision).json()["workflow_id"]
    assert bob.post(f"/api/v1/workflows/{workflow_id}/approve", {}).status_code == 200
    assert '"bob"' in bob.get(f"/api/v1/workflows/{workflow_id}/history").text
