"""Phi-2, TinyGPT-V variant, written from the shared spec, model.md section 5 alone.

The independent twin of src/llm/: plain PyTorch in float64, every activation the
dump table of interface.md names. Two deliberate float32 steps, as the spec says
upstream has them: the rotary inv_freq / angle / cos / sin tables (float32, then
widened). Everything else (LayerNorm, RMSNorm, softmax, matmuls) is float64, so the
reference is closer to exact than the C++ float32 code it checks.

Stable API (make_llm.py and the vision/pipeline generators import these):

  PREFIX = "llama_model."
  phi2_tensor_shapes(llm) -> list of (name, shape)    every tensor the LM needs, file order
  random_phi2_tensors(llm, rand, matrix_dtype="F32", embed_dtype=None, vector_dtype="F32")
        -> list of (name, np.ndarray, dtype) ready for common.write_safetensors;
           norm weights/biases non-trivial (common.Rand)
  phi2_weights(tensors) -> dict name -> torch.float64 tensor, values rounded to
           their stored dtype (what the C++ reads)
  embed_tokens(w, ids) -> torch.float64 [T, D]
  phi2_forward(w, llm, embeds, dtype=torch.float64, logits=True) -> dict of activations:
           "llm.embeds" [T,D], "llm.layer.{i}" [T,D], "llm.final_norm" [T,D], "llm.logits" [T,V]
           (positions 0..T-1, causal mask; no KV cache: always full recomputation).
           Also batched and trainable (tools/train/): embeds [B, T, D], dtype float32,
           weights that require grad; logits=False leaves the lm_head to the caller.
  greedy_decode(w, llm, ids, steps) -> (tokens, step_logits [steps, V])
           each step recomputes the whole sequence; step_logits[s] are the logits
           that chose tokens[s]
  `llm` is the config's "llm" section (a dict, interface.md keys).
"""
import math

import numpy as np
import torch

from common import round_to_dtype

PREFIX = "llama_model."


def phi2_tensor_shapes(llm):
    D, V, I = llm["hidden"], llm["vocab_size"], llm["intermediate"]
    hd = D // llm["heads"]
    out = [(PREFIX + "model.embed_tokens.weight", (V, D))]
    for i in range(llm["layers"]):
        p = f"{PREFIX}model.layers.{i}."
        out += [
            (p + "input_layernorm.weight", (D,)), (p + "input_layernorm.bias", (D,)),
            (p + "self_attn.query_key_value.weight", (3 * D, D)), (p + "self_attn.query_key_value.bias", (3 * D,)),
            (p + "self_attn.q_layernorm.weight", (hd,)), (p + "self_attn.q_layernorm.bias", (hd,)),
            (p + "self_attn.k_layernorm.weight", (hd,)), (p + "self_attn.k_layernorm.bias", (hd,)),
            (p + "self_attn.dense.weight", (D, D)), (p + "self_attn.dense.bias", (D,)),
            (p + "post_layernorm.weight", (D,)),
            (p + "mlp.fc1.weight", (I, D)), (p + "mlp.fc1.bias", (I,)),
            (p + "mlp.fc2.weight", (D, I)), (p + "mlp.fc2.bias", (D,)),
        ]
    out += [(PREFIX + "model.final_layernorm.weight", (D,)), (PREFIX + "model.final_layernorm.bias", (D,)),
            (PREFIX + "lm_head.weight", (V, D)), (PREFIX + "lm_head.bias", (V,))]
    return out


def random_phi2_tensors(llm, rand, matrix_dtype="F32", embed_dtype=None, vector_dtype="F32"):
    embed_dtype = embed_dtype or matrix_dtype
    out = []
    for name, shape in phi2_tensor_shapes(llm):
        if name.endswith("embed_tokens.weight"):
            a, dt = rand.normal(shape, 1.0), embed_dtype
        elif name.endswith("lm_head.weight"):
            a, dt = rand.matrix(*shape), embed_dtype
        elif len(shape) == 2:
            a, dt = rand.matrix(*shape), matrix_dtype
        elif name.endswith("norm.weight"):
            a, dt = rand.norm_weight(shape[0]), vector_dtype
        else:
            a, dt = rand.bias(shape[0]), vector_dtype
        out.append((name, a, dt))
    return out


def phi2_weights(tensors):
    return {name: torch.from_numpy(round_to_dtype(a, dt)) for name, a, dt in tensors}


def embed_tokens(w, ids):
    return w[PREFIX + "model.embed_tokens.weight"][torch.tensor(ids, dtype=torch.long)]


def _layernorm(x, weight, bias, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased variance
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def _rmsnorm(x, weight, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * weight


def _gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _rotary_tables(T, rotary_dim, theta, dtype=torch.float64):
    """cos, sin [T, rotary_dim/2] computed in float32 as upstream, then widened."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, rotary_dim, 2, dtype=torch.float32) / rotary_dim))
    angles = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def _rotate(x, cos, sin, rotary_dim):
    """x [heads, T, hd]: rotate-half on the first rotary_dim dims; the rest pass through."""
    half = rotary_dim // 2
    a, b, rest = x[..., :half], x[..., half:rotary_dim], x[..., rotary_dim:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin, rest], dim=-1)


def _layer(x, w, i, llm):
    *lead, T, D = x.shape                              # [(B,) T, D]
    H = llm["heads"]
    hd = D // H
    p = f"{PREFIX}model.layers.{i}."
    r = x
    h = _layernorm(x, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], llm["ln_eps"])
    qkv = h @ w[p + "self_attn.query_key_value.weight"].T + w[p + "self_attn.query_key_value.bias"]
    qkv = qkv.view(*lead, T, H, 3, hd)                 # [heads, 3, head_dim] per row
    q = qkv[..., 0, :].transpose(-3, -2)               # [(B,) H, T, hd]
    k = qkv[..., 1, :].transpose(-3, -2)
    v = qkv[..., 2, :].transpose(-3, -2)
    q = _layernorm(q, w[p + "self_attn.q_layernorm.weight"], w[p + "self_attn.q_layernorm.bias"], llm["ln_eps"])
    k = _layernorm(k, w[p + "self_attn.k_layernorm.weight"], w[p + "self_attn.k_layernorm.bias"], llm["ln_eps"])
    cos, sin = _rotary_tables(T, llm["rotary_dim"], llm["rope_theta"], x.dtype)
    q = _rotate(q, cos, sin, llm["rotary_dim"])
    k = _rotate(k, cos, sin, llm["rotary_dim"])
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)   # [(B,) H, T, T]
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(causal, float("-inf"))
    o = torch.softmax(scores, dim=-1) @ v              # [(B,) H, T, hd]
    o = o.transpose(-3, -2).reshape(*lead, T, D)       # heads re-concatenated
    a = o @ w[p + "self_attn.dense.weight"].T + w[p + "self_attn.dense.bias"]
    a = _rmsnorm(a, w[p + "post_layernorm.weight"], llm["rms_eps"])
    m = _gelu_new(h @ w[p + "mlp.fc1.weight"].T + w[p + "mlp.fc1.bias"])
    m = m @ w[p + "mlp.fc2.weight"].T + w[p + "mlp.fc2.bias"]
    return a + m + r


def phi2_forward(w, llm, embeds, dtype=torch.float64, logits=True):
    x = embeds.to(dtype)
    acts = {"llm.embeds": x}
    for i in range(llm["layers"]):
        x = _layer(x, w, i, llm)
        acts[f"llm.layer.{i}"] = x
    x = _layernorm(x, w[PREFIX + "model.final_layernorm.weight"], w[PREFIX + "model.final_layernorm.bias"], llm["ln_eps"])
    acts["llm.final_norm"] = x
    if logits:
        acts["llm.logits"] = x @ w[PREFIX + "lm_head.weight"].T + w[PREFIX + "lm_head.bias"]
    return acts


def greedy_decode(w, llm, ids, steps):
    ids = list(ids)
    tokens, step_logits = [], []
    for _ in range(steps):
        logits = phi2_forward(w, llm, embed_tokens(w, ids))["llm.logits"][-1]
        t = int(torch.argmax(logits))
        tokens.append(t)
        step_logits.append(logits)
        ids.append(t)
    return tokens, torch.stack(step_logits)


def top2_margin(logits):
    """Smallest gap between the best and second-best logit over rows (greedy robustness)."""
    s = torch.sort(logits, dim=-1, descending=True).values
    return float((s[..., 0] - s[..., 1]).min())


def as_numpy(t):
    return np.asarray(t.detach().numpy())
