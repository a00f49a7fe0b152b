"""Writes the language-model fixtures: tests/data/llm/<config>/

  model.safetensors     random weights (norm weights/biases non-trivial), interface.md names,
                        __metadata__ config with every section
  prompt_ids.json       the prompt token ids
  prompt_segments.json  what `tinygptv dump --prompt-ids` must write ([[ids]]: no image)
  llm.embeds.npy [T,D], llm.layer.{i}.npy [T,D], llm.final_norm.npy [T,D], llm.logits.npy [T,V]
  decode.json           {"prompt_ids": [...], "tokens": [...], "min_margin": m}: greedy tokens,
                        each chosen by recomputing the whole sequence (no KV cache)
  decode.logits.npy     [steps, V] the logits that chose each greedy token

Configs:
  tiny     hidden 32, 2 heads (head dim 16, rotary 8), 2 layers, vocab 97, all F32; unusual
           eps and rope_theta so a hard-coded constant shows
  head80   the real per-head sizes: hidden 160, 2 heads (head dim 80, rotary 32), 3 layers,
           intermediate 640, vocab 500; matrices F16, embed_tokens/lm_head BF16, vectors F32

Also writes the fuzz seed tests/fuzz/corpus/safetensors/micro.safetensors: a complete LM
model file small enough for mutations to reach the header (hidden 8, 1 layer, vocab 5).

Run: /usr/bin/python3 tests/reference/make_llm.py   (from the repository root; `make fixtures`)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Rand, config_json, full_config, save_npy, write_safetensors  # noqa: E402
from phi2_ref import as_numpy, embed_tokens, greedy_decode, phi2_forward, phi2_weights, random_phi2_tensors, top2_margin  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "llm")

CONFIGS = {
    "tiny": dict(
        llm={"vocab_size": 97, "hidden": 32, "layers": 2, "heads": 2, "intermediate": 128, "rotary_dim": 8,
             "rope_theta": 500.0, "ln_eps": 1e-3, "rms_eps": 1e-2, "max_positions": 64},
        dtypes=dict(matrix_dtype="F32", embed_dtype="F32", vector_dtype="F32"),
        seed=1, prompt_len=7, steps=6),
    "head80": dict(
        llm={"vocab_size": 500, "hidden": 160, "layers": 3, "heads": 2, "intermediate": 640, "rotary_dim": 32,
             "rope_theta": 10000.0, "ln_eps": 1e-5, "rms_eps": 1e-6, "max_positions": 2048},
        dtypes=dict(matrix_dtype="F16", embed_dtype="BF16", vector_dtype="F32"),
        seed=2, prompt_len=11, steps=5),
}


def make(name, spec):
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".npy") or f.endswith(".json") or f.endswith(".safetensors"):
            os.remove(os.path.join(out, f))
    # Small vision/qformer sections: the LLM does not read them, but ModelFile wants every key.
    cfg = full_config(llm=spec["llm"],
                      vision={"image_size": 28, "width": 16, "layers": 1, "heads": 2, "mlp_dim": 32},
                      qformer={"hidden": 16, "layers": 1, "heads": 2, "intermediate": 32, "query_tokens": 4},
                      projector={"mid": 24})
    llm = cfg["llm"]
    rand = Rand(spec["seed"])
    tensors = random_phi2_tensors(llm, rand, **spec["dtypes"])
    w = phi2_weights(tensors)

    # A prompt whose greedy continuation has a clear winner at every step, so float32
    # rounding cannot flip a token. Ids 0 and V-1 are always included (edge rows).
    for attempt in range(100):
        ids = [0] + rand.ints(spec["prompt_len"] - 2, 0, llm["vocab_size"]) + [llm["vocab_size"] - 1]
        tokens, step_logits = greedy_decode(w, llm, ids, spec["steps"])
        margin = top2_margin(step_logits)
        if margin > 1e-3:
            break
    else:
        raise RuntimeError(f"{name}: no prompt with a clear greedy path")

    write_safetensors(os.path.join(out, "model.safetensors"), tensors, {"config": config_json(cfg)})
    acts = phi2_forward(w, llm, embed_tokens(w, ids))
    for k, v in acts.items():
        save_npy(os.path.join(out, k + ".npy"), as_numpy(v))
    with open(os.path.join(out, "prompt_ids.json"), "w") as f:
        json.dump(ids, f)
    with open(os.path.join(out, "prompt_segments.json"), "w") as f:
        json.dump([ids], f)
    with open(os.path.join(out, "decode.json"), "w") as f:
        json.dump({"prompt_ids": ids, "tokens": tokens, "min_margin": margin}, f)
    save_npy(os.path.join(out, "decode.logits.npy"), as_numpy(step_logits))
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"{name}: T={len(ids)} greedy={tokens} margin={margin:.4g} ({size / 1e6:.2f} MB)")


def make_fuzz_seed():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus", "safetensors")
    os.makedirs(out, exist_ok=True)
    cfg = full_config(llm={"vocab_size": 5, "hidden": 8, "layers": 1, "heads": 2, "intermediate": 8, "rotary_dim": 2,
                           "max_positions": 16},
                      vision={"image_size": 14, "width": 8, "layers": 1, "heads": 1, "mlp_dim": 8},
                      qformer={"hidden": 8, "layers": 1, "heads": 1, "intermediate": 8, "query_tokens": 1},
                      projector={"mid": 8})
    tensors = random_phi2_tensors(cfg["llm"], Rand(3), matrix_dtype="F16", embed_dtype="BF16", vector_dtype="F32")
    write_safetensors(os.path.join(out, "micro.safetensors"), tensors, {"config": config_json(cfg)})


def main():
    torch.set_grad_enabled(False)
    for name, spec in CONFIGS.items():
        make(name, spec)
    make_fuzz_seed()


if __name__ == "__main__":
    main()
