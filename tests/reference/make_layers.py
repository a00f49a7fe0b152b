"""Fixture for tests/layers: each layer of include/tinygptv/layers.h computed by PyTorch.

Inputs are random float32; every reference output is computed in float64 from those
float32 inputs (then stored as float32), except where upstream works in float32 on
purpose: the rotary cos/sin tables are built in float32 exactly as transformers'
PhiRotaryEmbedding does (docs: the shared spec, model.md section 5).
Writes tests/data/layers/<case>.<array>.npy ('<f4', C order), a few KB each.
    /usr/bin/python3 tests/reference/make_layers.py
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = "tests/data/layers"
os.makedirs(OUT, exist_ok=True)
g = torch.Generator().manual_seed(20261127)


def randn(*shape, scale=1.0, shift=0.0):
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift).float()


def save(name, t):
    np.save(f"{OUT}/{name}.npy", t.detach().to(torch.float32).contiguous().numpy().astype("<f4"))


# --- LayerNorm: [T, C] with a large mean (tests the variance's cancellation), eps 1e-5.
for case, (T, C, shift, eps) in {"layernorm": (5, 37, 0.0, 1e-5), "layernorm_offset": (3, 80, 300.0, 1e-5),
                                  "layernorm_eps12": (2, 64, 0.5, 1e-12)}.items():
    x, w, b = randn(T, C, scale=2.0, shift=shift), randn(C, scale=0.3, shift=1.0), randn(C, scale=0.2)
    out = F.layer_norm(x.double(), (C,), w.double(), b.double(), eps)
    for k, v in dict(x=x, w=w, b=b, out=out, eps=torch.tensor([eps])).items():
        save(f"{case}.{k}", v)

# --- RMSNorm (TinyGPT-V post_layernorm): x / sqrt(mean(x^2) + eps) * w, eps 1e-6.
T, C, eps = 4, 61, 1e-6
x, w = randn(T, C, scale=3.0), randn(C, scale=0.3, shift=1.0)
xd = x.double()
out = xd * torch.rsqrt(xd.pow(2).mean(-1, keepdim=True) + eps) * w.double()
for k, v in dict(x=x, w=w, out=out).items():
    save(f"rmsnorm.{k}", v)

# --- GELU, exact and tanh ("gelu_new"): values over [-10, 10] and a few edges.
x = torch.cat([randn(500, scale=3.0), torch.linspace(-10, 10, 201).float(),
               torch.tensor([0.0, -0.0, 1e-30, -1e-30, 1e-7, -5.5, 5.5, 30.0, -30.0])])
save("gelu.x", x)
# References in forms without cancellation at large negative x (where F.gelu's own
# 1 + erf / 1 + tanh lose all digits), checked equal to F.gelu elsewhere.
xd = x.double()
gelu_erf = 0.5 * xd * torch.special.erfc(-xd / math.sqrt(2))
u = math.sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3)
gelu_tanh = xd * torch.sigmoid(2 * u)
assert torch.allclose(gelu_erf, F.gelu(xd, approximate="none"), rtol=1e-13, atol=1e-14)
assert torch.allclose(gelu_tanh, F.gelu(xd, approximate="tanh"), rtol=1e-13, atol=1e-14)
save("gelu_erf.out", gelu_erf)
save("gelu_tanh.out", gelu_tanh)

# --- softmax over rows of different lengths (one row per length), with large logits.
for n in (1, 7, 33, 257):
    x = randn(n, scale=8.0, shift=50.0)
    save(f"softmax_{n}.x", x)
    save(f"softmax_{n}.out", torch.softmax(x.double(), dim=-1))

# --- rotary (GPT-NeoX rotate-half) on the first rotary_dim dims of each head.
# x: [T, stride] with heads*head_dim used columns and a few extra (not touched).
def rotary_ref(x, heads, head_dim, rotary_dim, pos0, theta):
    T = x.shape[0]
    # float32 tables, as transformers' PhiRotaryEmbedding builds them
    inv_freq = 1.0 / (theta ** (torch.arange(0, rotary_dim, 2, dtype=torch.int64).float() / rotary_dim))
    t = torch.arange(pos0, pos0 + T, dtype=torch.int64).float()
    freqs = torch.outer(t, inv_freq)
    cos, sin = freqs.cos(), freqs.sin()                      # float32 [T, rotary_dim/2]
    cos = torch.cat([cos, cos], dim=-1).double()
    sin = torch.cat([sin, sin], dim=-1).double()
    out = x.double().clone()
    half = rotary_dim // 2
    for h in range(heads):
        r = out[:, h * head_dim: h * head_dim + rotary_dim].clone()
        rot = torch.cat([-r[:, half:], r[:, :half]], dim=-1)  # rotate_half
        out[:, h * head_dim: h * head_dim + rotary_dim] = r * cos + rot * sin
    return out

for case, (T, heads, head_dim, rotary_dim, pos0, extra) in {
        "rotary_phi2": (5, 2, 80, 32, 0, 3),         # Phi-2 head geometry
        "rotary_far": (3, 2, 80, 32, 2040, 0),       # near max_positions: float32 tables matter
        "rotary_small": (4, 3, 10, 6, 7, 1)}.items():
    x = randn(T, heads * head_dim + extra)
    save(f"{case}.x", x)
    save(f"{case}.out", rotary_ref(x, heads, head_dim, rotary_dim, pos0, 10000.0))
    save(f"{case}.args", torch.tensor([T, heads * head_dim + extra, heads, head_dim, rotary_dim, pos0, 10000.0]))

# --- attention: softmax(scale q k^T + mask) v per head, float64.
# q: [Tq, q_stride], k, v: [Tk, kv_stride] (head h at columns h*hd..), out: [Tq, heads*hd].
def attention_ref(q, k, v, heads, hd, scale, causal, q_pos0):
    Tq, Tk = q.shape[0], k.shape[0]
    out = torch.zeros(Tq, heads * hd, dtype=torch.float64)
    for h in range(heads):
        qh, kh, vh = (a.double()[:, h * hd:(h + 1) * hd] for a in (q, k, v))
        s = scale * qh @ kh.T
        if causal:
            qpos = torch.arange(Tq).unsqueeze(1) + q_pos0
            s = s.masked_fill(torch.arange(Tk).unsqueeze(0) > qpos, float("-inf"))
        out[:, h * hd:(h + 1) * hd] = torch.softmax(s, dim=-1) @ vh
    return out

for case, (Tq, Tk, heads, hd, causal, q_pos0, q_extra, kv_extra) in {
        "attn_full": (4, 7, 3, 10, False, 0, 2, 5),        # no mask (ViT / Q-Former cross-attention)
        "attn_causal": (6, 6, 2, 16, True, 0, 0, 3),       # prefill
        "attn_cache": (3, 9, 2, 16, True, 6, 1, 0),        # the last 3 positions against a KV cache of 9
        "attn_decode": (1, 9, 4, 8, True, 8, 0, 7)}.items():  # one new token
    q = randn(Tq, heads * hd + q_extra, scale=1.5)
    k = randn(Tk, heads * hd + kv_extra, scale=1.5)
    v = randn(Tk, heads * hd + kv_extra)
    scale = 1.0 / math.sqrt(hd)
    for name, a in dict(q=q, k=k, v=v, out=attention_ref(q, k, v, heads, hd, scale, causal, q_pos0)).items():
        save(f"{case}.{name}", a)
    save(f"{case}.args", torch.tensor([Tq, Tk, heads, hd, scale, float(causal), q_pos0]))

print("wrote", len(os.listdir(OUT)), "files to", OUT)
