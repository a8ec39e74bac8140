#!/usr/bin/env bash
# The whole test suite: installs and starts what the tests need, runs every test, stops what it
# started. Usage: bash scripts/test.sh   (from any directory; needs root or sudo-less apt for packages)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '\n== %s\n' "$*"; }

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

# 2. A throw-away PostgreSQL cluster (scripts/postgres.sh), unless a server is given in
#    ORCHESTRATOR_TEST_POSTGRES_URL. The PostgreSQL tests are required: they fail, never skip.
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
log "swift test"
swift test

BIN="$(swift build --show-bin-path)/orchestrator-dynamic"

# 4. Wire compatibility with the hive-mind's Python peers.
log "Avro interop with fastavro"
"$VENV/bin/python" Tests/Interop/avro_interop.py --binary "$BIN" \
  --contracts "$ROOT/../shared/contracts" --examples "$ROOT/examples"

# 5. The real binary over HTTP on temporary SQLite files (and PostgreSQL schemas), then the SIGKILL crash test.
log "integration tests (real server over HTTP)"
ORCHESTRATOR_BINARY="$BIN" "$VENV/bin/python" -m pytest Tests/Integration -m "not crash"
log "crash test (server killed with SIGKILL at random moments)"
ORCHESTRATOR_BINARY="$BIN" "$VENV/bin/python" -m pytest Tests/Integration -m crash
