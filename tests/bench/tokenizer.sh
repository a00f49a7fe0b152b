#!/bin/sh
# Tokenizer speed (reported, never asserted): MB/s of `tinygptv tokenize` on 1 MB of
# English text.
#   sh tests/bench/tokenizer.sh [BUILD_DIR]
# The text is made at run time (never committed): the licence texts Debian ships in
# /usr/share/common-licenses (real English prose, ~250 KB), repeated to 1 MiB; a
# fallback prose generator is used where they are missing. Encoding time = time of
# tokenizing the file minus time of tokenizing an empty text (loading the vocabulary
# and starting the process), best of 3 runs each.
set -e
build=${1:-build}
bin="$build/tinygptv"
[ -x "$bin" ] || { echo "tokenizer bench: $bin is not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ls /usr/share/common-licenses/* >/dev/null 2>&1; then
  cat /usr/share/common-licenses/* > "$tmp/seed.txt"
else
  awk 'BEGIN { srand(1); split("the of and to in a is that for it as was with be by on not he this are or his from at which", w, " ");
               for (i = 0; i < 40000; i++) printf "%s%s", w[int(rand() * 25) + 1], (i % 13 == 12) ? ".\n" : " " }' > "$tmp/seed.txt"
fi
: > "$tmp/text.txt"
while [ "$(wc -c < "$tmp/text.txt")" -lt 1048576 ]; do cat "$tmp/seed.txt" >> "$tmp/text.txt"; done
head -c 1048576 "$tmp/text.txt" > "$tmp/1mb.txt"
: > "$tmp/empty.txt"

best() {  # best wall time of 3 runs of: tinygptv tokenize --file $1
  b=""
  for i in 1 2 3; do
    s=$(date +%s.%N)
    "$bin" tokenize --file "$1" > "$tmp/out.txt"
    e=$(date +%s.%N)
    b=$(echo "$s $e $b" | awk '{ t = $2 - $1; if ($3 == "" || t < $3) print t; else print $3 }')
  done
  echo "$b"
}
full=$(best "$tmp/1mb.txt")
base=$(best "$tmp/empty.txt")
tokens=$(wc -w < "$tmp/out.txt")
"$bin" tokenize --file "$tmp/1mb.txt" | wc -w > "$tmp/n.txt"
echo "$full $base $(cat "$tmp/n.txt")" | awk '{ enc = $1 - $2; printf "tokenizer: 1 MiB English text -> %d tokens: %.3f s total, %.3f s start-up+load, %.3f s encoding = %.1f MB/s\n", $3, $1, $2, enc, 1.048576 / enc }'
