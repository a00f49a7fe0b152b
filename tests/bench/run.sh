#!/bin/sh
# `make bench-parts`: the speed of the parts (kernels, image decoding, tokenizer),
# printed, never asserted. (The whole model: `make bench`, i.e. `tinygptv bench`.)
#   sh tests/bench/run.sh BUILD_DIR
# Runs each tests/bench/bench_<name>.cpp target (built in BUILD_DIR), then every other
# tests/bench/*.sh script with the build directory as $1, except anchors.sh (which
# needs llama.cpp and a quiet machine: docs/performance.md).
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
  case "$(basename "$f")" in run.sh|anchors.sh) continue ;; esac
  echo "== $(basename "$f")"
  sh "$f" "$build" || status=1
done
exit $status
