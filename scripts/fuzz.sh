#!/usr/bin/env bash
# libFuzzer over the wire decoders (Fuzz/Targets): builds the fuzzer build of `orchestrator-fuzz`
# in its own scratch path and runs every target for SECONDS (default 60), each from a temporary
# copy of its committed seed corpus (Fuzz/corpus/<target>, never modified). Exits non-zero when
# a target crashes, times out on one input (10 s) or exceeds 2 GiB, printing the reproducer.
# Usage: bash scripts/fuzz.sh [SECONDS]   (replay one input: FUZZ_TARGET=<target> BIN <file>)
#
# LeakSanitizer is off: Swift keeps enum payload pointers with tag bits set, which LSan cannot
# follow, so it reports live globals (the parsed contract schemas) as leaked. Memory growth is
# still caught by -rss_limit_mb and -malloc_limit_mb.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUDGET=${1:-60}
SCRATCH=${FUZZ_SCRATCH_PATH:-$ROOT/.build-fuzz}
ARTIFACTS=${FUZZ_ARTIFACTS:-$SCRATCH/fuzz-artifacts}

printf '\n== building the fuzzers (%s)\n' "$SCRATCH"
start=$(date +%s)
# Only the fuzz product: its dependencies (Avro, OrchestratorCore, swift-crypto) are built with
# coverage instrumentation; lld links the libFuzzer runtime (gold fails on it).
swift build -c debug --scratch-path "$SCRATCH" --product orchestrator-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
echo "build: $(($(date +%s) - start)) s"
BIN="$SCRATCH/debug/orchestrator-fuzz"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$ARTIFACTS"
failed=()
for dir in Fuzz/corpus/*/; do
  target=$(basename "$dir")
  cp -R "$dir" "$WORK/$target"
  log="$ARTIFACTS/$target.log"
  printf '\n== fuzzing %s for %s s\n' "$target" "$BUDGET"
  set +e
  ASAN_OPTIONS=detect_leaks=0 FUZZ_TARGET=$target timeout -k 10 $((BUDGET + 120)) "$BIN" \
    -max_total_time="$BUDGET" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -detect_leaks=0 \
    -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$target-" "$WORK/$target" >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$log" || true
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    tail -n 60 "$log"
    echo "FAILED: $target (status $status); reproducer(s):" >&2
    grep -o "Test unit written to .*" "$log" | sed 's/^Test unit written to /  /' >&2 || true
    echo "  replay: FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 $BIN <reproducer>; full log: $log" >&2
  fi
done
echo
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: every target ran ${BUDGET} s without a finding ($(($(date +%s) - start)) s in all)"
