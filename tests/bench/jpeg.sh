#!/bin/sh
# JPEG decode speed against PIL on the same machine (reported, never asserted):
#   sh tests/bench/jpeg.sh [BUILD_DIR] [PYTHON]
# Makes 12-megapixel photo-like JPEGs (4000x3000, ImageMagick's "rose:" scaled up with
# noise; quality 90 baseline 4:2:0, and quality 90 progressive 4:4:4) in a temporary
# directory -- never committed -- then times tgv::decode_jpeg (tests/bench/bench_jpeg.cpp)
# against PIL's Image.open(f).convert("RGB"), best of 5 each, wall and CPU time. CPU time
# is the fairer figure on a shared machine; both decoders are single-threaded.
set -e
build=${1:-build}
py=${2:-/usr/bin/python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j 2 --target bench_jpeg >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
convert rose: -filter Lanczos -resize 4000x3000! -attenuate 0.4 +noise Gaussian "$tmp/big.ppm"
cjpeg -quality 90 -sample 2x2 -outfile "$tmp/base420.jpg" "$tmp/big.ppm"
cjpeg -quality 90 -sample 1x1 -progressive -outfile "$tmp/prog444.jpg" "$tmp/big.ppm"
for f in base420 prog444; do
  set -- $("$build/bench_jpeg" "$tmp/$f.jpg" 5)
  "$py" - "$tmp/$f.jpg" "$1" "$2" <<'PYEOF'
import os, sys, time
from PIL import Image
path, t_wall, t_cpu = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def best(f):
    wall = cpu = 1e9
    keep = None  # like bench_jpeg, the previous result stays alive while the next is made
    for _ in range(5):
        w, c = time.perf_counter(), time.process_time()
        keep = f()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu
def load():
    im = Image.open(path)
    im.load()
    return im
lw, lc = best(load)                                          # libjpeg-turbo decode only
cw, cc = best(lambda: Image.open(path).convert("RGB"))       # what the model pipeline calls
name = os.path.basename(path)
mb = os.path.getsize(path) / 1e6
print(f"{name} 4000x3000 ({mb:.1f} MB): tinygptv wall {t_wall:.3f} s cpu {t_cpu:.3f} s")
print(f"  PIL open+load          wall {lw:.3f} s cpu {lc:.3f} s   ratio wall {t_wall / lw:.2f} cpu {t_cpu / lc:.2f}")
print(f"  PIL open+convert(RGB)  wall {cw:.3f} s cpu {cc:.3f} s   ratio wall {t_wall / cw:.2f} cpu {t_cpu / cc:.2f}")
PYEOF
done
