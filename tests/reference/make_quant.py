"""Fixtures for tests/quant: ggml's block formats, quantized and dequantized by NumPy.

An independent implementation written from the format descriptions (the block layouts
of ggml-common.h and the rounding rules of ggml's reference quantizers, as described in
docs/quantization.md), not from the C++ in src/quant/. Every float operation is a
float32 operation in the order the description gives, so the blocks come out byte for
byte; the things that make that true are:
  - all arithmetic in np.float32 (numpy 1.x turns float32 * Python float or * int64
    into float64, so every constant and every integer is made a float32 first);
  - sums accumulate left to right (np.add.accumulate), never numpy's pairwise np.sum;
  - three roundings: round half away from zero (C roundf; Q8_0, Q8_1), round half to
    even (ggml's nearest_int; the K-formats), and truncation of a non-negative float
    (the (int) casts of Q4_0, Q4_1, Q5_0, Q5_1);
  - halves are IEEE binary16 with round to nearest even (ndarray.astype(np.float16)).

Writes tests/data/quant/:
  input.npy            '<f4' [R, 256]  the rows (random, zeros, outliers, ties, tiny, huge ...)
  <fmt>.npy            '|u1' [R, B]    the blocks of each row, B = 256 / block_size * block_bytes
  <fmt>_dequant.npy    '<f4' [R, 256]  their dequantized values
for fmt in q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k q8_1 q8_k.
    /usr/bin/python3 tests/reference/make_quant.py
"""
import os

import numpy as np

F = np.float32
N = 256  # values per row: one K super-block, eight 32-blocks


def f32(a):
    return np.asarray(a, dtype=np.float32)


def seqsum(a):
    """Left-to-right float32 sum (a C loop `s += a[i]` starting from 0)."""
    a = f32(a)
    return F(0) + np.add.accumulate(a)[-1]


def half_bits(v):
    return int(np.array([F(v)], dtype=np.float32).astype(np.float16).view(np.uint16)[0])


def half_value(bits):
    return F(np.array([bits], dtype=np.uint16).view(np.float16)[0])


def round_away(v):
    """C roundf on float32 values: ties away from zero (exact in float64)."""
    v = np.asarray(v, dtype=np.float64)
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64)


def nearest_even(v):
    """ggml's nearest_int: round half to even (np.rint is exact on float32)."""
    return np.rint(f32(v)).astype(np.int64)


def first_absmax(x):
    """The first value of largest magnitude, with its sign."""
    return F(x[int(np.argmax(np.abs(x)))])


def u16(v):
    return [v & 0xff, v >> 8]


# ---------------------------------------------------------------- 32-weight blocks

def q8_0(x):
    """d = max|x| / 127; q = round_away(x * (1/d)). [d half][32 x int8]."""
    out = []
    for b in x.reshape(-1, 32):
        amax = F(np.max(np.abs(b)))
        d = amax / F(127)
        inv = F(1) / d if d != 0 else F(0)
        q = round_away(b * inv)
        out += u16(half_bits(d)) + list((q & 0xff).astype(np.uint8))
    return out


def dq8_0(blocks):
    y = []
    for b in blocks.reshape(-1, 34):
        d = half_value(b[0] | b[1] << 8)
        y += list(f32(b[2:].view(np.int8)) * d)
    return f32(y)


def q8_1(x):
    """As Q8_0, plus s = half(sum(q) * d) (d before its rounding). [d][s][32 x int8]."""
    out = []
    for b in x.reshape(-1, 32):
        amax = F(np.max(np.abs(b)))
        d = amax / F(127)
        inv = F(1) / d if d != 0 else F(0)
        q = round_away(b * inv)
        s = F(int(q.sum())) * d
        out += u16(half_bits(d)) + u16(half_bits(s)) + list((q & 0xff).astype(np.uint8))
    return out


def dq8_1(blocks):
    y = []
    for b in blocks.reshape(-1, 36):
        d = half_value(b[0] | b[1] << 8)
        y += list(f32(b[4:].view(np.int8)) * d)
    return f32(y)


def nibbles(q):
    """32 codes -> 16 bytes: code j in the low nibble of byte j, code j + 16 in its high nibble."""
    q = np.asarray(q, dtype=np.int64)
    return list((q[:16] | (q[16:] << 4)).astype(np.uint8))


def unnibble(qs):
    qs = np.asarray(qs, dtype=np.int64)
    return np.concatenate([qs & 15, qs >> 4])


def fifth_bits(q):
    """Bit 4 of each of 32 codes, as a little-endian uint32 (4 bytes)."""
    qh = 0
    for j, v in enumerate(q):
        qh |= ((int(v) >> 4) & 1) << j
    return [(qh >> (8 * i)) & 0xff for i in range(4)]


def with_fifth(qs, qh):
    word = int(qh[0]) | int(qh[1]) << 8 | int(qh[2]) << 16 | int(qh[3]) << 24
    return unnibble(qs) | np.array([((word >> j) & 1) << 4 for j in range(32)], dtype=np.int64)


def symmetric(x, levels):
    """Q4_0 (levels 8) and Q5_0 (16): m = first absmax, d = m / -levels,
    q = min(2 levels - 1, trunc(x * (1/d) + levels + 0.5))."""
    for b in x.reshape(-1, 32):
        m = first_absmax(b)
        d = m / F(-levels)
        inv = F(1) / d if d != 0 else F(0)
        t = b * inv + F(levels + 0.5)  # >= 0 (up to rounding): truncation is floor
        q = np.minimum(2 * levels - 1, np.trunc(t).astype(np.int64))
        yield d, q


def q4_0(x):
    out = []
    for d, q in symmetric(x, 8):
        out += u16(half_bits(d)) + nibbles(q)
    return out


def dq4_0(blocks):
    y = []
    for b in blocks.reshape(-1, 18):
        d = half_value(b[0] | b[1] << 8)
        y += list(f32(unnibble(b[2:]) - 8) * d)
    return f32(y)


def q5_0(x):
    out = []
    for d, q in symmetric(x, 16):
        out += u16(half_bits(d)) + fifth_bits(q) + nibbles(q & 15)
    return out


def dq5_0(blocks):
    y = []
    for b in blocks.reshape(-1, 22):
        d = half_value(b[0] | b[1] << 8)
        y += list(f32(with_fifth(b[6:], b[2:6]) - 16) * d)
    return f32(y)


def affine(x, top, clamp):
    """Q4_1 (top 15) and Q5_1 (31): d = (max - min) / top, m = min,
    q = trunc((x - min) * (1/d) + 0.5), capped at top for Q4_1."""
    for b in x.reshape(-1, 32):
        lo, hi = F(np.min(b)), F(np.max(b))
        d = (hi - lo) / F(top)
        inv = F(1) / d if d != 0 else F(0)
        q = np.trunc((b - lo) * inv + F(0.5)).astype(np.int64)
        if clamp:
            q = np.minimum(top, q)
        yield d, lo, q


def q4_1(x):
    out = []
    for d, m, q in affine(x, 15, True):
        out += u16(half_bits(d)) + u16(half_bits(m)) + nibbles(q)
    return out


def dq4_1(blocks):
    y = []
    for b in blocks.reshape(-1, 20):
        d, m = half_value(b[0] | b[1] << 8), half_value(b[2] | b[3] << 8)
        y += list(f32(unnibble(b[4:])) * d + m)
    return f32(y)


def q5_1(x):
    out = []
    for d, m, q in affine(x, 31, False):
        out += u16(half_bits(d)) + u16(half_bits(m)) + fifth_bits(q) + nibbles(q & 15)
    return out


def dq5_1(blocks):
    y = []
    for b in blocks.reshape(-1, 24):
        d, m = half_value(b[0] | b[1] << 8), half_value(b[2] | b[3] << 8)
        y += list(f32(with_fifth(b[8:], b[4:8])) * d + m)
    return f32(y)


# ---------------------------------------------------------------- 256-weight super-blocks

def q8_k(x):
    """m = first absmax; iscale = -127 / m; q = min(127, nearest_even(iscale x));
    bsums of 16; d = 1 / iscale (float32). [d f32][256 x int8][16 x int16]; all zero if m == 0."""
    out = []
    for b in x.reshape(-1, 256):
        m = first_absmax(b)
        if m == 0:
            out += [0] * 292
            continue
        iscale = F(-127) / m
        q = np.minimum(127, nearest_even(iscale * b))
        bsums = q.reshape(16, 16).sum(axis=1)
        d = F(1) / iscale
        out += list(np.array([d], dtype='<f4').view(np.uint8)) + list((q & 0xff).astype(np.uint8))
        out += list(np.array(bsums, dtype='<i2').view(np.uint8))
    return out


def dq8_k(blocks):
    y = []
    for b in blocks.reshape(-1, 292):
        d = b[:4].view('<f4')[0]
        y += list(d * f32(b[4:260].view(np.int8)))
    return f32(y)


def fit_affine(x, w):
    """Weighted least-squares grid scale * q - mn, q in 0..15, for 32 values (ggml's
    make_qkx2_quants with nmax 15, rmin -1, rdelta 0.1, nstep 20, squared error).
    Returns (scale, mn, q)."""
    nmax = 15
    lo = F(np.min(x))
    hi = F(np.max(x))
    sum_w = seqsum(w)
    sum_x = seqsum(w * x)
    if lo > 0:
        lo = F(0)
    if hi == lo:
        return F(0), -lo, np.zeros(32, dtype=np.int64)
    iscale = F(nmax) / (hi - lo)
    scale = F(1) / iscale
    q = np.clip(nearest_even(iscale * (x - lo)), 0, nmax)
    diff = scale * f32(q) + lo - x
    best = seqsum(w * (diff * diff))
    for step in range(21):
        iscale = (F(-1) + F(0.1) * F(step) + F(nmax)) / (hi - lo)
        l = np.clip(nearest_even(iscale * (x - lo)), 0, nmax)
        lf = f32(l)
        sum_l = seqsum(w * lf)
        sum_l2 = seqsum(w * lf * lf)
        sum_xl = seqsum(w * lf * x)
        D = sum_w * sum_l2 - sum_l * sum_l
        if D > 0:
            s = (sum_w * sum_xl - sum_x * sum_l) / D
            mn = (sum_l2 * sum_x - sum_l * sum_xl) / D
            if mn > 0:
                mn = F(0)
                s = sum_xl / sum_l2
            diff = s * lf + mn - x
            err = seqsum(w * (diff * diff))
            if err < best:
                q, best, scale, lo = l, err, s, mn
    return scale, -lo, q


def k4_scale_bytes(sc, m):
    """8 six-bit scales and 8 six-bit mins in 12 bytes."""
    s = [0] * 12
    for j in range(8):
        if j < 4:
            s[j] = sc[j]
            s[j + 4] = m[j]
    for j in range(4, 8):
        s[j + 4] = (sc[j] & 15) | (m[j] & 15) << 4
        s[j - 4] |= (sc[j] >> 4) << 6
        s[j] |= (m[j] >> 4) << 6
    return s


def k4_scale_of(s, j):
    if j < 4:
        return s[j] & 63, s[j + 4] & 63
    return (s[j + 4] & 15) | (s[j - 4] >> 6) << 4, (s[j + 4] >> 4) | (s[j] >> 6) << 4


def q4_k(x):
    out = []
    for blk in x.reshape(-1, 256):
        subs = blk.reshape(8, 32)
        scales, mins, codes = [], [], []
        for xs in subs:
            av = np.sqrt(seqsum(xs * xs) / F(32))
            s, mn, q = fit_affine(xs, av + np.abs(xs))
            scales.append(s)
            mins.append(mn)
            codes.append(q)
        max_scale = max([F(0)] + [s for s in scales if s > 0])
        max_min = max([F(0)] + [m for m in mins if m > 0])
        inv_s = F(63) / max_scale if max_scale > 0 else F(0)
        inv_m = F(63) / max_min if max_min > 0 else F(0)
        # the rounded value is kept modulo 256 (a uint8), then capped at 63
        ls = [min(63, int(nearest_even(inv_s * s)) & 0xff) for s in scales]
        lm = [min(63, int(nearest_even(inv_m * m)) & 0xff) for m in mins]
        sbytes = k4_scale_bytes(ls, lm)
        dh, dminh = half_bits(max_scale / F(63)), half_bits(max_min / F(63))
        for j in range(8):
            sc, m = k4_scale_of(sbytes, j)
            d = half_value(dh) * F(sc)
            if d == 0:
                continue  # keeps the fitted codes
            dm = half_value(dminh) * F(m)
            codes[j] = np.clip(nearest_even((subs[j] + dm) / d), 0, 15)
        q = np.concatenate(codes)
        qs = []
        for c in range(4):  # chunk c: weights 64c .. 64c+31 low nibbles, 64c+32 .. 64c+63 high
            qs += list((q[64 * c:64 * c + 32] | q[64 * c + 32:64 * c + 64] << 4).astype(np.uint8))
        out += u16(dh) + u16(dminh) + sbytes + qs
    return out


def dq4_k(blocks):
    y = []
    for b in blocks.reshape(-1, 144):
        d, dmin = half_value(b[0] | b[1] << 8), half_value(b[2] | b[3] << 8)
        s = [int(v) for v in b[4:16]]
        qs = np.asarray(b[16:], dtype=np.int64)
        for j in range(8):
            sc, m = k4_scale_of(s, j)
            chunk = qs[32 * (j // 2):32 * (j // 2) + 32]
            q = chunk & 15 if j % 2 == 0 else chunk >> 4
            y += list((d * F(sc)) * f32(q) - dmin * F(m))
    return f32(y)


def fit_symmetric(x):
    """x^2-weighted least-squares grid scale * l, l in -32..31, for 16 values (ggml's
    make_qx_quants with nmax 32 and weights x^2). Returns (scale, codes l + 32)."""
    nmax = 32
    m = first_absmax(x)
    if np.abs(m) < F(1e-15):
        return F(0), np.zeros(16, dtype=np.int64)
    w = x * x

    def grid(iscale):
        l = np.clip(nearest_even(iscale * x), -nmax, nmax - 1)
        lf = f32(l)
        return l, seqsum(w * x * lf), seqsum(w * lf * lf)

    l, sumlx, suml2 = grid(F(-nmax) / m)
    scale = sumlx / suml2 if suml2 != 0 else F(0)
    best = scale * sumlx
    for step in range(-9, 10):
        if step == 0:
            continue
        cand, sumlx, suml2 = grid(-(F(nmax) + F(0.1) * F(step)) / m)
        if suml2 > 0 and sumlx * sumlx > best * suml2:
            l, scale = cand, sumlx / suml2
            best = scale * sumlx
    return scale, l + nmax


def q6_k(x):
    out = []
    for blk in x.reshape(-1, 256):
        subs = blk.reshape(16, 16)
        fits = [fit_symmetric(xs) for xs in subs]
        scales = [s for s, _ in fits]
        codes = [c for _, c in fits]
        mags = np.abs(f32(scales))
        big = scales[int(np.argmax(mags))]
        if np.abs(big) < F(1e-15):
            out += [0] * 210
            continue
        iscale = F(-128) / big
        dh = half_bits(F(1) / iscale)
        sc = [min(127, int(nearest_even(iscale * s))) for s in scales]
        for j in range(16):
            d = half_value(dh) * F(sc[j])
            if d == 0:
                continue  # keeps the fitted codes
            codes[j] = np.clip(nearest_even(subs[j] / d), -32, 31) + 32
        q = np.concatenate(codes)
        ql, qh = [0] * 128, [0] * 64
        for k in range(256):  # weight 128h + 32r + l
            h, r, l = k // 128, (k % 128) // 32, k % 32
            ql[64 * h + l + 32 * (r & 1)] |= (int(q[k]) & 15) << (0 if r < 2 else 4)
            qh[32 * h + l] |= (int(q[k]) >> 4) << (2 * r)
        out += ql + qh + [v & 0xff for v in sc] + u16(dh)
    return out


def dq6_k(blocks):
    y = []
    for b in blocks.reshape(-1, 210):
        ql, qh, sc = b[:128], b[128:192], b[192:208].view(np.int8)
        d = half_value(b[208] | b[209] << 8)
        for k in range(256):
            h, r, l = k // 128, (k % 128) // 32, k % 32
            low = (int(ql[64 * h + l + 32 * (r & 1)]) >> (0 if r < 2 else 4)) & 15
            high = (int(qh[32 * h + l]) >> (2 * r)) & 3
            y.append(d * F(sc[k // 16]) * F((low | high << 4) - 32))
    return f32(y)


FORMATS = [  # name, block bytes per 256 values, quantize, dequantize
    ("q8_0", 8 * 34, q8_0, dq8_0), ("q4_0", 8 * 18, q4_0, dq4_0), ("q4_1", 8 * 20, q4_1, dq4_1),
    ("q5_0", 8 * 22, q5_0, dq5_0), ("q5_1", 8 * 24, q5_1, dq5_1), ("q8_1", 8 * 36, q8_1, dq8_1),
    ("q4_k", 144, q4_k, dq4_k), ("q6_k", 210, q6_k, dq6_k), ("q8_k", 292, q8_k, dq8_k),
]


def rows():
    rng = np.random.default_rng(20261204)
    normal = lambda s: f32(rng.standard_normal(N) * s)
    r = [normal(1.0), normal(0.02), normal(1e-3), normal(50.0),
         f32(rng.uniform(-1, 1, N))]
    sprinkled = normal(1.0)
    sprinkled[::7] = 0
    r.append(sprinkled)                                             # zeros among values
    r.append(np.zeros(N, dtype=np.float32))                         # all zero
    half = normal(1.0)
    half[:96] = 0
    r.append(half)                                                  # zero blocks, a zero K sub-block
    out = normal(0.01)
    out[100] = 30.0
    r.append(out)                                                   # one outlier
    r.append(np.full(N, 0.37, dtype=np.float32))                    # all equal
    r.append(np.full(N, -0.37, dtype=np.float32))                   # all equal, negative
    r.append(normal(1e-6))                                          # tiny
    r.append(normal(1e-9))                                          # tinier: half scales go subnormal / zero
    r.append(normal(300.0))                                         # huge (scales stay within half range)
    r.append(-np.abs(normal(1.0)))                                  # all negative: negative maxima
    r.append(np.abs(normal(1.0)) + F(2))                            # all positive with an offset
    r.append(f32(rng.integers(-16, 16, N)) * F(0.5))                # grid values: ties
    opp = f32(rng.uniform(-1, 1, N))
    opp[3::32], opp[9::32] = -8.0, 8.0
    r.append(opp)                                                   # equal |max| of both signs
    r.append(f32(rng.laplace(0, 1, N)))                             # heavy tails
    r.append(np.linspace(-1, 1, N, dtype=np.float32))               # a ramp
    return np.stack(r).astype(np.float32)


def main():
    x = rows()
    out = "tests/data/quant"
    os.makedirs(out, exist_ok=True)
    np.save(f"{out}/input.npy", x.astype('<f4'))
    for name, nbytes, quant, dequant in FORMATS:
        blocks = np.array([quant(row) for row in x], dtype=np.int64)
        assert blocks.shape == (len(x), nbytes) and blocks.min() >= 0 and blocks.max() <= 255, name
        blocks = blocks.astype(np.uint8)
        deq = np.stack([dequant(b) for b in blocks]).astype('<f4')
        np.save(f"{out}/{name}.npy", blocks)
        np.save(f"{out}/{name}_dequant.npy", deq)
        err = np.abs(deq - x).max(axis=1) / np.maximum(np.abs(x).max(axis=1), 1e-30)
        print(f"{out}/{name}.npy {blocks.shape}, max |x - w| / max |x| per row up to {err.max():.3g}")


if __name__ == "__main__":
    main()
