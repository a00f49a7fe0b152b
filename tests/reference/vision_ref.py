"""PyTorch twin of the image side of TinyGPT-V: EVA ViT-g/14 + ln_vision, the Q-Former
and the projector, written from the shared spec, model.md sections 2-4 (not from the
C++). Everything runs in float64 (or the `dtype` given) on the weights as stored (F16/BF16 weights are
rounded first, so C++ and reference see the same numbers), except the position-table
interpolation, which is float32 F.interpolate(mode="bicubic", align_corners=False)
exactly as upstream EVA's interpolate_pos_embed does.

State dicts use the interface.md tensor names; configs are the interface.md JSON
"config" dict ({"vision": {...}, "qformer": {...}, "projector": {...}, "llm": {...}}).

    vit_forward(sd, cfg, pixels)        -> dict name -> activation (vision.*)
    qformer_forward(sd, cfg, image)     -> dict (qformer.*), the last layer is the output
    projector_forward(sd, cfg, q)       -> dict (projector.*)
    image_side(sd, cfg, pixels)         -> all of the above, and the image embeddings [Q, D]
    random_image_side_weights(cfg, rnd) -> random weights (common.Rand) for the image side
    interpolate_pos_embed(pos, grid)    -> the upstream float32 interpolation

The stages also run batched and trainable (tools/train/ trains the demo model with
them): pass dtype=torch.float32 and a state dict of tensors that require grad; pixels
[B, 3, S, S] give activations with a leading batch dimension. qformer_forward(...,
cross_attention=list) appends each cross-attention layer's probabilities
[..., heads, Q, N+1] to the list (what `tinygptv ask --attention-map` draws).
"""
import math

import torch
import torch.nn.functional as F

# ---------------------------------------------------------------------------------
# Weights


def _linear(sd, name, out_f, in_f, rnd, bias=True):
    sd[name + ".weight"] = rnd.matrix(out_f, in_f)
    if bias:
        sd[name + ".bias"] = rnd.bias(out_f)


def _norm(sd, name, n, rnd):
    sd[name + ".weight"] = rnd.norm_weight(n)
    sd[name + ".bias"] = rnd.bias(n)


def random_image_side_weights(cfg, rnd, pos_grid=None):
    """Random weights (numpy float64, common.Rand) for visual_encoder.*, ln_vision.*,
    query_tokens, Qformer.bert.*, llama_proj*, in interface.md order. pos_grid: the
    grid the position table is made for (default: image_size / patch_size)."""
    v, q, p, llm = cfg["vision"], cfg["qformer"], cfg["projector"], cfg["llm"]
    W, P = v["width"], v["patch_size"]
    G = pos_grid if pos_grid is not None else v["image_size"] // P
    sd = {}
    sd["visual_encoder.patch_embed.proj.weight"] = rnd.normal((W, 3, P, P), 1.0 / math.sqrt(3 * P * P))
    sd["visual_encoder.patch_embed.proj.bias"] = rnd.bias(W)
    sd["visual_encoder.cls_token"] = rnd.normal((1, 1, W), 0.5)
    sd["visual_encoder.pos_embed"] = rnd.normal((1, G * G + 1, W), 0.5)
    for i in range(v["layers"]):
        b = f"visual_encoder.blocks.{i}."
        _norm(sd, b + "norm1", W, rnd)
        _linear(sd, b + "attn.qkv", 3 * W, W, rnd, bias=False)
        sd[b + "attn.q_bias"] = rnd.bias(W)
        sd[b + "attn.v_bias"] = rnd.bias(W)
        _linear(sd, b + "attn.proj", W, W, rnd)
        _norm(sd, b + "norm2", W, rnd)
        _linear(sd, b + "mlp.fc1", v["mlp_dim"], W, rnd)
        _linear(sd, b + "mlp.fc2", W, v["mlp_dim"], rnd)
    _norm(sd, "ln_vision", W, rnd)

    H = q["hidden"]
    sd["query_tokens"] = rnd.normal((1, q["query_tokens"], H), 1.0)
    _norm(sd, "Qformer.bert.embeddings.LayerNorm", H, rnd)
    for i in range(q["layers"]):
        b = f"Qformer.bert.encoder.layer.{i}."
        for n in ("query", "key", "value"):
            _linear(sd, b + "attention.self." + n, H, H, rnd)
        _linear(sd, b + "attention.output.dense", H, H, rnd)
        _norm(sd, b + "attention.output.LayerNorm", H, rnd)
        if i % q["cross_attention_freq"] == 0:
            _linear(sd, b + "crossattention.self.query", H, H, rnd)
            _linear(sd, b + "crossattention.self.key", H, W, rnd)
            _linear(sd, b + "crossattention.self.value", H, W, rnd)
            _linear(sd, b + "crossattention.output.dense", H, H, rnd)
            _norm(sd, b + "crossattention.output.LayerNorm", H, rnd)
        _linear(sd, b + "intermediate_query.dense", q["intermediate"], H, rnd)
        _linear(sd, b + "output_query.dense", H, q["intermediate"], rnd)
        _norm(sd, b + "output_query.LayerNorm", H, rnd)

    _linear(sd, "llama_proj", p["mid"], H, rnd)
    _linear(sd, "llama_proj2", llm["hidden"], p["mid"], rnd)
    return sd


# ---------------------------------------------------------------------------------
# Pieces


def interpolate_pos_embed(pos_embed, new_grid):
    """Upstream EVA interpolate_pos_embed: pos_embed [1, 1 + G*G, W] (float32) ->
    [1, 1 + new_grid^2, W]; the cls position is kept, the grid part resized with
    bicubic a = -0.75, align_corners=False, in float32."""
    pos_embed = pos_embed.float()
    W = pos_embed.shape[-1]
    G = int(round(math.sqrt(pos_embed.shape[1] - 1)))
    assert G * G + 1 == pos_embed.shape[1]
    if G == new_grid:
        return pos_embed
    extra = pos_embed[:, :1]
    grid = pos_embed[:, 1:].reshape(-1, G, G, W).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(new_grid, new_grid), mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).flatten(1, 2)
    return torch.cat((extra, grid), dim=1)


def _ln(x, sd, name, eps):
    return F.layer_norm(x, (x.shape[-1],), sd[name + ".weight"], sd[name + ".bias"], eps)


def _lin(x, sd, name):
    return F.linear(x, sd[name + ".weight"], sd.get(name + ".bias"))


def _gelu(x):  # exact (erf) GELU
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def _mha(q, k, v, heads, probs=None):
    """q [..., Tq, C], k/v [..., Tk, C] already scaled as wanted -> [..., Tq, C].
    probs: a list that gets the attention probabilities [..., heads, Tq, Tk]."""
    *lead, Tq, C = q.shape
    hd = C // heads
    qh = q.reshape(*lead, Tq, heads, hd).transpose(-3, -2)
    kh = k.reshape(*lead, -1, heads, hd).transpose(-3, -2)
    vh = v.reshape(*lead, -1, heads, hd).transpose(-3, -2)
    att = torch.softmax(qh @ kh.transpose(-1, -2), dim=-1)
    if probs is not None:
        probs.append(att)
    return (att @ vh).transpose(-3, -2).reshape(*lead, Tq, C)


def _cast(sd, dtype):
    """The state dict in `dtype` (a no-op that keeps autograd for tensors already in it)."""
    return {k: torch.as_tensor(t).to(dtype) for k, t in sd.items()}


def _f64(sd):
    return _cast(sd, torch.float64)


# ---------------------------------------------------------------------------------
# Stages


def vit_forward(sd, cfg, pixels, dtype=torch.float64):
    """pixels [3, S, S] (or [B, 3, S, S]) -> {"vision.embed", "vision.block.{i}", "vision.ln"}
    [(B,) N+1, W] in dtype (float64 unless told)."""
    v = cfg["vision"]
    S, P, W, heads = v["image_size"], v["patch_size"], v["width"], v["heads"]
    g = S // P
    out = {}
    # pos_embed first (float32, as upstream) then everything else in dtype
    pos = interpolate_pos_embed(torch.as_tensor(sd["visual_encoder.pos_embed"]).float(), g)[0].to(dtype)
    sd = _cast(sd, dtype)
    pixels = torch.as_tensor(pixels).to(dtype)
    single = pixels.dim() == 3
    x = pixels.reshape(-1, 3, S, S)
    x = F.conv2d(x, sd["visual_encoder.patch_embed.proj.weight"], sd["visual_encoder.patch_embed.proj.bias"], stride=P)
    x = x.flatten(2).transpose(1, 2)  # [B, N, W], patches row-major
    x = torch.cat((sd["visual_encoder.cls_token"].reshape(1, 1, W).expand(x.shape[0], 1, W), x), 1) + pos
    if single:
        x = x[0]
    out["vision.embed"] = x
    hd = W // heads
    for i in range(v["layers"]):
        b = f"visual_encoder.blocks.{i}."
        h = _ln(x, sd, b + "norm1", v["ln_eps"])
        bias = torch.cat((sd[b + "attn.q_bias"], torch.zeros_like(sd[b + "attn.v_bias"]), sd[b + "attn.v_bias"]))
        qkv = F.linear(h, sd[b + "attn.qkv.weight"], bias).reshape(*h.shape[:-1], 3, W)
        q, k, vv = qkv[..., 0, :] * hd ** -0.5, qkv[..., 1, :], qkv[..., 2, :]
        x = x + _lin(_mha(q, k, vv, heads), sd, b + "attn.proj")
        h = _ln(x, sd, b + "norm2", v["ln_eps"])
        x = x + _lin(_gelu(_lin(h, sd, b + "mlp.fc1")), sd, b + "mlp.fc2")
        out[f"vision.block.{i}"] = x
    out["vision.ln"] = _ln(x, sd, "ln_vision", v["ln_vision_eps"])
    return out


def qformer_forward(sd, cfg, image, dtype=torch.float64, cross_attention=None):
    """image [(B,) N+1, W] (the ln_vision output) -> {"qformer.embed", "qformer.layer.{i}"}.
    cross_attention: a list that gets each cross-attention layer's probabilities."""
    q = cfg["qformer"]
    H, heads, eps = q["hidden"], q["heads"], q["ln_eps"]
    sd = _cast(sd, dtype)
    image = image.to(dtype)
    scale = 1.0 / math.sqrt(H // heads)
    out = {}
    x = _ln(sd["query_tokens"].reshape(-1, H), sd, "Qformer.bert.embeddings.LayerNorm", eps)
    x = x.expand(*image.shape[:-2], *x.shape)  # one copy of the queries per image
    out["qformer.embed"] = x
    for i in range(q["layers"]):
        b = f"Qformer.bert.encoder.layer.{i}."
        s = b + "attention."
        ctx = _mha(_lin(x, sd, s + "self.query") * scale, _lin(x, sd, s + "self.key"), _lin(x, sd, s + "self.value"), heads)
        a = _ln(x + _lin(ctx, sd, s + "output.dense"), sd, s + "output.LayerNorm", eps)
        if i % q["cross_attention_freq"] == 0:
            c = b + "crossattention."
            ctx = _mha(_lin(a, sd, c + "self.query") * scale, _lin(image, sd, c + "self.key"),
                       _lin(image, sd, c + "self.value"), heads, cross_attention)
            a = _ln(a + _lin(ctx, sd, c + "output.dense"), sd, c + "output.LayerNorm", eps)
        m = _lin(_gelu(_lin(a, sd, b + "intermediate_query.dense")), sd, b + "output_query.dense")
        x = _ln(a + m, sd, b + "output_query.LayerNorm", eps)
        out[f"qformer.layer.{i}"] = x
    return out


def projector_forward(sd, cfg, qout, dtype=torch.float64):
    """qout [(B,) Q, H] -> {"projector.fc1" [Q, mid], "projector.fc2" [Q, D]}."""
    sd = _cast(sd, dtype)
    h = _lin(qout.to(dtype), sd, "llama_proj")
    return {"projector.fc1": h, "projector.fc2": _lin(h, sd, "llama_proj2")}


def image_side(sd, cfg, pixels, dtype=torch.float64, cross_attention=None):
    """All vision.*, qformer.*, projector.* activations (float64 unless told) and the image
    embeddings [(B,) Q, D] (= projector.fc2)."""
    acts = {"vision.pixels": torch.as_tensor(pixels).to(dtype)}
    acts.update(vit_forward(sd, cfg, pixels, dtype))
    acts.update(qformer_forward(sd, cfg, acts["vision.ln"], dtype, cross_attention))
    acts.update(projector_forward(sd, cfg, acts[f"qformer.layer.{cfg['qformer']['layers'] - 1}"], dtype))
    return acts, acts["projector.fc2"]
