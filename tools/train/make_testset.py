"""Writes the scenes the demo model is judged on, and the scene `make` shows it.

tests/data/demo/
  scene_<seed>.png        N scenes at the model's size (84 px), seeds from
                          train.EVAL_SEED_BASE on: scenes training never saw
  scenes.json             [{"file", "objects": [{shape, colour, box}], "questions":
                           [{"kind", "question" (stage-4 task tag included), "answer"}]}]
  scene_cross_attention.npy   the Q-Former's cross-attention probabilities on the demo
                          scene [cross layers, heads, Q, N+1], from vision_ref.py in float64
                          on the committed model's stored weights (needs the model)
weights/demo/
  scene.png               the demo scene, drawn at 4x (336 px; tinygptv's bicubic
                          preprocessing reduces it exactly as training did), a plain
                          background, three shapes
  scene.json              its ground truth
  sample-scenes.png       the first 8 test scenes, enlarged 2x (for docs/demo.md)
  boxes.png, attention-map.png, attention-queries.png
                          `tinygptv ask --boxes / --attention-map [--attention-map-query N]`
                          on the demo scene's grounding answer (needs build/tinygptv and
                          the model); attention-queries.png puts queries 0-3 side by side

Run: /usr/bin/python3 tools/train/make_testset.py [N]     (part of `make demo-model`)
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))

import scenes  # noqa: E402
import tasks  # noqa: E402
from common import save_npy  # noqa: E402
from train import CONFIG, EVAL_SEED_BASE, MEAN, ROOT, STD  # noqa: E402
from vision_ref import image_side  # noqa: E402

DEMO_SEED = EVAL_SEED_BASE + 999_999  # far from the test scenes as well


def demo_scene():
    """The first seed from DEMO_SEED with a plain background and three shapes of three
    different shapes and colours (so every kind of question has an answer)."""
    s = DEMO_SEED
    while True:
        sc = scenes.make_scene(s)
        objs = sc["objects"]
        if (sc["noise"] == 0 and len(objs) == 3 and len({o["shape"] for o in objs}) == 3
                and len({o["colour"] for o in objs}) == 3):
            return sc
        s += 1


def read_float_tensors(path):
    """config and the F32/F16 tensors of a safetensors file (the image side is all F16/F32)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] not in ("F32", "F16"):
            continue
        a, b = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4" if t["dtype"] == "F32" else "<f2")
                                     .astype(np.float64).reshape(t["shape"]))
    return json.loads(header["__metadata__"]["config"]), out


def write_attention_reference(model_path, scene_png, out_npy):
    cfg, sd = read_float_tensors(model_path)
    S = cfg["vision"]["image_size"]
    img = Image.open(scene_png).convert("RGB").resize((S, S), Image.BICUBIC)  # what tinygptv's preprocessing does
    pixels = (np.asarray(img, dtype=np.float64).transpose(2, 0, 1) / 255.0 - MEAN) / STD
    probs = []
    image_side(sd, cfg, torch.from_numpy(pixels), torch.float64, cross_attention=probs)
    save_npy(out_npy, torch.stack(probs).numpy())


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 210
    S = CONFIG["vision"]["image_size"]
    out = os.path.join(ROOT, "tests", "data", "demo")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.startswith("scene_") and f.endswith(".png"):
            os.remove(os.path.join(out, f))
    items = []
    for seed in range(EVAL_SEED_BASE, EVAL_SEED_BASE + n):
        sc = scenes.make_scene(seed)
        name = f"scene_{seed}.png"
        scenes.render(sc, S).save(os.path.join(out, name), optimize=True)
        qs = [{"kind": k, "question": f"[{tag}] {q}", "answer": a} for k, tag, q, a in tasks.all_questions(sc, seed)]
        items.append({"file": name, **scenes.ground_truth(sc), "questions": qs})
    grid = Image.new("RGB", (4 * 2 * S, 2 * 2 * S))
    for i in range(8):
        tile = Image.open(os.path.join(out, items[i]["file"])).resize((2 * S, 2 * S), Image.NEAREST)
        grid.paste(tile, ((i % 4) * 2 * S, (i // 4) * 2 * S))
    os.makedirs(os.path.join(ROOT, "weights", "demo"), exist_ok=True)
    grid.save(os.path.join(ROOT, "weights", "demo", "sample-scenes.png"), optimize=True)
    with open(os.path.join(out, "scenes.json"), "w") as f:
        json.dump(items, f, separators=(",", ":"))
    print(f"{n} test scenes in {out}")

    sc = demo_scene()
    wd = os.path.join(ROOT, "weights", "demo")
    os.makedirs(wd, exist_ok=True)
    scenes.render_large(sc, S).save(os.path.join(wd, "scene.png"), optimize=True)
    with open(os.path.join(wd, "scene.json"), "w") as f:
        json.dump(scenes.ground_truth(sc), f)
    print("demo scene:", [(o["colour"], o["shape"], o["box100"]) for o in sc["objects"]])
    model = os.path.join(wd, "tinygptv-demo.safetensors")
    if os.path.exists(model):
        write_attention_reference(model, os.path.join(wd, "scene.png"), os.path.join(out, "scene_cross_attention.npy"))
        print("cross-attention reference written")
        binary = os.path.join(ROOT, "build", "tinygptv")
        if os.path.exists(binary):
            write_pictures(binary, model, wd)


def write_pictures(binary, model, wd):
    """The docs' pictures of the demo scene: grounding boxes, attention of all queries,
    and queries 0-3 side by side (with the whole-query map first)."""
    def ask(*extra):
        cmd = [binary, "ask", "--model", model, "--image", os.path.join(wd, "scene.png"), "--template", "minigptv2",
               "--task", "grounding", "--temp", "0", *extra, "describe this image"]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    answer = ask("--boxes", os.path.join(wd, "boxes.png"), "--attention-map", os.path.join(wd, "attention-map.png"))
    print("grounding answer on the demo scene:", answer)
    tiles = [Image.open(os.path.join(wd, "attention-map.png")).convert("RGB")]
    with tempfile.TemporaryDirectory() as tmp:
        for q in range(4):
            path = os.path.join(tmp, f"q{q}.png")
            ask("--attention-map", path, "--attention-map-query", str(q))
            tiles.append(Image.open(path).convert("RGB"))
    w, h, gap = tiles[0].size[0] // 2, tiles[0].size[1] // 2, 4  # half size, 4 px apart
    strip = Image.new("RGB", (len(tiles) * (w + gap) - gap, h), (255, 255, 255))
    for i, t in enumerate(tiles):
        strip.paste(t.resize((w, h), Image.BICUBIC), (i * (w + gap), 0))
    strip.save(os.path.join(wd, "attention-queries.png"), optimize=True)


if __name__ == "__main__":
    main()
