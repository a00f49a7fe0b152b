#!/bin/sh
# tinygptv beside its speed anchors, in one run (docs/performance.md). Not run in CI
# or by `make bench`: it needs llama.cpp built beside the project, ~10 GB of disk for
# the GGUFs and a quiet machine (ratios from a loaded machine mean little).
#
#   sh tests/bench/anchors.sh ANCHOR_DIR [BUILD_DIR]        (or TGV_ANCHOR=ANCHOR_DIR)
#
# ANCHOR_DIR holds llama.cpp/ with build/bin/llama-bench and build/bin/llama-quantize
# (how to build them: docs/performance.md). Phi-2-shaped GGUFs with random weights,
# phi2-{f16,q8_0,q4_0}.gguf, are made there when missing (anchor_phi2_gguf.py, then
# llama-quantize). Then, with the same threads and repetitions:
#   llama.cpp   llama-bench: prefill 64 and 256 (-p), decode 64 after 600 (-n 64 -d 600)
#   PyTorch     anchor_torch_vit.py: the EVA ViT-g encoder at each image size
#               (Debian's python3-torch, OMP_WAIT_POLICY=PASSIVE)
#   tinygptv    bench --random full --dtype F --steps prefill,decode for each format,
#               and --dtype $ENCODE_DTYPE --steps encode at each image size
# and prints one table: their figure, ours, and ours / theirs as a speed ratio
# (> 1: tinygptv is faster). Our encode row also runs the Q-Former and projector
# (about 1 % of its FLOPs), PyTorch's only the ViT.
#
# Settings (environment): THREADS (2), REPS (3), FORMATS ("f16 q8_0 q4_0"),
# SIZES ("224 448"), ENCODE_DTYPE (f16), PYTHON (/usr/bin/python3), LLAMA_DECODE_FLAGS
# (added to llama-bench's decode run, e.g. "-ub 1 -fa 0": one setting, performance.md), MODEL_SIZE (full;
# `tiny` only checks this script), KEEP (a directory to copy every tool's own output
# into, e.g. bench's roofline columns and peak RSS; default: not kept),
# LLAMA_PREFILL_BUILD (the llama.cpp build directory whose llama-bench runs prefill;
# default build: where its AMX path stops on batches of more than one token, a build
# without AMX, docs/performance.md). A llama-bench that fails leaves its rows n/a.
set -e
anchor=${1:-$TGV_ANCHOR}
build=${2:-build}
[ -n "$anchor" ] || { echo "usage: sh tests/bench/anchors.sh ANCHOR_DIR [BUILD_DIR]  (or TGV_ANCHOR=...)" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
threads=${THREADS:-2}
reps=${REPS:-3}
formats=${FORMATS:-f16 q8_0 q4_0}
sizes=${SIZES:-224 448}
encode_dtype=${ENCODE_DTYPE:-f16}
python=${PYTHON:-/usr/bin/python3}
model_size=${MODEL_SIZE:-full}
bin="$anchor/llama.cpp/build/bin"
prefill_bin="$anchor/llama.cpp/${LLAMA_PREFILL_BUILD:-build}/bin"
tgv="$build/tinygptv"
for tool in "$bin/llama-bench" "$prefill_bin/llama-bench" "$bin/llama-quantize" "$tgv"; do
  [ -x "$tool" ] || { echo "anchors.sh: missing $tool" >&2; exit 1; }
done
out=$(mktemp -d)
trap '[ -z "$KEEP" ] || { mkdir -p "$KEEP" && cp "$out"/* "$KEEP"/; }; rm -rf "$out"' EXIT

# The GGUFs (once).
if [ ! -f "$anchor/phi2-f16.gguf" ]; then
  echo "== making $anchor/phi2-f16.gguf"
  PYTHONPATH="$anchor/llama.cpp/gguf-py" "$python" "$here/anchor_phi2_gguf.py" "$root/weights/tokenizer" "$anchor/phi2-f16.gguf.part"
  mv "$anchor/phi2-f16.gguf.part" "$anchor/phi2-f16.gguf"
fi
for f in $formats; do
  [ "$f" = f16 ] || [ -f "$anchor/phi2-$f.gguf" ] || {
    echo "== making $anchor/phi2-$f.gguf"
    "$bin/llama-quantize" "$anchor/phi2-f16.gguf" "$anchor/phi2-$f.gguf" "$f" >"$out/quantize.log" 2>&1
  }
done

# The anchors.
for f in $formats; do
  echo "== llama-bench $f"
  "$prefill_bin/llama-bench" -m "$anchor/phi2-$f.gguf" -t "$threads" -r "$reps" -p 64,256 -n 0 -o jsonl 2>"$out/llama-$f.err" >"$out/llama-$f.jsonl" ||
    echo "   prefill failed (exit $?); with AMX on a VM that does not enable it, try LLAMA_PREFILL_BUILD=build-noamx (docs/performance.md)"
  # shellcheck disable=SC2086
  "$bin/llama-bench" -m "$anchor/phi2-$f.gguf" -t "$threads" -r "$reps" -p 0 -n 64 -d 600 ${LLAMA_DECODE_FLAGS:-} -o jsonl 2>>"$out/llama-$f.err" >>"$out/llama-$f.jsonl" ||
    echo "   decode failed (exit $?): $(tail -n 1 "$out/llama-$f.err")"
done
for s in $sizes; do
  echo "== pytorch ViT $s"
  OMP_WAIT_POLICY=PASSIVE "$python" "$here/anchor_torch_vit.py" "$s" "$threads" "$reps" >"$out/torch-$s.txt"
done

# tinygptv, the same settings (a format it cannot build yet is reported, not fatal).
for f in $formats; do
  echo "== tinygptv bench $f"
  "$tgv" bench --random "$model_size" --dtype "$f" --threads "$threads" --reps "$reps" --steps prefill,decode >"$out/tgv-$f.txt" 2>"$out/tgv-$f.err" ||
    echo "   failed: $(tail -n 1 "$out/tgv-$f.err")"
done
for s in $sizes; do
  echo "== tinygptv bench encode $s"
  "$tgv" bench --random "$model_size" --dtype "$encode_dtype" --image-size "$s" --threads "$threads" --reps "$reps" --steps encode \
    >"$out/tgv-encode-$s.txt" 2>"$out/tgv-encode-$s.err" || echo "   failed: $(tail -n 1 "$out/tgv-encode-$s.err")"
done

# One table.
"$python" - "$out" "$threads" "$reps" "$formats" "$sizes" "$encode_dtype" <<'EOF'
import json, os, re, sys
out, threads, reps, formats, sizes, encode_dtype = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5].split(), sys.argv[6]

def read(name):
    p = os.path.join(out, name)
    return open(p).read() if os.path.exists(p) else ""

def ours(text, step):  # the bench table row `step`: (mean seconds, rate column)
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1] == step:
            m = re.match(r"([\d.]+) \+- [\d.]+ (ms|ms/token)", cells[2])
            return float(m.group(1)) / 1e3 if m else None
    return None

rows = []  # (what, unit, theirs, ours): speeds, higher is better
for f in formats:
    llama = [json.loads(l) for l in read(f"llama-{f}.jsonl").splitlines() if l.strip()]
    def ts(n_prompt, n_gen, depth):
        for r in llama:
            if r["n_prompt"] == n_prompt and r["n_gen"] == n_gen and r["n_depth"] == depth:
                return r["avg_ts"]
        return None
    t = read(f"tgv-{f}.txt")
    pp64, pp256, tg = ours(t, "prefill 64"), ours(t, "prefill 256"), ours(t, "decode 64 @ 600")
    rows.append((f"Phi-2 {f} prefill 64", "tokens/s", ts(64, 0, 0), pp64 and 64 / pp64))
    rows.append((f"Phi-2 {f} prefill 256", "tokens/s", ts(256, 0, 0), pp256 and 256 / pp256))
    rows.append((f"Phi-2 {f} decode 64 @ 600", "tokens/s", ts(0, 64, 600), tg and 1 / tg))
for s in sizes:
    m = re.search(r"mean ([\d.]+) s", read(f"torch-{s}.txt"))
    enc = ours(read(f"tgv-encode-{s}.txt"), f"encode {s} px")
    rows.append((f"ViT-g {s} px (ours: {encode_dtype}, + Q-Former)", "images/s", m and 1 / float(m.group(1)), enc and 1 / enc))

print(f"\n{threads} threads, {reps} repetitions; anchors: llama.cpp llama-bench, PyTorch (OMP_WAIT_POLICY=PASSIVE)\n")
print(f"| {'step':44} | {'unit':9} | {'anchor':>9} | {'tinygptv':>9} | {'ratio':>6} |")
print(f"| {'-'*44} | {'-'*9} | {'-'*9} | {'-'*9} | {'-'*6} |")
fmt = lambda x: f"{x:9.3g}" if x else f"{'n/a':>9}"
for what, unit, theirs, us in rows:
    ratio = f"{us / theirs:6.2f}" if theirs and us else f"{'n/a':>6}"
    print(f"| {what:44} | {unit:9} | {fmt(theirs)} | {fmt(us)} | {ratio} |")
for f in formats:
    for line in read(f"tgv-{f}.txt").splitlines():
        if line.startswith("machine:"):
            print(f"\ntinygptv {line}")
            break
    else:
        continue
    break
EOF
