#!/bin/sh
# Regenerates every committed fixture under tests/data/ from the independent
# references: PyTorch (model layers), PIL/torchvision (images), js-tiktoken (tokenizer).
#   sh tests/reference/make_fixtures.sh [/usr/bin/python3]
# Each tests/reference/make_<area>.py runs with Debian's Python (python3-torch,
# python3-numpy, python3-pil, python3-torchvision); each make_<area>.sh with sh.
set -e
py=${1:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
for f in "$here"/make_*.py; do
  [ -f "$f" ] || continue
  echo "== $(basename "$f")"
  "$py" "$f"
done
for f in "$here"/make_*.sh; do
  [ -f "$f" ] || continue
  [ "$(basename "$f")" = make_fixtures.sh ] && continue
  echo "== $(basename "$f")"
  sh "$f" "$py"
done
