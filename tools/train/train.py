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
  * Two phases: the image side alone first (--vision-steps, on the auxiliary losses),
    then everything on the answers with the auxiliary losses still on. Training-only
    linear heads (not exported) teach the image side to see: on every ViT patch the
    colour, shape, rank and box of the object under it (--dense-aux); query k of the
    Q-Former looks at the k-th object's patches (--dense-aux); on the image embeddings
    (the projector output the LLM reads) the count and which shapes and colours the
    scene holds (their mean), and the k-th object's colour, shape and box (embedding
    k), so that each object gets an embedding the language model can copy from.
  * Box coordinates (each number 0-100 is one token) get a Gaussian target over the
    neighbouring numbers (--soft-boxes).
  * The defaults are the recipe of the committed model; --no-dense-aux,
    --no-soft-boxes, --vision-steps 0, --per-scene N, --config JSON are for
    experiments (docs/demo.md says what they showed).
  * Every scene is fresh (seeded by its step and index), so there is no epoch and no
    overfitting to a fixed set; the evaluation scenes use seeds from EVAL_SEED_BASE
    on, which training never reaches.

    /usr/bin/python3 tools/train/train.py [--steps N] [--out weights/demo]
    /usr/bin/python3 tools/train/train.py --export-only CHECKPOINT.pt [--eval-only --eval-scenes 200]
"""
import argparse
import json
import math
import os
import random
import re
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
AUX_WEIGHT = 1.0             # weight of the auxiliary losses (training only)
SOFT_SIGMA = 1.5             # std (in grid units) of the soft target of a box coordinate (--soft-boxes)
DENSE_AUX = False            # --dense-aux: the patch and cross-attention auxiliary losses too
SOFT_BOXES = False           # --soft-boxes: Gaussian targets for box coordinates
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
        # box coordinates: "{<23><12>...": each number 0-100 is one token of its own
        self.number_of = {}
        for v in range(101):
            ids = self.encode(str(v))
            assert len(ids) == 1 and ids[0] in self.out_index, v
            self.number_of[ids[0]] = v
        self.number_rows = torch.tensor([self.out_index[self.encode(str(v))[0]] for v in range(101)])
        self.value_of_row = torch.full((len(self.out_ids),), -1)
        self.value_of_row[self.number_rows] = torch.arange(101)

    def soft_number_targets(self, rows):
        """rows [n] (answer-vocabulary rows of coordinate tokens) -> [n, answer vocab]: a
        Gaussian (std SOFT_SIGMA) over the 101 number tokens around each value."""
        v = self.value_of_row[rows].float()[:, None]                               # [n, 1]
        w = torch.exp(-0.5 * ((torch.arange(101).float()[None] - v) / SOFT_SIGMA) ** 2)
        out = torch.zeros(len(rows), len(self.out_ids))
        out[:, self.number_rows] = w / w.sum(-1, keepdim=True)
        return out

    def encode(self, text):
        if text not in self.cache:
            self.cache[text] = self.tok.encode(text)
        return self.cache[text]


def make_batch(vocab, step, batch, per_scene):
    """batch fresh scenes, each seeded step * batch + i, and per_scene questions about each:
    pixels [B,3,S,S], the questions (token lists, kind, scene index) and the scenes'
    targets for the auxiliary losses (see loss_of)."""
    S, P = CONFIG["vision"]["image_size"], CONFIG["vision"]["patch_size"]
    N = (S // P) ** 2
    n_col, n_shp = len(scenes.COLOUR_NAMES), len(scenes.SHAPES)
    pix, items = [], []
    t = {"count": [], "has": [], "slot_colour": [], "slot_shape": [], "slot_box": [], "slot_on": [],
         "patch_colour": [], "patch_shape": [], "patch_rank": [], "patch_box": [], "patch_on": [], "attend": []}
    for i in range(batch):
        seed = step * batch + i
        assert seed < EVAL_SEED_BASE
        sc = scenes.make_scene(seed)
        objs = sc["objects"]
        pix.append(pixels_of(scenes.render(sc, S)))
        r = random.Random(seed * 7 + 1)
        for _ in range(per_scene):
            ex = tasks.sample(sc, r)
            items.append({"before": vocab.encode(ex["before"]), "after": vocab.encode(ex["after"]),
                          "answer": vocab.encode(ex["answer"]) + [Tokenizer.EOS], "kind": ex["kind"], "scene": i})
        t["count"].append(len(objs) - 1)
        t["has"].append([float(any(o["shape"] == s for o in objs)) for s in scenes.SHAPES]
                        + [float(any(o["colour"] == c for o in objs)) for c in scenes.COLOUR_NAMES])
        pad = 4 - len(objs)
        t["slot_colour"].append([scenes.COLOUR_NAMES.index(o["colour"]) for o in objs] + [n_col] * pad)
        t["slot_shape"].append([scenes.SHAPES.index(o["shape"]) for o in objs] + [n_shp] * pad)
        t["slot_box"].append([[v / 100 for v in o["box100"]] for o in objs] + [[0.0] * 4] * pad)
        t["slot_on"].append([1.0] * len(objs) + [0.0] * pad)
        if not DENSE_AUX:
            continue
        cover = scenes.object_cover(sc, S, P)                       # [n, N]
        best = cover.argmax(0)                                      # the object filling most of each patch
        on = cover.max(0) >= 0.25
        t["patch_colour"].append([scenes.COLOUR_NAMES.index(objs[k]["colour"]) if o else n_col for k, o in zip(best, on)])
        t["patch_shape"].append([scenes.SHAPES.index(objs[k]["shape"]) if o else n_shp for k, o in zip(best, on)])
        t["patch_rank"].append([int(k) + 1 if o else 0 for k, o in zip(best, on)])
        t["patch_box"].append([[v / 100 for v in objs[k]["box100"]] for k in best])
        t["patch_on"].append(on.astype(np.float32))
        attend = np.zeros((4, N + 1), np.float32)                   # where query k should look: object k's patches
        for k in range(len(objs)):
            sel = cover[k] >= 0.1
            if not sel.any():
                sel = cover[k] == cover[k].max()
            attend[k, 1:] = sel
        t["attend"].append(attend)
    targets = {k: torch.tensor(np.array(v)) for k, v in t.items() if v}
    targets = {k: v.float() if v.is_floating_point() else v for k, v in targets.items()}
    return torch.from_numpy(np.stack(pix)), items, targets


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
    W = cfg["vision"]["width"]
    for head, n, width in (("slot_colour", len(scenes.COLOUR_NAMES) + 1, D), ("slot_shape", len(scenes.SHAPES) + 1, D),
                           ("slot_box", 4, D)) + ((("patch_colour", len(scenes.COLOUR_NAMES) + 1, W),
                           ("patch_shape", len(scenes.SHAPES) + 1, W), ("patch_rank", 5, W), ("patch_box", 4, W))
                                                  if DENSE_AUX else ()):
        shapes[AUX + head + ".weight"] = (n, width)
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


def aux_loss_of(params, acts, img, attention, t):
    """The training-only auxiliary losses that teach the image side to see (dict of
    scalar tensors; their sum is added to the answer loss). Heads are linear.
      slot: image embedding k (k < 4) gives that object's colour, shape and box (or
        "none"), and the mean of the embeddings the count and which shapes and colours
        the scene holds, so the language model has one embedding per object to read.
      patch (--dense-aux): on every ViT output patch (ln_vision), the colour and shape
        of the object filling most of it (or "none"), that object's rank from the left
        (0 = none) and its box.
      attend (--dense-aux): Q-Former query k (k < 4) puts its cross-attention (each
        head, each cross-attention layer) on the patches of the k-th object from the left.
    """
    def head(x, n):
        return x @ params[AUX + n + ".weight"].T + params[AUX + n + ".bias"]

    out = {"patch": torch.zeros(()), "attend": torch.zeros(())}
    present = t["slot_on"]                                                       # [B, 4]
    if DENSE_AUX:
        vis = acts["vision.ln"][:, 1:]                                           # [B, N, W] patches
        on = t["patch_on"]
        out["patch"] = F.cross_entropy(head(vis, "patch_colour").flatten(0, 1), t["patch_colour"].flatten()) + \
            F.cross_entropy(head(vis, "patch_shape").flatten(0, 1), t["patch_shape"].flatten()) + \
            F.cross_entropy(head(vis, "patch_rank").flatten(0, 1), t["patch_rank"].flatten()) + \
            5.0 * ((torch.sigmoid(head(vis, "patch_box")) - t["patch_box"]).abs().mean(-1) * on).sum() / on.sum().clamp(min=1)
        att = 0.0
        for probs in attention:                                                  # [B, heads, Q, N+1]
            mass = (probs[:, :, :4] * t["attend"][:, None]).sum(-1)              # [B, heads, 4]
            att = att - (torch.log(mass + 1e-4).mean(1) * present).sum() / present.sum()
        out["attend"] = att / len(attention)
    scene = img.mean(1) @ params[AUX + "weight"].T + params[AUX + "bias"]        # [B, 4 + shapes + colours]
    slot = img[:, :4]                                                            # [B, 4, D]
    out["slot"] = F.cross_entropy(scene[:, :4], t["count"]) + \
        F.binary_cross_entropy_with_logits(scene[:, 4:], t["has"]) + \
        F.cross_entropy(head(slot, "slot_colour").flatten(0, 1), t["slot_colour"].flatten()) + \
        F.cross_entropy(head(slot, "slot_shape").flatten(0, 1), t["slot_shape"].flatten()) + \
        5.0 * ((torch.sigmoid(head(slot, "slot_box")) - t["slot_box"]).abs().mean(-1) * present).sum() / present.sum()
    with torch.no_grad():  # how well the image side sees, for the log
        if DENSE_AUX:
            out["patch_colour_acc"] = (head(vis, "patch_colour").argmax(-1) == t["patch_colour"]).float()[on > 0].mean()
            out["patch_shape_acc"] = (head(vis, "patch_shape").argmax(-1) == t["patch_shape"]).float()[on > 0].mean()
        out["slot_shape_acc"] = (head(slot, "slot_shape").argmax(-1) == t["slot_shape"]).float()[present > 0].mean()
    return out


def vision_loss_of(params, cfg, pixels, targets):
    """The first phase (--vision-steps): the auxiliary losses alone, which need only the
    image side (a third of a full step's work)."""
    attention = []
    acts, img = image_side(params, cfg, pixels, torch.float32, cross_attention=attention)
    aux = aux_loss_of(params, acts, img, attention, targets)
    return aux["patch"] + aux["attend"] + aux["slot"], {k: float(v) for k, v in aux.items()}


def loss_of(params, cfg, vocab, pixels, items, targets, chunk=16):
    """The batch's loss: cross-entropy over answer tokens, each token weighted 1/sqrt(its
    answer's length) (normalised: a per-token mean would let the 60-token grounding
    answers, mostly markup, drown the one-word answers that teach the model to look);
    box coordinates get a soft target (a Gaussian over the neighbouring numbers, so
    that 41 for 40 costs less than 90 for 40); plus AUX_WEIGHT x the auxiliary losses.
    Also returns the per-kind losses and token accuracies and the aux figures."""
    attention = []
    acts, img = image_side(params, cfg, pixels, torch.float32, cross_attention=attention)  # img [B, Q, D]
    aux = aux_loss_of(params, acts, img, attention, targets)
    E = params[EMBED]
    order = sorted(range(len(items)), key=lambda i: len(items[i]["before"]) + len(items[i]["after"]) + len(items[i]["answer"]))
    hidden_rows, targets_, kinds, weights, soft = [], [], [], [], []
    for c in range(0, len(order), chunk):  # similar lengths together: less padding
        idx = order[c:c + chunk]
        seqs, spans = [], []
        for i in idx:
            it = items[i]
            text_after = it["after"] + it["answer"][:-1]
            e = torch.cat([E[[vocab.in_index[t] for t in it["before"]]], img[it["scene"]],
                           E[[vocab.in_index[t] for t in text_after]]], 0)
            start = len(it["before"]) + img.shape[1] + len(it["after"]) - 1  # predicts answer[0]
            seqs.append(e)
            spans.append((start, it["answer"], it["kind"]))
        T = max(s.shape[0] for s in seqs)
        x = torch.stack([F.pad(s, (0, 0, 0, T - s.shape[0])) for s in seqs])  # right padding: causal, so harmless
        h = phi2_forward(params, cfg["llm"], x, torch.float32, logits=False)["llm.final_norm"]
        for b, (start, ans, kind) in enumerate(spans):
            hidden_rows.append(h[b, start:start + len(ans)])
            targets_ += [vocab.out_index[t] for t in ans]
            kinds += [kind] * len(ans)
            weights += [1.0 / math.sqrt(len(ans))] * len(ans)
            soft += [kind in ("grounding", "refer") and t in vocab.number_of for t in ans]
    hs = torch.cat(hidden_rows, 0)
    logits = hs @ params[HEAD_W].T + params[HEAD_B]
    tgt = torch.tensor(targets_)
    logp = F.log_softmax(logits, -1)
    is_soft = torch.tensor(soft)
    if SOFT_BOXES and is_soft.any():
        dist = F.one_hot(tgt, logits.shape[-1]).float()
        dist[is_soft] = vocab.soft_number_targets(tgt[is_soft])
        losses = -(dist * logp).sum(-1)
    else:
        losses = F.cross_entropy(logits, tgt, reduction="none")
    w = torch.tensor(weights)
    per_kind = {}
    with torch.no_grad():
        right = (logits.argmax(-1) == tgt).float()
        hard = F.nll_loss(logp, tgt, reduction="none")
        for k, l, ok in zip(kinds, hard.tolist(), right.tolist()):
            s, a, n = per_kind.get(k, (0.0, 0.0, 0))
            per_kind[k] = (s + l, a + ok, n + 1)
    total = (losses * w).sum() / w.sum() + AUX_WEIGHT * (aux["patch"] + aux["attend"] + aux["slot"])
    return total, per_kind, right.mean().item(), {k: float(v) for k, v in aux.items()}


# ---------------------------------------------------------------------------------
# Evaluation (a quick Python twin of tests/pipeline/test_demo_model.cpp, for watching
# training: greedy decoding over the answer vocabulary, stage-4 template)


def _boxes(text):
    """[(label, (x0, y0, x1, y1))] of "<p>label</p>{<x0><y0><x1><y1>}" (label "" for a bare box)."""
    out, label = [], ""
    for m in re.finditer(r"<p>(.*?)</p>|\{<(\d+)><(\d+)><(\d+)><(\d+)>\}", text):
        if m.group(1) is not None:
            label = m.group(1)
        else:
            out.append((label, tuple(int(m.group(i)) for i in range(2, 6))))
    return out


def _iou(a, b):
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / uni if uni > 0 else 0.0


@torch.no_grad()
def evaluate(params, cfg, vocab, n=100, first_seed=EVAL_SEED_BASE + 500_000, max_new=70):
    """Per-kind accuracy on n scenes training never saw (not the C++ test's seeds):
    exact answers, grounding objects with a box of the right phrase at IoU >= 0.5,
    refer boxes at IoU >= 0.5."""
    S = cfg["vision"]["image_size"]
    scs = [scenes.make_scene(first_seed + i) for i in range(n)]
    _, img = image_side(params, cfg, torch.from_numpy(np.stack([pixels_of(scenes.render(sc, S)) for sc in scs])),
                        torch.float32)
    qs = []  # (scene index, kind, prompt ids, answer)
    for i, sc in enumerate(scs):
        for kind, tag, q, a in tasks.all_questions(sc, first_seed + i):
            before, after, _ = tasks.prompt(True, tag, q)
            qs.append((i, kind, vocab.encode(before), vocab.encode(after), a))
    E = params[EMBED]
    got = [None] * len(qs)
    groups = {}
    for j, (_, _, b, a, _) in enumerate(qs):
        groups.setdefault((len(b), len(a)), []).append(j)
    for js in groups.values():
        x = torch.stack([torch.cat([E[[vocab.in_index[t] for t in qs[j][2]]], img[qs[j][0]],
                                    E[[vocab.in_index[t] for t in qs[j][3]]]], 0) for j in js])
        out = [[] for _ in js]
        done = [False] * len(js)
        for _ in range(max_new):
            h = phi2_forward(params, cfg["llm"], x, torch.float32, logits=False)["llm.final_norm"][:, -1]
            nxt = (h @ params[HEAD_W].T + params[HEAD_B]).argmax(-1)
            ids = [vocab.out_ids[r] for r in nxt.tolist()]
            for k, t in enumerate(ids):
                if t == Tokenizer.EOS:
                    done[k] = True
                elif not done[k]:
                    out[k].append(t)
            if all(done):
                break
            x = torch.cat([x, E[[vocab.in_index[t] for t in ids]][:, None]], 1)
        for k, j in enumerate(js):
            got[j] = vocab.tok.decode(out[k]).strip()
    score = {}
    for (i, kind, _, _, want), ans in zip(qs, got):
        r, t = score.get(kind, (0, 0))
        if kind == "grounding":
            boxes = _boxes(ans)
            for o in scs[i]["objects"]:
                label = f"{o['colour']} {o['shape']}"
                r += any(lb == label and _iou(bx, o["box100"]) >= 0.5 for lb, bx in boxes)
                t += 1
        elif kind == "refer":
            boxes, wanted = _boxes(ans), _boxes(want)
            r += bool(boxes) and _iou(boxes[0][1], wanted[0][1]) >= 0.5
            t += 1
        else:
            r += ans == want
            t += 1
        score[kind] = (r, t)
    return {k: r / t for k, (r, t) in score.items()}


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
    """Three panels: the image side's auxiliary accuracies (every step), then the answer
    loss and next-token accuracy per question kind (the joint phase)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(15, 3.8))
    steps = [r["step"] for r in log]
    for key, label in (("patch_colour_acc", "patch colour"), ("patch_shape_acc", "patch shape"),
                       ("slot_shape_acc", "image embedding k: shape of object k")):
        if key in log[0]["aux"]:
            ax[0].plot(steps, [100 * r["aux"][key] for r in log], lw=0.9, label=label)
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("auxiliary head accuracy (%)")
    ax[0].set_ylim(0, 100)
    ax[0].legend(fontsize=7)
    ax[0].set_title("image side", fontsize=9)
    joint = [r for r in log if r["kinds"]]
    if joint:
        js = [r["step"] for r in joint]
        kinds = sorted({k for r in joint for k in r["kinds"]})
        ax[1].plot(js, [r["loss"] for r in joint], label="all answer tokens")
        ax[2].plot(js, [100 * r["token_acc"] for r in joint], label="all answer tokens")
        for k in kinds:
            ax[1].plot(js, [r["kinds"].get(k, float("nan")) for r in joint], lw=0.8, label=k)
            ax[2].plot(js, [100 * r["kinds_acc"].get(k, float("nan")) for r in joint], lw=0.8, label=k)
        for a in ax[:1]:
            a.axvline(js[0], color="grey", lw=0.6, ls=":")
    ax[1].set_yscale("log")
    ax[1].set_xlabel("step")
    ax[1].set_ylabel("cross-entropy (nats / token)")
    ax[1].legend(fontsize=7)
    ax[1].set_title("answers (joint phase)", fontsize=9)
    ax[2].set_xlabel("step")
    ax[2].set_ylabel("next-token accuracy on the batch (%)")
    ax[2].set_ylim(0, 100)
    ax[2].legend(fontsize=7)
    ax[2].set_title("answers (joint phase)", fontsize=9)
    fig.suptitle("demo TinyGPT-V training (fresh scenes every step)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6500)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--out", default=os.path.join(ROOT, "weights", "demo"))
    ap.add_argument("--checkpoint", default=None, help="where to keep the training state (default: a temp file)")
    ap.add_argument("--export-only", default=None)
    ap.add_argument("--eval-only", action="store_true", help="with --export-only: only evaluate the checkpoint")
    ap.add_argument("--eval-every", type=int, default=0, help="evaluate on 60 unseen scenes every N steps")
    ap.add_argument("--eval-scenes", type=int, default=0, help="evaluate on N unseen scenes at the end")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--per-scene", type=int, default=1, help="questions asked about each scene")
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--dense-aux", action=argparse.BooleanOptionalAction, default=True,
                    help="the patch and cross-attention auxiliary losses")
    ap.add_argument("--soft-boxes", action=argparse.BooleanOptionalAction, default=True,
                    help="Gaussian targets for box coordinates")
    ap.add_argument("--vision-steps", type=int, default=2500, help="first steps with the image side's auxiliary losses only")
    ap.add_argument("--config", default=None, help="JSON overriding CONFIG sections (for experiments)")
    args = ap.parse_args()
    global DENSE_AUX, SOFT_BOXES
    DENSE_AUX, SOFT_BOXES = args.dense_aux, args.soft_boxes
    if args.config:
        for part, values in json.loads(args.config).items():
            CONFIG[part].update(values)
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
                gr["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
            if step < args.vision_steps:  # phase 1: the image side learns to see
                pixels, items, targets = make_batch(vocab, step, args.batch, 0)
                loss, aux = vision_loss_of(params, cfg, pixels, targets)
                per_kind, acc = {}, 0.0
            else:
                pixels, items, targets = make_batch(vocab, step, args.batch, args.per_scene)
                loss, per_kind, acc, aux = loss_of(params, cfg, vocab, pixels, items, targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
            opt.step()
            window.append((per_kind, acc, aux))
            if (step + 1) % 25 == 0 or step + 1 == args.steps:
                kinds = {}
                for pk, _, _ in window:
                    for k, (l, a, n) in pk.items():
                        s0, a0, n0 = kinds.get(k, (0.0, 0.0, 0))
                        kinds[k] = (s0 + l, a0 + a, n0 + n)
                rec = {"step": step + 1,
                       "loss": sum(l for l, _, _ in kinds.values()) / max(1, sum(n for _, _, n in kinds.values())),
                       "token_acc": sum(w[1] for w in window) / len(window),
                       "kinds": {k: l / n for k, (l, _, n) in kinds.items()},
                       "kinds_acc": {k: a / n for k, (_, a, n) in kinds.items()},
                       "aux": {k: sum(w[2][k] for w in window) / len(window) for k in window[0][2]},
                       "seconds": round(time.time() - t0, 1)}
                log.append(rec)
                window = []
                print(f"step {rec['step']:5d}  loss {rec['loss']:.3f}  acc {100 * rec['token_acc']:.1f}%  "
                      + " ".join(f"{k[:5]} {v:.2f}/{100 * rec['kinds_acc'][k]:.0f}%" for k, v in sorted(rec["kinds"].items()))
                      + "  aux " + " ".join(f"{k} {v:.2f}" for k, v in rec["aux"].items())
                      + f"  {rec['seconds']:.0f}s", flush=True)
            if args.eval_every and (step + 1) % args.eval_every == 0 and args.vision_steps < step + 1 < args.steps:
                te = time.time()
                ev = evaluate(params, cfg, vocab, n=60)
                print("eval  " + "  ".join(f"{k} {100 * v:.0f}%" for k, v in sorted(ev.items()))
                      + f"  ({time.time() - te:.0f}s)", flush=True)
                log[-1]["eval"] = ev
            if (step + 1) % 250 == 0 or step + 1 == args.steps:
                torch.save({"params": params, "log": log, "step": step + 1}, ckpt)

    seconds = log[-1]["seconds"]
    final = None
    if args.eval_scenes:
        te = time.time()
        final = evaluate(params, cfg, vocab, n=args.eval_scenes)
        print(f"eval on {args.eval_scenes} unseen scenes (Python, greedy): "
              + "  ".join(f"{k} {100 * v:.1f}%" for k, v in sorted(final.items())) + f"  ({time.time() - te:.0f}s)", flush=True)
    if args.eval_only:
        return
    model_path = os.path.join(args.out, "tinygptv-demo.safetensors")
    size = export(params, vocab, model_path, SEED, {"training": f"{log[-1]['step']} steps x {args.batch} scenes, seed {SEED}"})
    print(f"wrote {model_path}: {size} bytes", flush=True)
    plot(log, os.path.join(args.out, "training-curve.png"))
    with open(os.path.join(args.out, "training-log.json"), "w") as f:
        json.dump({"config": cfg, "seed": SEED, "batch": args.batch, "questions_per_scene": args.per_scene, "peak_lr": args.lr, "steps": log[-1]["step"],
                   "seconds": seconds, "threads": args.threads, "python_eval": final,
                   "answer_vocab": len(vocab.out_ids), "input_vocab": len(vocab.in_ids),
                   "log": log}, f, indent=1)


if __name__ == "__main__":
    main()
