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
if ! "$VENV/bin/python" -c 'import fastavro' 2>/dev/null; then
  log "installing Python test peers"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r Tests/Interop/requirements.txt
fi

# 2. Build (warnings are errors in CI) and the Swift test suite.
log "swift build"
swift build ${SWIFT_BUILD_FLAGS:-}
log "swift test"
swift test ${SWIFT_BUILD_FLAGS:-}

# 3. Wire compatibility with the hive-mind's Python peers.
log "Avro interop with fastavro"
"$VENV/bin/python" Tests/Interop/avro_interop.py --binary "$(swift build --show-bin-path)/orchestrator-dynamic" \
  --contracts "$ROOT/../shared/contracts" --examples "$ROOT/examples"
