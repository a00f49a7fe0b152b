#!/bin/sh
# Image-stage speed against PIL on the same machine (reported, never asserted):
#   sh tests/bench/images.sh [BUILD_DIR] [PYTHON]
# Makes a 12-megapixel photo-like PNG (4000x3000, ImageMagick's "rose:" scaled up
# with noise) in a temporary directory -- never committed -- then compares
#   decode:  tinygptv image ... --time           vs PIL Image.open(f).convert("RGB")
#   resize:  the resize step of `preprocess --size 448`   vs PIL img.resize((448, 448), BICUBIC)
# Times are measured inside each program (file reading included in decode, .npy
# writing excluded), best of 3 runs.
set -e
build=${1:-build}
py=${2:-/usr/bin/python3}
bin="$build/tinygptv"
[ -x "$bin" ] || { echo "build $bin first (make build)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
convert rose: -filter Lanczos -resize 4000x3000! -attenuate 0.4 +noise Gaussian -define png:exclude-chunk=date,time "$tmp/big.png"
for i in 1 2 3; do "$bin" image preprocess "$tmp/big.png" --size 448 --out "$tmp/p.npy" --time 2>>"$tmp/times.txt"; done

"$py" - "$tmp" <<'PYEOF'
import os, re, sys, time
import numpy as np
from PIL import Image
from torchvision import transforms
tmp = sys.argv[1]
path = os.path.join(tmp, "big.png")
text = open(os.path.join(tmp, "times.txt")).read()
t_dec = min(float(x) for x in re.findall(r"decode .*: ([0-9.]+) s", text))
t_res = min(float(x) for x in re.findall(r"resize .*: ([0-9.]+) s", text))
def best(f):
    b = 1e9
    for _ in range(3):
        s = time.perf_counter(); f(); b = min(b, time.perf_counter() - s)
    return b
img = Image.open(path).convert("RGB")
p_dec = best(lambda: Image.open(path).convert("RGB"))
p_res = best(lambda: img.resize((448, 448), Image.BICUBIC))
print(f"input: {img.size[0]}x{img.size[1]} RGB PNG, {os.path.getsize(path) / 1e6:.1f} MB")
print(f"decode 12 MP PNG   tinygptv {t_dec:.3f} s   PIL {p_dec:.3f} s   ratio {t_dec / p_dec:.2f}")
print(f"resize to 448      tinygptv {t_res:.3f} s   PIL {p_res:.3f} s   ratio {t_res / p_res:.2f}")
tf = transforms.Compose([transforms.Resize((448, 448), interpolation=transforms.InterpolationMode.BICUBIC),
                         transforms.ToTensor(),
                         transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))])
ours = np.load(os.path.join(tmp, "p.npy"))
print(f"check: max |tinygptv - torchvision| = {np.abs(ours - tf(img).numpy()).max():.2e}")
PYEOF
