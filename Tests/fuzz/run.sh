#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Tests/fuzz, a package of its own) with AddressSanitizer and runs each
# for FUZZ_SECONDS (default 60), starting from the committed seeds in Tests/fuzz/corpus/<harness>/.
# What the fuzzer learns accumulates in .build-fuzz/corpus/<harness>/ (not committed). A crash or a
# broken invariant fails the run and leaves its input in .build-fuzz/artifacts/<harness>/.
#
#   Tests/fuzz/run.sh                   every harness
#   Tests/fuzz/run.sh chunked acme      some of them
#   FUZZ_SECONDS=300 Tests/fuzz/run.sh  longer
#
# Reproduce a crash: .build-fuzz/release/fuzz-<harness> <artifact file>
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_EACH=${FUZZ_SECONDS:-60}
SCRATCH=$ROOT/.build-fuzz
ALL=(request-head response-head chunked caddyfile caddyfile-adapter acme cluster-event)
HARNESSES=("${@:-${ALL[@]}}")

max_len() {
  case $1 in
    acme) echo 8192 ;;
    cluster-event) echo 2048 ;;
    *) echo 4096 ;;
  esac
}

dictionary() {
  case $1 in
    request-head | response-head | chunked | acme) echo "-dict=$ROOT/Tests/fuzz/dict/http.dict" ;;
    caddyfile | caddyfile-adapter) echo "-dict=$ROOT/Tests/fuzz/dict/caddyfile.dict" ;;
  esac
}

for h in "${HARNESSES[@]}"; do
  [[ " ${ALL[*]} " == *" $h "* ]] || { echo "unknown harness '$h'; one of: ${ALL[*]}" >&2; exit 2; }
  # Dead stripping would drop the coverage counters' sections, leaving libFuzzer blind.
  swift build --package-path Tests/fuzz --scratch-path "$SCRATCH" -c release \
    --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing --disable-dead-strip \
    --product "fuzz-$h" 2>&1 | grep -E "error|Compiling fuzz|complete" || true
  [[ -x $SCRATCH/release/fuzz-$h ]] || { echo "fuzz-$h did not build" >&2; exit 1; }
done

summary=()
failed=0
for h in "${HARNESSES[@]}"; do
  work=$SCRATCH/corpus/$h
  artifacts=$SCRATCH/artifacts/$h
  log=$SCRATCH/logs/$h.log
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  echo "== fuzz-$h for ${SECONDS_EACH}s"
  set +e
  # The Swift backtracer would take the crash and libFuzzer would save no input; LeakSanitizer reports
  # the Swift runtime's metadata caches (see the Makefile's asan target).
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$SCRATCH/release/fuzz-$h" \
    -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$h")" -timeout=10 -rss_limit_mb=3072 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" $(dictionary "$h") \
    "$work" "$ROOT/Tests/fuzz/corpus/$h" >"$log" 2>&1
  status=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  if [[ $status -ne 0 ]]; then
    failed=1
    summary+=("$(printf '%-18s FAILED (exit %d) after %s runs; see %s' "$h" "$status" "$runs" "$log")")
    grep -E "invariant broken|Fatal error|ERROR: AddressSanitizer|ERROR: libFuzzer|SUMMARY|Test unit written" "$log" | head -8
  else
    summary+=("$(printf '%-18s %10s runs %8s/s  cov %s' "$h" "$runs" "$rate" "$cov")")
  fi
done
printf '%s\n' "== summary (${SECONDS_EACH}s each)" "${summary[@]}"
exit $failed
