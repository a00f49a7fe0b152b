"""Trains the demo TinyGPT-V from random initialisation on the synthetic shapes world and
writes weights/demo/ (`make demo-model`).

The model is the project's PyTorch reference of the architecture (tests/reference/
vision_ref.py and phi2_ref.py: EVA ViT with q/v biases, ln_vision, the Q-Former with
cross-attention on every 2nd layer, llama_proj/llama_proj2, Phi-2 with q/k LayerNorm,
RMSNorm post_layernorm, parallel MLP and a biased lm_head), run batched in float32 on
a state dict of trainable tensors named as in interface.md. Only the sizes are small
(CONFIG below); the tokenizer is the real one (51200 embedding rows).

What is special about training it:
  * The loss is the cross-entropy of the answer tokens only (the prompt is given).
  * The softmax runs over the answer vocabulary (every token any answer of this
    world uses, <|endoftext|> included), not all 51200 rows: the full softmax would
    cost 51200 x D per answer token and only push the other rows down. The exported
    lm_head is the full 51200-row layer: trained rows, and for every other token a
    zero weight row with bias NEVER_BIAS, which is what a full softmax drives a token
    that never occurs towards. Likewise embed_tokens rows of tokens that never occur
    in a prompt keep their random initialisation.
  * A training-only auxiliary loss helps the image side learn to see early, on the
    image embeddings (the projector output, what the LLM reads): linear heads on
    their mean predict the object count and which shapes and colours the scene
    holds, and on image embedding k (k < 4) the colour, shape and box of the k-th
    object from the left (or "none"), so that each object gets an embedding the
    language model can copy from. Without it the language side learns the answer
    formats within ~100 steps and then guesses for hundreds of steps before it uses
    the image. The heads are not part of the model and are not exported.
  * Every example is a fresh scene (seeded by its step and index), so there is no
    epoch and no overfitting to a fixed set; the evaluation scenes use seeds from
    EVAL_SEED_BASE on, which training never reaches.

    /usr/bin/python3 tools/train/train.py [--steps N] [--out weights/demo]
    /usr/bin/python3 tools/train/train.py --export-only CHECKPOINT.pt
"""
import argparse
import json
import math
import os
import random
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))

import scenes  # noqa: E402
import tasks  # noqa: E402
from bpe import Tokenizer, check_against_cli  # noqa: E402
from common import Rand, config_json, full_config, write_safetensors  # noqa: E402
from phi2_ref import PREFIX, phi2_forward, phi2_tensor_shapes  # noqa: E402
from vision_ref import image_side, random_image_side_weights  # noqa: E402

CONFIG = dict(
    vision={"image_size": 84, "patch_size": 14, "width": 64, "layers": 2, "heads": 2, "mlp_dim": 256},
    qformer={"hidden": 64, "layers": 4, "heads": 2, "intermediate": 256, "query_tokens": 8},
    projector={"mid": 128},
    llm={"vocab_size": 51200, "hidden": 64, "layers": 3, "heads": 2, "intermediate": 256, "rotary_dim": 16,
         "max_positions": 512},
)
SEED = 1234
EVAL_SEED_BASE = 10_000_000  # scenes for evaluation start here; training seeds stay below
NEVER_BIAS = -30.0           # lm_head bias of tokens no answer uses
AUX_WEIGHT = 1.0             # weight of the auxiliary scene-content loss (training only)
AUX = "aux."                 # name prefix of the auxiliary heads (never exported)
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32).reshape(3, 1, 1)
EMBED = PREFIX + "model.embed_tokens.weight"
HEAD_W, HEAD_B = PREFIX + "lm_head.weight", PREFIX + "lm_head.bias"


def model_config():
    return full_config(**CONFIG)


def pixels_of(img):
    """PIL image (already S x S) -> normalised float32 [3, S, S] (model.md section 1, step 3)."""
    a = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return (a - MEAN) / STD


# ---------------------------------------------------------------------------------
# Data


class Vocab:
    """Token ids of the world's prompts (input rows) and answers (output rows)."""

    def __init__(self, tok):
        self.tok = tok
        self.cache = {}
        ids_in, ids_out = set(), {Tokenizer.EOS}
        r = random.Random(0)
        for s in range(20000):  # every phrase, number and box piece the world can produce
            sc = scenes.make_scene(EVAL_SEED_BASE * 3 + s)
            for stage4 in (True, False):
                for kind in (tasks.KINDS4 if stage4 else tasks.KINDS3):
                    qa = tasks.question(kind, sc, r)
                    if qa:
                        before, after, lead = tasks.prompt(stage4, qa[0], qa[1])
                        ids_in.update(self.encode(before) + self.encode(after))
                        ids_out.update(self.encode(lead + qa[2]))
        for v in range(101):
            ids_out.update(self.encode(tasks.box_text([v, v, v, v])))
        self.out_ids = sorted(ids_out)
        self.in_ids = sorted(ids_in | ids_out)
        self.in_index = {t: i for i, t in enumerate(self.in_ids)}
        self.out_index = {t: i for i, t in enumerate(self.out_ids)}

    def encode(self, text):
        if text not in self.cache:
            self.cache[text] = self.tok.encode(text)
        return self.cache[text]


def make_batch(vocab, step, batch):
    """batch examples, each a fresh scene seeded (step, i): pixels [B,3,S,S] and token lists."""
    S = CONFIG["vision"]["image_size"]
    pix, items = [], []
    for i in range(batch):
        seed = step * batch + i
        assert seed < EVAL_SEED_BASE
        sc = scenes.make_scene(seed)
        pix.append(pixels_of(scenes.render(sc, S)))
        ex = tasks.sample(sc, random.Random(seed * 7 + 1))
        items.append({"before": vocab.encode(ex["before"]), "after": vocab.encode(ex["after"]),
                      "answer": vocab.encode(ex["answer"]) + [Tokenizer.EOS], "kind": ex["kind"],
                      "count": len(sc["objects"]) - 1,
                      "has": [float(any(o["shape"] == s for o in sc["objects"])) for s in scenes.SHAPES]
                      + [float(any(o["colour"] == c for o in sc["objects"])) for c in scenes.COLOUR_NAMES],
                      "slots": [(scenes.COLOUR_NAMES.index(o["colour"]), scenes.SHAPES.index(o["shape"]),
                                 [v / 100 for v in o["box100"]], 1.0) for o in sc["objects"]]
                      + [(len(scenes.COLOUR_NAMES), len(scenes.SHAPES), [0.0] * 4, 0.0)] * (4 - len(sc["objects"]))})
    return torch.from_numpy(np.stack(pix)), items


# ---------------------------------------------------------------------------------
# Parameters


def init_params(cfg, vocab, seed):
    """Trainable float32 tensors with interface.md names; embed/lm_head compact (vocab rows)."""
    g = torch.Generator().manual_seed(seed)
    shapes = {n: tuple(np.shape(a)) for n, a in random_image_side_weights(cfg, Rand(0)).items()}
    shapes.update(phi2_tensor_shapes(cfg["llm"]))
    D = cfg["llm"]["hidden"]
    shapes[EMBED] = (len(vocab.in_ids), D)
    shapes[HEAD_W] = (len(vocab.out_ids), D)
    shapes[HEAD_B] = (len(vocab.out_ids),)
    n_aux = 4 + len(scenes.SHAPES) + len(scenes.COLOUR_NAMES)  # count 1-4, shapes present, colours present
    shapes[AUX + "weight"] = (n_aux, D)
    shapes[AUX + "bias"] = (n_aux,)
    for head, n in (("slot_colour", len(scenes.COLOUR_NAMES) + 1), ("slot_shape", len(scenes.SHAPES) + 1), ("slot_box", 4)):
        shapes[AUX + head + ".weight"] = (n, D)
        shapes[AUX + head + ".bias"] = (n,)
    deep = 1.0 / math.sqrt(2 * max(cfg["vision"]["layers"], cfg["llm"]["layers"]))
    params = {}
    for name, shape in shapes.items():
        if name.endswith(("cls_token", "pos_embed", "query_tokens")):
            t = torch.randn(shape, generator=g) * 0.02
        elif name == EMBED:
            t = torch.randn(shape, generator=g) * 0.02
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            t = torch.randn(shape, generator=g) / math.sqrt(fan_in)
            if name.endswith(("attn.proj.weight", "self_attn.dense.weight", "mlp.fc2.weight")):
                t *= deep
        elif name.endswith("norm.weight") or name.endswith(("norm1.weight", "norm2.weight", "ln_vision.weight", "LayerNorm.weight")):
            t = torch.ones(shape)
        else:
            t = torch.zeros(shape)  # biases, q_bias / v_bias
        params[name] = t.float().requires_grad_(True)
    return params


# ---------------------------------------------------------------------------------
# Forward and loss


def loss_of(params, cfg, vocab, pixels, items, chunk=16):
    """The batch's cross-entropy over answer tokens, each token weighted 1/sqrt(its
    answer's length) (normalised): a per-token mean would let the 60-token grounding
    answers, mostly markup, drown the one-word answers that teach the model to look.
    Also per-kind mean losses and the next-token accuracy."""
    _, img = image_side(params, cfg, pixels, torch.float32)  # [B, Q, D]
    aux = img.mean(1) @ params[AUX + "weight"].T + params[AUX + "bias"]  # [B, 4 + shapes + colours]
    aux_loss = F.cross_entropy(aux[:, :4], torch.tensor([it["count"] for it in items])) + \
        F.binary_cross_entropy_with_logits(aux[:, 4:], torch.tensor([it["has"] for it in items]))
    slot = img[:, :4]  # [B, 4, D]: embedding k <-> k-th object from the left
    head = lambda n: slot @ params[AUX + n + ".weight"].T + params[AUX + n + ".bias"]  # noqa: E731
    t_col = torch.tensor([[c for c, _, _, _ in it["slots"]] for it in items])
    t_shp = torch.tensor([[s for _, s, _, _ in it["slots"]] for it in items])
    t_box = torch.tensor([[b for _, _, b, _ in it["slots"]] for it in items])    # [B, 4, 4], 0..1
    present = torch.tensor([[m for _, _, _, m in it["slots"]] for it in items])  # [B, 4]
    col, shp = head("slot_colour"), head("slot_shape")
    box = torch.sigmoid(head("slot_box"))
    aux_loss = aux_loss + F.cross_entropy(col.reshape(-1, col.shape[-1]), t_col.reshape(-1)) + \
        F.cross_entropy(shp.reshape(-1, shp.shape[-1]), t_shp.reshape(-1)) + \
        5.0 * ((box - t_box).abs().mean(-1) * present).sum() / present.sum()
    E = params[EMBED]
    order = sorted(range(len(items)), key=lambda i: len(items[i]["before"]) + len(items[i]["after"]) + len(items[i]["answer"]))
    total, count = 0.0, 0
    per_kind = {}
    hidden_rows, targets, kinds, weights = [], [], [], []
    for c in range(0, len(order), chunk):  # similar lengths together: less padding
        idx = order[c:c + chunk]
        seqs, spans = [], []
        for i in idx:
            it = items[i]
            text_after = it["after"] + it["answer"][:-1]
            e = torch.cat([E[[vocab.in_index[t] for t in it["before"]]], img[i],
                           E[[vocab.in_index[t] for t in text_after]]], 0)
            start = len(it["before"]) + img.shape[1] + len(it["after"]) - 1  # predicts answer[0]
            seqs.append(e)
            spans.append((start, it["answer"], it["kind"]))
        T = max(s.shape[0] for s in seqs)
        x = torch.stack([F.pad(s, (0, 0, 0, T - s.shape[0])) for s in seqs])  # right padding: causal, so harmless
        h = phi2_forward(params, cfg["llm"], x, torch.float32, logits=False)["llm.final_norm"]
        for b, (start, ans, kind) in enumerate(spans):
            hidden_rows.append(h[b, start:start + len(ans)])
            targets += [vocab.out_index[t] for t in ans]
            kinds += [kind] * len(ans)
            weights += [1.0 / math.sqrt(len(ans))] * len(ans)
    hs = torch.cat(hidden_rows, 0)
    logits = hs @ params[HEAD_W].T + params[HEAD_B]
    tgt = torch.tensor(targets)
    losses = F.cross_entropy(logits, tgt, reduction="none")
    w = torch.tensor(weights)
    with torch.no_grad():
        for k, l in zip(kinds, losses.tolist()):
            s, n = per_kind.get(k, (0.0, 0))
            per_kind[k] = (s + l, n + 1)
        correct = (logits.argmax(-1) == tgt).float().mean().item()
    return (losses * w).sum() / w.sum() + AUX_WEIGHT * aux_loss, per_kind, correct


# ---------------------------------------------------------------------------------
# Export


def q8_0_rows(a):
    """Q8_0 bytes of a float32 matrix [R, K] (K a multiple of 32): per block of 32, an
    F16 scale d = max|x| / 127 then 32 int8 round(x / d) (half away from zero), the
    layout src/core/tensor.cpp's quantize_row_q8_0 writes."""
    R, K = a.shape
    blocks = a.astype(np.float32).reshape(R * K // 32, 32)
    amax = np.abs(blocks).max(1)
    d = (amax / np.float32(127)).astype(np.float32)
    inv = np.where(d > 0, np.float32(1) / np.where(d > 0, d, 1), 0).astype(np.float32)
    v = blocks * inv[:, None]
    q = np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5), -127, 127).astype(np.int8)
    out = np.zeros(len(blocks), dtype=[("d", "<f2"), ("qs", "i1", (32,))])
    out["d"] = d.astype(np.float16)
    out["qs"] = q
    return out.tobytes()


def export(params, vocab, path, seed, extra_meta):
    cfg = model_config()
    D, V = cfg["llm"]["hidden"], cfg["llm"]["vocab_size"]
    g = torch.Generator().manual_seed(seed + 1)
    embed = (torch.randn(V, D, generator=g) * 0.02).numpy()  # rows no prompt uses: their random init
    embed[vocab.in_ids] = params[EMBED].detach().numpy()
    head_w = np.zeros((V, D), np.float32)
    head_w[vocab.out_ids] = params[HEAD_W].detach().numpy()
    head_b = np.full((V,), NEVER_BIAS, np.float32)
    head_b[vocab.out_ids] = params[HEAD_B].detach().numpy()
    order = list(random_image_side_weights(cfg, Rand(0)).keys()) + [n for n, _ in phi2_tensor_shapes(cfg["llm"])]
    tensors = []
    for name in order:
        if name == EMBED:
            tensors.append((name, embed, "Q8_0"))
        elif name == HEAD_W:
            tensors.append((name, head_w, "Q8_0"))
        elif name == HEAD_B:
            tensors.append((name, head_b, "F32"))
        else:
            a = params[name].detach().double().numpy()
            tensors.append((name, a, "F16" if a.ndim >= 2 else "F32"))
    meta = {"config": config_json(cfg), "demo_model": "true"}
    meta.update(extra_meta)
    write_safetensors(path, tensors, meta, extra_dtypes={"Q8_0": q8_0_rows})
    return os.path.getsize(path)


# ---------------------------------------------------------------------------------


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def plot(log, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps = [r["step"] for r in log]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    ax[0].plot(steps, [r["loss"] for r in log], label="all answer tokens")
    kinds = sorted({k for r in log for k in r["kinds"]})
    for k in kinds:
        ax[0].plot(steps, [r["kinds"].get(k, float("nan")) for r in log], lw=0.8, label=k)
    ax[0].set_yscale("log")
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("cross-entropy (nats / token)")
    ax[0].legend(fontsize=7)
    ax[1].plot(steps, [100 * r["token_acc"] for r in log])
    ax[1].set_xlabel("step")
    ax[1].set_ylabel("next-token accuracy on the batch (%)")
    ax[1].set_ylim(0, 100)
    fig.suptitle("demo TinyGPT-V training (fresh scenes every step)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--out", default=os.path.join(ROOT, "weights", "demo"))
    ap.add_argument("--checkpoint", default=None, help="where to keep the training state (default: a temp file)")
    ap.add_argument("--export-only", default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    cfg = model_config()
    vocab = Vocab(Tokenizer(os.path.join(ROOT, "weights", "tokenizer")))
    print(f"vocab: {len(vocab.in_ids)} input tokens, {len(vocab.out_ids)} answer tokens", flush=True)
    binary = os.path.join(ROOT, "build", "tinygptv")
    if os.path.exists(binary) and not args.export_only:  # the ids must be the C++ tokenizer's
        texts = sorted(vocab.cache)
        sample = texts[:: max(1, len(texts) // 40)]
        check_against_cli(vocab.tok, binary, sample)
        print(f"tokenizer: {len(sample)} sample texts tokenise as build/tinygptv does", flush=True)
    os.makedirs(args.out, exist_ok=True)
    ckpt = args.checkpoint or os.path.join(tempfile.gettempdir(), "tinygptv-demo-train.pt")

    if args.export_only:
        state = torch.load(args.export_only)
        params = state["params"]
        log = state["log"]
    else:
        params = init_params(cfg, vocab, SEED)
        matrices = [p for n, p in params.items() if p.dim() >= 2 and n not in (EMBED,)]
        others = [p for n, p in params.items() if p.dim() < 2 or n == EMBED]
        opt = torch.optim.AdamW([{"params": matrices, "weight_decay": 0.01}, {"params": others, "weight_decay": 0.0}],
                                lr=args.lr, betas=(0.9, 0.98), eps=1e-8)
        log, window = [], []
        t0 = time.time()
        for step in range(args.steps):
            for gr in opt.param_groups:
                gr["lr"] = lr_at(step, args.steps, args.lr, 60)
            pixels, items = make_batch(vocab, step, args.batch)
            loss, per_kind, acc = loss_of(params, cfg, vocab, pixels, items)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
            opt.step()
            window.append((sum(s for s, _ in per_kind.values()) / sum(n for _, n in per_kind.values()), per_kind, acc))
            if (step + 1) % 25 == 0 or step + 1 == args.steps:
                kinds = {}
                for _, pk, _ in window:
                    for k, (s, n) in pk.items():
                        a, b = kinds.get(k, (0.0, 0))
                        kinds[k] = (a + s, b + n)
                rec = {"step": step + 1, "loss": sum(w[0] for w in window) / len(window),
                       "token_acc": sum(w[2] for w in window) / len(window),
                       "kinds": {k: s / n for k, (s, n) in kinds.items()}, "seconds": round(time.time() - t0, 1)}
                log.append(rec)
                window = []
                print(f"step {rec['step']:5d}  loss {rec['loss']:.4f}  token acc {100 * rec['token_acc']:.1f}%  "
                      + " ".join(f"{k} {v:.3f}" for k, v in sorted(rec["kinds"].items())) + f"  {rec['seconds']:.0f}s", flush=True)
            if (step + 1) % 250 == 0 or step + 1 == args.steps:
                torch.save({"params": params, "log": log, "step": step + 1}, ckpt)

    model_path = os.path.join(args.out, "tinygptv-demo.safetensors")
    size = export(params, vocab, model_path, SEED, {"training": f"{log[-1]['step']} steps x {args.batch} scenes, seed {SEED}"})
    print(f"wrote {model_path}: {size} bytes", flush=True)
    plot(log, os.path.join(args.out, "training-curve.png"))
    with open(os.path.join(args.out, "training-log.json"), "w") as f:
        json.dump({"config": cfg, "seed": SEED, "batch": args.batch, "peak_lr": args.lr, "steps": log[-1]["step"],
                   "seconds": log[-1]["seconds"], "threads": args.threads,
                   "answer_vocab": len(vocab.out_ids), "input_vocab": len(vocab.in_ids),
                   "log": log}, f, indent=1)


if __name__ == "__main__":
    main()
