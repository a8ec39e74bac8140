#!/usr/bin/env bash
# The cost of tracing on measurement A (docs/BENCHMARKS.md, "Cost of JSON logs and of tracing"):
# ROUNDS rounds, each running, in turn, BINARY without tracing, at 100 % sampling and at 10 %, and
# the same for an optional second binary (a previous build), against a local OTLP/HTTP receiver
# that discards what it gets. Prints "round mode tickets/s" lines, then the per-round ratios.
#
#   bash scripts/bench-tracing.sh 8 .build/release/orchestrator-dynamic [/path/to/previous/build]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:?rounds}
NEW=${2:?binary}
OLD=${3:-}
PORT=${OTLP_SINK_PORT:-14318}
python3 scripts/otlp-sink.py "$PORT" >/dev/null 2>&1 &
SINK=$!
trap 'kill "$SINK" 2>/dev/null || true' EXIT
sleep 1
RESULTS=$(mktemp)
A=(bench engine --only A --plans 1000 --latency-runs 1 --scale-tasks 10)
modes=(new-off new-on new-ratio)
[ -n "$OLD" ] && modes+=(old-off old-on)
for round in $(seq 1 "$ROUNDS"); do
  for mode in "${modes[@]}"; do
    binary=$NEW
    [[ $mode == old-* ]] && binary=$OLD
    variables=()
    case $mode in
      *-on) variables=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$PORT" OTEL_TRACES_SAMPLER=always_on) ;;
      *-ratio) variables=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$PORT" OTEL_TRACES_SAMPLER=parentbased_traceidratio
        OTEL_TRACES_SAMPLER_ARG=0.1) ;;
    esac
    rate=$(env "${variables[@]}" "$binary" "${A[@]}" 2>/dev/null | grep -m1 'A throughput' |
      sed -E 's/.* ([0-9]+) tickets\/s.*/\1/')
    echo "$round $mode $rate" | tee -a "$RESULTS"
  done
done
python3 - "$RESULTS" <<'PY'
import collections, statistics, sys
rounds = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    r, mode, rate = line.split()
    rounds[r][mode] = int(rate)
for a, b in [("new-on", "new-off"), ("new-ratio", "new-off"), ("old-on", "old-off"), ("new-off", "old-off")]:
    ratios = [v[a] / v[b] for v in rounds.values() if a in v and b in v]
    if ratios:
        print(f"{a} / {b}: mean {statistics.mean(ratios):.3f}, median {statistics.median(ratios):.3f}")
PY
rm -f "$RESULTS"
