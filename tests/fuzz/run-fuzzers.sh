#!/bin/sh
# Runs every fuzz target in BUILD_DIR on its corpus, then on random mutations for
# SECONDS each:  sh tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS
# Target fuzz_<name> reads tests/fuzz/corpus/<name>/ (and tests/data/<name>/ if present).
set -e
build=${1:-build-asan}
seconds=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
found=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  found=1
  name=$(basename "$bin" | sed 's/^fuzz_//')
  set --
  [ -d "$here/corpus/$name" ] && set -- "$@" "$here/corpus/$name"
  [ -d "$root/tests/data/$name" ] && set -- "$@" "$root/tests/data/$name"
  "$bin" -seconds="$seconds" "$@"
done
[ "$found" = 1 ] || echo "no fuzz targets built in $build"
