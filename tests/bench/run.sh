#!/bin/sh
# `make bench`: builds and runs every benchmark, printing speed figures (never asserted).
#   sh tests/bench/run.sh BUILD_DIR
# Runs each tests/bench/bench_<name>.cpp target (built in BUILD_DIR), then every other
# tests/bench/*.sh script with the build directory as $1.
set -e
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cmake -S "$root" -B "$build" >/dev/null
status=0
# The helper scripts time the tinygptv binary itself (`make bench` has built it already).
cmake --build "$build" -j 2 --target tinygptv >/dev/null || { echo "tinygptv: build failed"; status=1; }
for f in "$here"/bench_*.cpp; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .cpp)
  echo "== $name"
  if cmake --build "$build" -j 2 --target "$name" >/dev/null; then
    "$build/$name" || status=1
  else
    echo "$name: build failed"; status=1
  fi
done
for f in "$here"/*.sh; do
  [ -f "$f" ] || continue
  [ "$(basename "$f")" = run.sh ] && continue
  echo "== $(basename "$f")"
  sh "$f" "$build" || status=1
done
exit $status
