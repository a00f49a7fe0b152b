#!/bin/sh
# Runs the libFuzzer targets of a TGV_FUZZ build (`make fuzz`, docs/robustness.md):
#   sh tests/fuzz/fuzz.sh BUILD_DIR SECONDS [NAME...]      each target for SECONDS
#   RUNS=N sh tests/fuzz/fuzz.sh BUILD_DIR 0 [NAME...]     each target for N executions
# NAME is a target without its fuzz_ prefix (json, png, ...); default: every fuzz_*
# binary in BUILD_DIR. Each target starts from its grown corpus BUILD_DIR/corpus/NAME
# (kept between runs, outside the repository) plus the committed seeds
# tests/fuzz/corpus/NAME and tests/data/NAME, with tests/fuzz/NAME.dict when there
# is one. A crash, leak, timeout or out-of-memory is written to BUILD_DIR/findings/
# and counted; the script prints one line per target and fails if any target found
# something. FUZZ_FLAGS adds libFuzzer flags (e.g. -jobs, -use_value_profile=1);
# NICE (default 19) is the niceness the fuzzers run at. Runs of different targets may
# go at once (one per core): each target has its own corpus, log and CPU-time files.
set -e
[ $# -ge 2 ] || { echo "usage: fuzz.sh BUILD_DIR SECONDS [NAME...]"; exit 2; }
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "$build" && pwd)
nice=${NICE:-19}
if [ $# = 0 ]; then
  for bin in "$build"/fuzz_*; do
    [ -x "$bin" ] && set -- "$@" "$(basename "$bin" | sed 's/^fuzz_//')"
  done
fi
[ $# -gt 0 ] || { echo "no fuzz targets built in $build (cmake -DTGV_FUZZ=ON, clang)"; exit 1; }
mkdir -p "$build/findings" "$build/logs"
failed=0
total_start=$(date +%s)
for name in "$@"; do
  bin="$build/fuzz_$name"
  [ -x "$bin" ] || { echo "fuzz_$name: not built"; failed=1; continue; }
  mkdir -p "$build/corpus/$name"
  seeds="$build/corpus/$name"
  [ -d "$here/corpus/$name" ] && seeds="$seeds $here/corpus/$name"
  [ -d "$root/tests/data/$name" ] && seeds="$seeds $root/tests/data/$name"
  dict=""
  [ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
  if [ -n "${RUNS:-}" ]; then limit="-runs=$RUNS"; else limit="-max_total_time=$seconds"; fi
  log="$build/logs/$name.log"
  before=$(ls "$build/findings" | grep -c "^$name-" || true)
  start=$(date +%s)
  times >"$build/logs/.times-before-$name"
  # shellcheck disable=SC2086
  if nice -n "$nice" "$bin" $limit $dict -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/findings/$name-" ${FUZZ_FLAGS:-} $seeds >"$log" 2>&1; then
    status=ok
  else
    status="FAILED (exit $?)"
  fi
  end=$(date +%s)
  times >"$build/logs/.times-after-$name"
  # CPU seconds the fuzzer used (children's user + system time, from `times`)
  cpu=$(cat "$build/logs/.times-before-$name" "$build/logs/.times-after-$name" | awk '
    function s(t) { split(t, a, "m"); sub("s", "", a[2]); return a[1] * 60 + a[2] }
    NR == 2 { b = s($1) + s($2) } NR == 4 { printf "%.0f", s($1) + s($2) - b }')
  after=$(ls "$build/findings" | grep -c "^$name-" || true)
  findings=$((after - before))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | sed 's/cov: //')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | sed 's/ft: //')
  corpus=$(ls "$build/corpus/$name" | wc -l)
  line=$(printf '%-22s %s: %s execs in %ss (%s CPU s; %s/s), cov: %s edges, ft: %s, corpus %s files, findings: %s' \
    "fuzz_$name" "$status" "${execs:-?}" "$((end - start))" "${cpu:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$findings")
  echo "$line"
  echo "$(date -u +%Y-%m-%dT%H:%MZ) $line" >>"$build/logs/summary.txt"  # every run, for the totals
  if [ "$status" != ok ] || [ "$findings" != 0 ]; then
    failed=1
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -3 | sed 's/^/    /'
    echo "    log: $log; inputs: $build/findings/$name-*"
  fi
done
echo "fuzzing took $(($(date +%s) - total_start)) s"
exit $failed
