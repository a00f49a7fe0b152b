#!/usr/bin/python3
"""Small checkpoints in every published layout (model.md section 8), written by
Debian's torch.save, and what `tinygptv convert` must make of them, computed
here independently with torch/numpy.

  /usr/bin/python3 tests/reference/make_checkpoint.py     -> tests/data/checkpoint/

Files (tiny dimensions; the converter reads every dimension from the shapes):
  eva_vit_g.pth               ViT state dict, 40 blocks (upstream uses 39), width 16, fp32
  blip2_pretrained.pth        {"model": ...}: Q-Former incl. the text path, position_ids
                              (int64 buffer), query_tokens, ln_vision, a 0-dim tensor;
                              saved through a buffer (zip folder "archive")
  phi2/                       HF shards, current layout (separate q/k/v), index + config.json
  stage3.pth                  {"model", "optimizer", "config", "scaler", "epoch"}: PEFT keys
                              as peft 0.2 writes them (lora_A.weight), config with
                              lora_alpha 8 and image_size 224; fp16 and bf16 storages,
                              two tensors sharing one storage, a transposed
                              (non-contiguous) view; a 256 KiB optimizer state
  stage3_bad_optimizer.pth    the same with the optimizer state's bytes corrupted
                              (bad CRC): converting must not touch them
  stage4.pth                  newer peft naming (lora_A.default.weight, base_layer.weight),
                              config with image_size 448 and no lora_alpha (-> 16)
  stage4_deflated.pth         stage4.pth re-packed with deflate
  stage4_zip64.pth            stage4.pth re-packed with zip64 records and extra fields
  expected_stage3.safetensors what convert must write for (vit, blip2, phi2, stage3), F32
  expected_stage4.safetensors the same with stage4 at 448 (pos_embed interpolated); only
                              the tensors that differ from stage 3 (pos_embed, llama_*)
  dump_stage3_28/             the pipeline reference's activations for the stage-3 files
                              converted at 28 px, on pixels.npy and ids [1,2,3]|[4,5]
Both expected files carry the expected config in __metadata__["config"].
  stage3_raw.safetensors      stage3.pth's "model" tensors as torch.load returns them, F32
                              (checks fp16/bf16 storages, shared storage, strided views)
  values_p2.pth, values_p4.pth  torch.save of plain Python values (pickle protocols 2 and 4)
  values.json                 the same values as JSON (tuples as lists)
  phi2_bin/                   the same Phi-2 as torch.save shards + pytorch_model.bin.index.json
  phi2_fused/                 TinyGPT-V's Phi-2 copy: fused query_key_value, q/k LayerNorm
                              weights and biases, post_layernorm (one model.safetensors);
                              with stage3.pth it converts to expected_stage3 except the
                              q/k LayerNorm biases, which come from this file
  phi2_bad/                   a single-file Phi-2 (model.safetensors) whose
                              layers.1.mlp.fc1.bias has 63 rows instead of 64
"""
import io
import json
import os
import struct
import zipfile
import zlib

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "checkpoint")

# Tiny dimensions (the real ones in comments).
W, VIT_BLOCKS, MLP, PATCH = 16, 40, 32, 14          # 1408, 40, 6144, 14
VIT_HEADS = 2                                       # width/88 = 16 for the real model; given by --vit-heads here
H, QLAYERS, QINTER, NQ, BERT_VOCAB = 64, 3, 32, 4, 30   # 768, 12, 3072, 32, 30522
MID = 48                                            # 4096
D, HEADS, LLAYERS, LINTER, VOCAB = 40, 4, 2, 64, 100   # 2560, 32, 32, 10240, 51200
HD = D // HEADS                                     # 80
R = 4                                               # LoRA rank, 64


def rnd(*shape, scale=0.1):
    return torch.randn(*shape) * scale


def norm_w(n):
    return 1.0 + rnd(n)


# ---------------------------------------------------------------- originals
def make_vit():
    sd = {
        "cls_token": rnd(1, 1, W),
        "pos_embed": rnd(1, (224 // PATCH) ** 2 + 1, W),
        "patch_embed.proj.weight": rnd(W, 3, PATCH, PATCH),
        "patch_embed.proj.bias": rnd(W),
    }
    for i in range(VIT_BLOCKS):
        b = f"blocks.{i}."
        sd[b + "norm1.weight"] = norm_w(W)
        sd[b + "norm1.bias"] = rnd(W)
        sd[b + "attn.q_bias"] = rnd(W)
        sd[b + "attn.v_bias"] = rnd(W)
        sd[b + "attn.qkv.weight"] = rnd(3 * W, W)
        sd[b + "attn.proj.weight"] = rnd(W, W)
        sd[b + "attn.proj.bias"] = rnd(W)
        sd[b + "norm2.weight"] = norm_w(W)
        sd[b + "norm2.bias"] = rnd(W)
        sd[b + "mlp.fc1.weight"] = rnd(MLP, W)
        sd[b + "mlp.fc1.bias"] = rnd(MLP)
        sd[b + "mlp.fc2.weight"] = rnd(W, MLP)
        sd[b + "mlp.fc2.bias"] = rnd(W)
    return sd


def linear(sd, name, n_out, n_in):
    sd[name + ".weight"] = rnd(n_out, n_in)
    sd[name + ".bias"] = rnd(n_out)


def layernorm(sd, name, n):
    sd[name + ".weight"] = norm_w(n)
    sd[name + ".bias"] = rnd(n)


def make_blip2():
    sd = {}
    e = "Qformer.bert.embeddings."
    sd[e + "word_embeddings.weight"] = rnd(BERT_VOCAB, H)       # text path: dropped
    sd[e + "position_embeddings.weight"] = rnd(16, H)           # text path: dropped
    sd[e + "position_ids"] = torch.arange(16).expand(1, -1)     # int64 buffer: dropped
    layernorm(sd, e + "LayerNorm", H)
    for i in range(QLAYERS):
        L = f"Qformer.bert.encoder.layer.{i}."
        for m in ("query", "key", "value"):
            linear(sd, L + "attention.self." + m, H, H)
        linear(sd, L + "attention.output.dense", H, H)
        layernorm(sd, L + "attention.output.LayerNorm", H)
        if i % 2 == 0:
            linear(sd, L + "crossattention.self.query", H, H)
            linear(sd, L + "crossattention.self.key", H, W)
            linear(sd, L + "crossattention.self.value", H, W)
            linear(sd, L + "crossattention.output.dense", H, H)
            layernorm(sd, L + "crossattention.output.LayerNorm", H)
        linear(sd, L + "intermediate.dense", QINTER, H)           # text path: dropped
        linear(sd, L + "output.dense", H, QINTER)                 # text path: dropped
        layernorm(sd, L + "output.LayerNorm", H)                  # text path: dropped
        linear(sd, L + "intermediate_query.dense", QINTER, H)
        linear(sd, L + "output_query.dense", H, QINTER)
        layernorm(sd, L + "output_query.LayerNorm", H)
    linear(sd, "Qformer.cls.predictions.transform.dense", H, H)  # dropped
    sd["query_tokens"] = rnd(1, NQ, H)
    layernorm(sd, "ln_vision", W)
    linear(sd, "vision_proj", 8, H)                               # dropped
    sd["temp"] = torch.tensor(0.07)                               # 0-dim, dropped
    return {"model": sd}


def make_phi2():
    sd = {"model.embed_tokens.weight": rnd(VOCAB, D)}
    for i in range(LLAYERS):
        L = f"model.layers.{i}."
        layernorm(sd, L + "input_layernorm", D)
        for m in ("q_proj", "k_proj", "v_proj", "dense"):
            linear(sd, L + "self_attn." + m, D, D)
        linear(sd, L + "mlp.fc1", LINTER, D)
        linear(sd, L + "mlp.fc2", D, LINTER)
    layernorm(sd, "model.final_layernorm", D)
    linear(sd, "lm_head", VOCAB, D)
    return sd


PEFT = "llama_model.base_model.model."


def make_stage(new_peft, image_size, lora_alpha):
    """The trainable parameters TinyGPT-V saves, under their PEFT-wrapped names."""
    m = {}
    a_suffix, b_suffix = ("lora_A.default.weight", "lora_B.default.weight") if new_peft else ("lora_A.weight", "lora_B.weight")
    # fp16 storage for llama_proj.weight; llama_proj2 weight and bias share one storage.
    m["llama_proj.weight"] = rnd(MID, H).half()
    m["llama_proj.bias"] = rnd(MID)
    flat = rnd(D * MID + D)
    m["llama_proj2.weight"] = flat[: D * MID].view(D, MID)
    m["llama_proj2.bias"] = flat[D * MID:]
    for i in range(LLAYERS):
        L = PEFT + f"model.layers.{i}."
        for mod, n_out in (("self_attn.query_key_value", 3 * D), ("self_attn.dense", D)):
            A = rnd(R, D)
            if i == 0 and mod.endswith("dense"):
                A = rnd(D, R).t()             # a transposed, non-contiguous view
            m[L + mod + "." + a_suffix] = A
            B = rnd(n_out, R)
            if i == 1:
                B = B.bfloat16()              # a bf16 storage
            m[L + mod + "." + b_suffix] = B
        m[L + "input_layernorm.weight"] = norm_w(D)
        m[L + "self_attn.q_layernorm.weight"] = norm_w(HD)
        m[L + "self_attn.k_layernorm.weight"] = norm_w(HD)
        m[L + "post_layernorm.weight"] = norm_w(D).bfloat16()
    if new_peft:  # newer peft also saves the wrapped base weight
        m[PEFT + "model.layers.0.self_attn.dense.base_layer.weight"] = rnd(D, D)
    m[PEFT + "model.final_layernorm.weight"] = norm_w(D)
    model_cfg = {"arch": "minigpt4" if image_size == 224 else "minigpt_v2", "image_size": image_size,
                 "lora_r": R, "num_query_token": NQ, "end_sym": "###", "freeze_vit": True}
    if lora_alpha is not None:
        model_cfg["lora_alpha"] = lora_alpha
    optimizer = {
        "state": {0: {"step": torch.tensor(10.0), "exp_avg": rnd(256, 256) if not new_peft else rnd(4, 4), "exp_avg_sq": rnd(16)}},
        "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.05, "params": [0]}],
    }
    config = {"model": model_cfg, "run": {"task": "image_text_pretrain", "max_epoch": 5, "amp": True},
              "datasets": {"cc_sbu": {"batch_size": 2}}}
    scaler = {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000, "_growth_tracker": 10}
    return {"model": m, "optimizer": optimizer, "config": config, "scaler": scaler, "epoch": 3}


# ---------------------------------------------------------------- writers
def st_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return "BF16", t.view(torch.int16).numpy().tobytes()
    if t.dtype == torch.float16:
        return "F16", t.numpy().tobytes()
    return "F32", t.float().numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        dt, b = st_bytes(t)
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_phi2(dirname, sd):
    os.makedirs(dirname, exist_ok=True)
    names = list(sd)
    first = [n for n in names if n.startswith("model.embed_tokens") or n.startswith("model.layers.0.")]
    shards = {"model-00001-of-00002.safetensors": first,
              "model-00002-of-00002.safetensors": [n for n in names if n not in first]}
    weight_map = {}
    for fname, keys in shards.items():
        dtype = torch.float16 if fname.startswith("model-00001") else torch.float32
        write_safetensors(os.path.join(dirname, fname), {k: sd[k].to(dtype) for k in keys}, {"format": "pt"})
        weight_map.update({k: fname for k in keys})
    with open(os.path.join(dirname, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    cfg = {"architectures": ["PhiForCausalLM"], "model_type": "phi", "hidden_size": D, "intermediate_size": LINTER,
           "num_attention_heads": HEADS, "num_hidden_layers": LLAYERS, "vocab_size": VOCAB,
           "partial_rotary_factor": 0.4, "rope_theta": 10000.0, "layer_norm_eps": 1e-05,
           "max_position_embeddings": 2048, "qk_layernorm": False, "torch_dtype": "float16"}
    with open(os.path.join(dirname, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def repack(src, dst, zip64=False):
    """Re-pack a torch.save zip: deflated (zipfile), or stored with zip64 records (by hand)."""
    with zipfile.ZipFile(src) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    if not zip64:
        with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, data in items:  # a fixed timestamp keeps the file reproducible
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        return
    # Every size and offset in the central directory as 0xFFFFFFFF + a zip64 extra field.
    out, central = bytearray(), bytearray()
    for name, data in items:
        crc, nb, off = zlib.crc32(data), name.encode(), len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(extra)) + nb + extra + data
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), off)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(nb), len(cextra), 0, 0, 0, 0, 0xFFFFFFFF) + nb + cextra
    cd_off = len(out)
    out += central
    z64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, len(items), len(items), len(central), cd_off)
    out += struct.pack("<IIQI", 0x07064b50, 0, z64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(dst, "wb") as f:
        f.write(out)


def corrupt_entry(src, dst, key_suffix):
    """Flips bytes inside one stored entry's data (its CRC no longer matches)."""
    data = bytearray(open(src, "rb").read())
    with zipfile.ZipFile(src) as z:
        info = [i for i in z.infolist() if i.filename.endswith(key_suffix)][0]
    lh = info.header_offset
    n, x = struct.unpack("<HH", data[lh + 26: lh + 30])
    start = lh + 30 + n + x
    for k in range(16):
        data[start + k] ^= 0xFF
    open(dst, "wb").write(bytes(data))


# ---------------------------------------------------------------- expected conversion
def expected(vit, blip2, phi2, stage, image_size, lora_alpha):
    """What the converted model file holds, by the spec (model.md section 8)."""
    src = {}
    src.update({"visual_encoder." + k: v for k, v in vit.items()})
    src.update(blip2["model"])
    src.update({"llama_model." + k: v for k, v in phi2.items()})
    for k, v in stage["model"].items():   # strip the PEFT wrapper
        k = k.replace(PEFT, "llama_model.").replace(".base_layer.", ".").replace(".default.", ".")
        src[k] = v
    src = {k: v.float() for k, v in src.items() if v.is_floating_point()}

    out = {}
    ve = "visual_encoder."
    for k in ("patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token"):
        out[ve + k] = src[ve + k]
    pos = src[ve + "pos_embed"]
    g, n = 224 // PATCH, image_size // PATCH
    if n != g:
        grid = pos[:, 1:].reshape(1, g, g, W).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(n, n), mode="bicubic", align_corners=False)
        pos = torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)
    out[ve + "pos_embed"] = pos
    for i in range(VIT_BLOCKS - 1):
        for k in ("norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.q_bias", "attn.v_bias", "attn.proj.weight",
                  "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"):
            out[f"{ve}blocks.{i}.{k}"] = src[f"{ve}blocks.{i}.{k}"]
    out["ln_vision.weight"], out["ln_vision.bias"] = src["ln_vision.weight"], src["ln_vision.bias"]
    out["query_tokens"] = src["query_tokens"]
    q = "Qformer.bert."
    for k in ("weight", "bias"):
        out[q + "embeddings.LayerNorm." + k] = src[q + "embeddings.LayerNorm." + k]
    for i in range(QLAYERS):
        L = f"{q}encoder.layer.{i}."
        mods = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "attention.output.LayerNorm"]
        if i % 2 == 0:
            mods += ["crossattention.self.query", "crossattention.self.key", "crossattention.self.value",
                     "crossattention.output.dense", "crossattention.output.LayerNorm"]
        mods += ["intermediate_query.dense", "output_query.dense", "output_query.LayerNorm"]
        for mname in mods:
            for k in ("weight", "bias"):
                out[L + mname + "." + k] = src[L + mname + "." + k]
    for k in ("llama_proj.weight", "llama_proj.bias", "llama_proj2.weight", "llama_proj2.bias"):
        out[k] = src[k]

    lm = "llama_model.model."
    out[lm + "embed_tokens.weight"] = src[lm + "embed_tokens.weight"]
    for i in range(LLAYERS):
        L = f"{lm}layers.{i}."
        out[L + "input_layernorm.weight"] = src[L + "input_layernorm.weight"]
        out[L + "input_layernorm.bias"] = src[L + "input_layernorm.bias"]
        a = L + "self_attn."
        # transformers 4.36's conversion: Wqkv.view(3, h, hd, D).transpose(0, 1), i.e. rows [heads, 3, hd]
        wq = torch.cat([src[a + "q_proj.weight"], src[a + "k_proj.weight"], src[a + "v_proj.weight"]])
        wqkv = wq.view(3, HEADS, HD, D).transpose(0, 1).reshape(3 * D, D)
        bq = torch.cat([src[a + "q_proj.bias"], src[a + "k_proj.bias"], src[a + "v_proj.bias"]])
        bqkv = bq.view(3, HEADS, HD).transpose(0, 1).reshape(3 * D)
        for mod, w, b in (("query_key_value", wqkv, bqkv), ("dense", src[a + "dense.weight"], src[a + "dense.bias"])):
            A, B = src[a + mod + ".lora_A.weight"], src[a + mod + ".lora_B.weight"]
            r = A.shape[0]
            w64 = w.double() + (lora_alpha / r) * (B.double() @ A.double())
            out[a + mod + ".weight"] = w64.float()
            out[a + mod + ".bias"] = b
        for nm in ("q_layernorm", "k_layernorm"):
            out[a + nm + ".weight"] = src.get(a + nm + ".weight", torch.ones(HD))
            out[a + nm + ".bias"] = src.get(a + nm + ".bias", torch.zeros(HD))
        out[L + "post_layernorm.weight"] = src.get(L + "post_layernorm.weight", torch.ones(D))
        for k in ("mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"):
            out[L + k] = src[L + k]
    out[lm + "final_layernorm.weight"] = src[lm + "final_layernorm.weight"]
    out[lm + "final_layernorm.bias"] = src[lm + "final_layernorm.bias"]
    out["llama_model.lm_head.weight"] = src["llama_model.lm_head.weight"]
    out["llama_model.lm_head.bias"] = src["llama_model.lm_head.bias"]

    config = {
        "vision": {"image_size": image_size, "patch_size": PATCH, "width": W, "layers": VIT_BLOCKS - 1, "heads": VIT_HEADS,
                   "mlp_dim": MLP, "ln_eps": 1e-6, "ln_vision_eps": 1e-5},
        "qformer": {"hidden": H, "layers": QLAYERS, "heads": H // 64, "intermediate": QINTER, "cross_attention_freq": 2,
                    "query_tokens": NQ, "ln_eps": 1e-12},
        "projector": {"mid": MID},
        "llm": {"vocab_size": VOCAB, "hidden": D, "layers": LLAYERS, "heads": HEADS, "intermediate": LINTER,
                "rotary_dim": int(0.4 * HD), "rope_theta": 10000.0, "ln_eps": 1e-5, "rms_eps": 1e-6, "max_positions": 2048},
    }
    return {k: v.contiguous().float() for k, v in out.items()}, config


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20240101)
    vit, blip2, phi2 = make_vit(), make_blip2(), make_phi2()
    stage3 = make_stage(new_peft=False, image_size=224, lora_alpha=8)
    stage4 = make_stage(new_peft=True, image_size=448, lora_alpha=None)

    torch.save(vit, os.path.join(OUT, "eva_vit_g.pth"))
    buf = io.BytesIO()                      # through a buffer: the zip folder is "archive"
    torch.save(blip2, buf)
    open(os.path.join(OUT, "blip2_pretrained.pth"), "wb").write(buf.getvalue())
    write_phi2(os.path.join(OUT, "phi2"), phi2)
    # The phi2 shards are stored in F16/F32: the reference works from what was stored.
    phi2_stored = {k: (v.half().float() if k.startswith("model.embed_tokens") or k.startswith("model.layers.0.") else v)
                   for k, v in phi2.items()}
    torch.save(stage3, os.path.join(OUT, "stage3.pth"))
    corrupt_entry(os.path.join(OUT, "stage3.pth"), os.path.join(OUT, "stage3_bad_optimizer.pth"),
                  "/data/" + optimizer_key(os.path.join(OUT, "stage3.pth")))
    torch.save(stage4, os.path.join(OUT, "stage4.pth"))
    repack(os.path.join(OUT, "stage4.pth"), os.path.join(OUT, "stage4_deflated.pth"))
    repack(os.path.join(OUT, "stage4.pth"), os.path.join(OUT, "stage4_zip64.pth"), zip64=True)
    for name in ("stage4_deflated.pth", "stage4_zip64.pth"):   # torch itself must read the re-packed files
        re = torch.load(os.path.join(OUT, name))
        assert torch.equal(re["model"]["llama_proj.bias"], stage4["model"]["llama_proj.bias"])

    # Reload what was saved, as upstream would, so the expectation is about the files.
    v = torch.load(os.path.join(OUT, "eva_vit_g.pth"))
    b = torch.load(os.path.join(OUT, "blip2_pretrained.pth"))
    s3, s4 = torch.load(os.path.join(OUT, "stage3.pth")), torch.load(os.path.join(OUT, "stage4.pth"))
    t3, c3 = expected(v, b, phi2_stored, s3, 224, 8.0)
    write_safetensors(os.path.join(OUT, "expected_stage3.safetensors"), t3, {"config": json.dumps(c3)})
    # Stage 4 differs from stage 3 only in pos_embed and the LLM side: only those are stored.
    t4, c4 = expected(v, b, phi2_stored, s4, 448, 16.0)
    t4 = {k: t for k, t in t4.items() if k.startswith("llama") or k == "visual_encoder.pos_embed"}
    write_safetensors(os.path.join(OUT, "expected_stage4.safetensors"), t4, {"config": json.dumps(c4)})
    write_dump_reference(v, b, phi2_stored, s3)
    write_safetensors(os.path.join(OUT, "stage3_raw.safetensors"),
                      {k: v.float() for k, v in torch.load(os.path.join(OUT, "stage3.pth"))["model"].items()})
    values = {"int": -5, "byte": 200, "short": 40000, "big": 2 ** 40, "neg_big": -2 ** 40, "float": 1.5, "neg": -0.25,
              "text": "h\u00e9llo \u4e16\u754c", "list": [1, 2, 3], "tuple": (1, "a", None), "empty": [],
              "nested": {"x": None, "y": True, "z": False, "deeper": {"k": [[1], [2, [3]]]}},
              "ordered": __import__("collections").OrderedDict([("b", 1), ("a", 2)]), "shared": None}
    shared = [7, 8]
    values["shared"] = [shared, shared]        # memo: the same list twice
    for proto in (2, 4):
        torch.save(dict(values, tensor=torch.ones(2)), os.path.join(OUT, f"values_p{proto}.pth"), pickle_protocol=proto)
    with open(os.path.join(OUT, "values.json"), "w") as f:
        json.dump(values, f, ensure_ascii=False)
    # The same Phi-2 as PyTorch shards (pytorch_model-0000N-of-00002.bin + index), fp16 + fp32.
    os.makedirs(os.path.join(OUT, "phi2_bin"), exist_ok=True)
    index = json.load(open(os.path.join(OUT, "phi2", "model.safetensors.index.json")))
    wm = {k: f.replace("model-", "pytorch_model-").replace(".safetensors", ".bin") for k, f in index["weight_map"].items()}
    for fname in sorted(set(wm.values())):
        half = fname.startswith("pytorch_model-00001")
        torch.save({k: (phi2[k].half() if half else phi2[k]) for k in wm if wm[k] == fname}, os.path.join(OUT, "phi2_bin", fname))
    with open(os.path.join(OUT, "phi2_bin", "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": wm}, f)
    with open(os.path.join(OUT, "phi2", "config.json")) as f, open(os.path.join(OUT, "phi2_bin", "config.json"), "w") as g:
        g.write(f.read())
    # TinyGPT-V's own Phi-2 copy: query_key_value already fused (per head), q/k LayerNorms
    # with biases and the RMSNorm present; one model.safetensors.
    fused = {}
    for k, t in phi2_stored.items():
        if ".q_proj." in k or ".k_proj." in k or ".v_proj." in k:
            continue
        fused[k] = t
    for i in range(LLAYERS):
        a = f"model.layers.{i}.self_attn."
        w = torch.cat([phi2_stored[a + m + ".weight"] for m in ("q_proj", "k_proj", "v_proj")])
        fused[a + "query_key_value.weight"] = w.view(3, HEADS, HD, D).transpose(0, 1).reshape(3 * D, D)
        b_ = torch.cat([phi2_stored[a + m + ".bias"] for m in ("q_proj", "k_proj", "v_proj")])
        fused[a + "query_key_value.bias"] = b_.view(3, HEADS, HD).transpose(0, 1).reshape(3 * D)
        for nm in ("q_layernorm", "k_layernorm"):
            fused[a + nm + ".weight"], fused[a + nm + ".bias"] = norm_w(HD), rnd(HD)
        fused[f"model.layers.{i}.post_layernorm.weight"] = norm_w(D)
    os.makedirs(os.path.join(OUT, "phi2_fused"), exist_ok=True)
    write_safetensors(os.path.join(OUT, "phi2_fused", "model.safetensors"), fused)
    with open(os.path.join(OUT, "phi2", "config.json")) as f, open(os.path.join(OUT, "phi2_fused", "config.json"), "w") as g:
        g.write(f.read())
    bad = {k: v.float() for k, v in phi2.items()}
    bad["model.layers.1.mlp.fc1.bias"] = bad["model.layers.1.mlp.fc1.bias"][:-1]
    os.makedirs(os.path.join(OUT, "phi2_bad"), exist_ok=True)
    write_safetensors(os.path.join(OUT, "phi2_bad", "model.safetensors"), bad)
    with open(os.path.join(OUT, "phi2", "config.json")) as f, open(os.path.join(OUT, "phi2_bad", "config.json"), "w") as g:
        g.write(f.read())

    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


def write_dump_reference(vit, blip2, phi2, stage):
    """What `tinygptv dump` must write for the stage-3 files converted at 28 px (pos_embed
    interpolated 16x16 -> 2x2), computed from the original files by the pipeline
    reference (vision_ref.py, phi2_ref.py: float64 except upstream's float32 steps)."""
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import phi2_ref
    import vision_ref
    d = os.path.join(OUT, "dump_stage3_28")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    sd, cfg = expected(vit, blip2, phi2, stage, 28, 8.0)
    pixels = (torch.rand(3, 28, 28, generator=torch.Generator().manual_seed(7)) * 4 - 2).float()
    acts, image_emb = vision_ref.image_side(sd, cfg, pixels)
    w = {k: t.double() for k, t in sd.items() if k.startswith("llama_model.")}
    before, after = [1, 2, 3], [4, 5]
    embeds = torch.cat([phi2_ref.embed_tokens(w, before), image_emb.double(), phi2_ref.embed_tokens(w, after)], 0)
    acts.update(phi2_ref.phi2_forward(w, cfg["llm"], embeds))
    np.save(os.path.join(d, "pixels.npy"), pixels.numpy())
    for name, a in acts.items():
        np.save(os.path.join(d, name + ".npy"), torch.as_tensor(a).float().numpy())
    with open(os.path.join(d, "prompt_segments.json"), "w") as f:
        json.dump([before, after], f)


def optimizer_key(path):
    """The storage key of the optimizer's exp_avg tensor (the largest entry)."""
    with zipfile.ZipFile(path) as z:
        infos = [i for i in z.infolist() if "/data/" in i.filename]
        return max(infos, key=lambda i: i.file_size).filename.split("/data/")[1]


if __name__ == "__main__":
    main()
