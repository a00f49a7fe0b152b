"""Writes the image-side and whole-pipeline fixtures:

tests/data/pipeline/<config>/
  model.safetensors       every tensor of the full model (vision, Q-Former, projector, LLM),
                          interface.md names, __metadata__ config
  pixels.npy, vision.pixels.npy   [3,S,S] float32 preprocessed pixels (random, in the
                          range the normalisation produces)
  vision.embed.npy, vision.block.{i}.npy, vision.ln.npy        [N+1, W]
  qformer.embed.npy, qformer.layer.{i}.npy                     [Q, H]
  projector.fc1.npy [Q, mid], projector.fc2.npy [Q, D]
  llm.embeds.npy, llm.layer.{i}.npy, llm.final_norm.npy [T, D], llm.logits.npy [T, V]
                          for the prompt  before ids + Q image embeddings + after ids
  prompt_segments.json    [[ids before the image], [ids after]]
  generate.json           {"segments": [[...], [...]], "tokens": [16 greedy ids], "min_margin": m}
                          each token chosen by recomputing the whole mixed sequence
tests/data/pipeline/interp/<G>_<G2>.{in,out}.npy
                          position tables [1, 1+G*G, C] -> [1, 1+G2*G2, C] through upstream's
                          float32 F.interpolate(bicubic, align_corners=False)
tests/data/models/tiny-pipeline.safetensors
                          the demo model `make` runs: random weights, vocab 51200 so the real
                          tokenizer's ids fit, 224 px images, tiny widths

Configs:
  tiny   all F32; image 28 (2x2 patches), width 32, 2 heads, 2 blocks; Q-Former hidden 32,
         2 heads, 3 layers (cross-attention on 0 and 2), 4 queries; unusual eps values so
         a hard-coded constant shows
  heads  the real per-head sizes: ViT head 88 (width 176, 2 heads), Q-Former head 64
         (hidden 128, 2 heads), LLM head 80 (hidden 160, rotary 32); image 42 (3x3 patches)
         but the position table is made for 28 px (2x2 grid), so the runtime must
         interpolate it; matrices F16, embeddings BF16, vectors F32

Run: /usr/bin/python3 tests/reference/make_pipeline.py   (from anywhere; `make fixtures`)
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Rand, config_json, full_config, round_to_dtype, save_npy, write_safetensors  # noqa: E402
from phi2_ref import as_numpy, embed_tokens, phi2_forward, phi2_weights, random_phi2_tensors, top2_margin  # noqa: E402
from vision_ref import image_side, interpolate_pos_embed, random_image_side_weights  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
STEPS = 16

CONFIGS = {
    "tiny": dict(
        vision={"image_size": 28, "patch_size": 14, "width": 32, "layers": 2, "heads": 2, "mlp_dim": 64,
                "ln_eps": 1e-3, "ln_vision_eps": 1e-2},
        qformer={"hidden": 32, "layers": 3, "heads": 2, "intermediate": 64, "cross_attention_freq": 2,
                 "query_tokens": 4, "ln_eps": 1e-4},
        projector={"mid": 48},
        llm={"vocab_size": 97, "hidden": 32, "layers": 2, "heads": 2, "intermediate": 128, "rotary_dim": 8,
             "rope_theta": 500.0, "ln_eps": 1e-3, "rms_eps": 1e-2, "max_positions": 64},
        pos_grid=None, matrix_dtype="F32", embed_dtype="F32", seed=11, before=3, after=3),
    "heads": dict(
        vision={"image_size": 42, "patch_size": 14, "width": 176, "layers": 2, "heads": 2, "mlp_dim": 256,
                "ln_eps": 1e-6, "ln_vision_eps": 1e-5},
        qformer={"hidden": 128, "layers": 2, "heads": 2, "intermediate": 256, "cross_attention_freq": 2,
                 "query_tokens": 8, "ln_eps": 1e-12},
        projector={"mid": 96},
        llm={"vocab_size": 300, "hidden": 160, "layers": 2, "heads": 2, "intermediate": 320, "rotary_dim": 32,
             "rope_theta": 10000.0, "ln_eps": 1e-5, "rms_eps": 1e-6, "max_positions": 2048},
        pos_grid=2, matrix_dtype="F16", embed_dtype="BF16", seed=12, before=5, after=4),
}

# The demo model: real tokenizer ids (vocab 51200), 224 px, everything else tiny.
DEMO = dict(
    vision={"image_size": 224, "patch_size": 14, "width": 32, "layers": 2, "heads": 2, "mlp_dim": 64},
    qformer={"hidden": 32, "layers": 2, "heads": 2, "intermediate": 64, "query_tokens": 32},
    projector={"mid": 48},
    llm={"vocab_size": 51200, "hidden": 16, "layers": 2, "heads": 2, "intermediate": 64, "rotary_dim": 4},
    pos_grid=None, matrix_dtype="F16", embed_dtype="F16", seed=13)

MEAN = np.array([0.48145466, 0.4578275, 0.40821073]).reshape(3, 1, 1)
STD = np.array([0.26862954, 0.26130258, 0.27577711]).reshape(3, 1, 1)


def model_tensors(spec, rand):
    """(cfg, [(name, array, dtype)] in interface.md order)."""
    cfg = full_config(llm=spec["llm"], vision=spec["vision"], qformer=spec["qformer"], projector=spec["projector"])
    img = random_image_side_weights(cfg, rand, pos_grid=spec["pos_grid"])
    tensors = []
    for name, a in img.items():
        dt = spec["matrix_dtype"] if np.ndim(a) >= 2 else "F32"
        tensors.append((name, a, dt))
    tensors += random_phi2_tensors(cfg["llm"], rand, matrix_dtype=spec["matrix_dtype"],
                                   embed_dtype=spec["embed_dtype"], vector_dtype="F32")
    return cfg, tensors


def random_pixels(rand, S):
    """A preprocessed random image: uint8-like values in [0, 1], normalised."""
    return ((rand.g.integers(0, 256, size=(3, S, S)) / 255.0 - MEAN) / STD).astype(np.float32)


def mixed_embeds(w, before, image_emb, after):
    parts = []
    if before:
        parts.append(embed_tokens(w, before))
    parts.append(image_emb)
    if after:
        parts.append(embed_tokens(w, after))
    return torch.cat(parts, 0)


def greedy_with_image(w, llm, before, image_emb, after, steps):
    """Greedy tokens for [before, image, after]; each step recomputes everything."""
    after = list(after)
    tokens, step_logits = [], []
    for _ in range(steps):
        logits = phi2_forward(w, llm, mixed_embeds(w, before, image_emb, after + tokens))["llm.logits"][-1]
        tokens.append(int(torch.argmax(logits)))
        step_logits.append(logits)
    return tokens, torch.stack(step_logits)


def clear_dir(d):
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith((".npy", ".json", ".safetensors")):
            os.remove(os.path.join(d, f))


def make_config(name, spec):
    out = os.path.join(DATA, "pipeline", name)
    clear_dir(out)
    rand = Rand(spec["seed"])
    cfg, tensors = model_tensors(spec, rand)
    stored = {n: torch.from_numpy(round_to_dtype(a, dt)) for n, a, dt in tensors}  # what the C++ reads
    S = cfg["vision"]["image_size"]
    pixels = random_pixels(rand, S)
    acts, image_emb = image_side(stored, cfg, torch.from_numpy(pixels))

    llm = cfg["llm"]
    w = phi2_weights([t for t in tensors if t[0].startswith("llama_model.")])
    for attempt in range(100):  # a prompt whose greedy path has a clear winner at every step
        before = rand.ints(spec["before"], 0, llm["vocab_size"])
        after = rand.ints(spec["after"], 0, llm["vocab_size"])
        tokens, step_logits = greedy_with_image(w, llm, before, image_emb, after, STEPS)
        margin = top2_margin(step_logits)
        if margin > 1e-3:
            break
    else:
        raise RuntimeError(f"{name}: no prompt with a clear greedy path")
    acts.update(phi2_forward(w, llm, mixed_embeds(w, before, image_emb, after)))

    write_safetensors(os.path.join(out, "model.safetensors"), tensors, {"config": config_json(cfg)})
    save_npy(os.path.join(out, "pixels.npy"), pixels)
    for k, v in acts.items():
        save_npy(os.path.join(out, k + ".npy"), as_numpy(v))
    with open(os.path.join(out, "prompt_segments.json"), "w") as f:
        json.dump([before, after], f)
    with open(os.path.join(out, "generate.json"), "w") as f:
        json.dump({"segments": [before, after], "tokens": tokens, "min_margin": margin}, f)
    print(f"{name}: {len(acts)} activations, tokens {tokens}, min margin {margin:.4g}")


def make_interp():
    out = os.path.join(DATA, "pipeline", "interp")
    clear_dir(out)
    rand = Rand(21)
    for G, G2, C in ((2, 3, 5), (4, 7, 3), (5, 3, 4), (16, 32, 2)):  # up, odd up, down, 224 -> 448
        table = torch.from_numpy(rand.normal((1, G * G + 1, C), 1.0).astype(np.float32))
        save_npy(os.path.join(out, f"{G}_{G2}.in.npy"), table.numpy())
        save_npy(os.path.join(out, f"{G}_{G2}.out.npy"), interpolate_pos_embed(table, G2).numpy())


def make_demo():
    out = os.path.join(DATA, "models")
    os.makedirs(out, exist_ok=True)
    spec = dict(DEMO)
    base = full_config()
    for sec in ("vision", "qformer", "llm"):  # keep the real eps etc. for the keys not given
        spec[sec] = {k: v for k, v in {**base[sec], **DEMO[sec]}.items()}
    spec["llm"]["max_positions"] = 2048
    cfg, tensors = model_tensors(spec, Rand(spec["seed"]))
    write_safetensors(os.path.join(out, "tiny-pipeline.safetensors"), tensors, {"config": config_json(cfg), "random_weights": "true"})
    print("demo model:", os.path.getsize(os.path.join(out, "tiny-pipeline.safetensors")), "bytes")


if __name__ == "__main__":
    torch.set_num_threads(1)
    for n, s in CONFIGS.items():
        make_config(n, s)
    make_interp()
    make_demo()
