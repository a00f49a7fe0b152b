"""Fixture for tests/kernels: float32 -> float16 / bfloat16 rounding, from NumPy and PyTorch.

Writes tests/data/kernels/convert.npy, '<u4' [n, 3]: per row the float32 bit pattern,
numpy's float16 bits (np.float32.astype(np.float16): round to nearest even) and torch's
bfloat16 bits (tensor.to(torch.bfloat16): round to nearest even). The inputs are the
hard cases (ties, the subnormal range, overflow edges, zeros, infinities) and random
values over every float16 exponent. NaN inputs are left out: NaN payloads are not
specified (the test checks NaN -> NaN separately).
    /usr/bin/python3 tests/reference/make_kernels.py
"""
import os

import numpy as np
import torch

rng = np.random.default_rng(20261127)
vals = []

# Hand-picked edges.
f16_edges = [0.0, -0.0, 1.0, -1.0, 65504.0, 65519.0, 65519.99, 65520.0, 65536.0, 1e9, -1e9,
             2.0**-14, 2.0**-24, 2.0**-25, 2.0**-25 * 1.0000001, 3 * 2.0**-26, 2.0**-26, 2.0**-14 - 2.0**-25,
             2.0**-14 - 2.0**-24, 1e-8, 5.96e-8, 6.1e-5, 1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, 1.0 + 2.0**-11 + 2.0**-30,
             2.0**-149, 1e-45, 3.4028235e38, 1.17549435e-38, 0.1, 0.2, 0.3, 1.0 / 3.0, np.pi]
vals += [np.float32(v) for v in f16_edges] + [np.float32(-v) for v in f16_edges]
vals += [np.float32(np.inf), np.float32(-np.inf)]

# Every float16 midpoint tie kind: h (even and odd mantissas) + half an ulp, normal and subnormal.
hbits = rng.integers(0, 0x7bff, size=300, dtype=np.uint16)
for hb in hbits:
    h = np.array([hb], dtype=np.uint16).view(np.float16)[0]
    nxt = np.array([hb + 1], dtype=np.uint16).view(np.float16)[0]
    mid = (np.float64(h) + np.float64(nxt)) / 2  # exactly representable in float32
    vals += [np.float32(mid), np.float32(-mid)]
    vals.append(np.nextafter(np.float32(mid), np.float32(np.inf)))
    vals.append(np.nextafter(np.float32(mid), np.float32(0)))

# bfloat16 ties: random float32 with low 16 bits exactly 0x8000, and next to it.
for b in rng.integers(0, 0x7f7f, size=200, dtype=np.uint32):
    for low in (0x8000, 0x7fff, 0x8001):
        vals.append(np.array([(b << 16) | low], dtype=np.uint32).view(np.float32)[0])

# Random magnitudes over the float16 range and beyond, random signs.
mags = np.exp2(rng.uniform(-30, 18, size=1500)).astype(np.float32)
vals += list(mags * rng.choice(np.array([-1, 1], dtype=np.float32), size=mags.size))
# Random bit patterns (bfloat16 covers every exponent), NaNs removed.
bits = rng.integers(0, 2**32, size=800, dtype=np.uint64).astype(np.uint32)
vals += [v for v in bits.view(np.float32) if not np.isnan(v)]

x = np.array(vals, dtype=np.float32)
f32 = x.view(np.uint32).astype(np.uint32)
with np.errstate(over='ignore'):  # overflow to inf is one of the cases
    f16 = x.astype(np.float16).view(np.uint16).astype(np.uint32)
bf16 = torch.from_numpy(x.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16).astype(np.uint32)
out = np.stack([f32, f16, bf16], axis=1).astype('<u4')
os.makedirs("tests/data/kernels", exist_ok=True)
np.save("tests/data/kernels/convert.npy", out)
print("tests/data/kernels/convert.npy", out.shape)
