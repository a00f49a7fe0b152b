#!/usr/bin/env python3
"""PyTorch fp32 anchor: EVA ViT-g/14 shaped encoder (39 blocks, width 1408, 16 heads, MLP 6144,
exact GELU, pre-norm) on one image, random weights. Run with OMP_WAIT_POLICY=PASSIVE.
  anchor_torch_vit.py [image_size=224] [threads=2] [reps=2]
Prints one line; tests/bench/anchors.sh reads its "mean X s" (after one untimed run,
as `tinygptv bench` does)."""
import os, subprocess, sys
# Debian's torch does its fp32 matrix products in OpenBLAS (libblas.so.3), which picks its
# kernels from the CPU model when it loads. A model it does not know (0.3.21 on a Xeon VM
# that names itself "Intel(R) Xeon(R) Processor") gets the SSE3 "Prescott" kernels, 4x
# slower here than its AVX-512 ones: an anchor that flatters us. Name the core type then.
def openblas_core():
    probe = "import ctypes; f = ctypes.CDLL('libopenblas.so.0').openblas_get_corename; f.restype = ctypes.c_char_p; print(f().decode())"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return r.stdout.strip() or "unknown"
core = openblas_core()
if core == "Prescott" and "OPENBLAS_CORETYPE" not in os.environ:
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "").split()
    core = "SkylakeX" if "avx512f" in flags else "Haswell" if "avx2" in flags else core
    os.environ["OPENBLAS_CORETYPE"] = core
elif "OPENBLAS_CORETYPE" in os.environ:
    core = os.environ["OPENBLAS_CORETYPE"]
import time, torch
S = int(sys.argv[1]) if len(sys.argv) > 1 else 224
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 2
W, L, Hh, M, N = 1408, 39, 16, 6144, (S // 14) ** 2 + 1
class Block(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.n1 = torch.nn.LayerNorm(W, eps=1e-6); s.n2 = torch.nn.LayerNorm(W, eps=1e-6)
        s.qkv = torch.nn.Linear(W, 3 * W); s.proj = torch.nn.Linear(W, W); s.fc1 = torch.nn.Linear(W, M); s.fc2 = torch.nn.Linear(M, W)
    def forward(s, x):
        h = s.n1(x); q, k, v = s.qkv(h).view(N, 3, Hh, W // Hh).permute(1, 2, 0, 3)
        a = torch.softmax((q * (W // Hh) ** -0.5) @ k.transpose(-1, -2), -1) @ v
        x = x + s.proj(a.transpose(0, 1).reshape(N, W))
        return x + s.fc2(torch.nn.functional.gelu(s.fc1(s.n2(x))))
with torch.no_grad():
    blocks = [Block() for _ in range(L)]
    patch = torch.nn.Conv2d(3, W, 14, 14); img = torch.randn(1, 3, S, S)
    def run():
        x = torch.cat([torch.zeros(1, W), patch(img).flatten(2)[0].T], 0)
        for b in blocks: x = b(x)
        return x
    run(); ts = []
    for _ in range(reps):
        t = time.perf_counter(); run(); ts.append(time.perf_counter() - t)
mean = sum(ts) / len(ts)
print(f"pytorch ViT-g @{S}: mean {mean:.3f} s, min {min(ts):.3f} s over {reps} (threads {torch.get_num_threads()}, OpenBLAS kernels {core})")
