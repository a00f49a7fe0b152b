"""The demo model's synthetic world: 1-4 flat shapes on a plain or noisy background.

A scene is a pure function of its seed:

    scene = make_scene(seed)           # dict: background, noise, objects (shape, colour, box)
    img = render(scene, size)          # PIL RGB image, size x size, drawn 4x larger and
                                       # reduced with PIL's BICUBIC (what tinygptv's
                                       # preprocessing does to any larger image), then noise
    big = render_large(scene, size)    # the 4x drawing of a noise-free scene (to ship)
    cover = object_cover(scene, size, patch)   # [objects, patches]: how much of each patch each object fills

Ground truth per object: its shape name, colour name and bounding box, both in pixels
of the size x size image and in TinyGPT-V's 0-100 grid (model.md section 7:
`{<x0><y0><x1><y1>}`, fractions of width/height times 100, rounded).

Each object lies in a cell of its own of a 3 x 3 grid, so objects never overlap; no two
share both shape and colour, so "the red circle" always names one object. They are
listed left to right by cell column (top to bottom within a column), the order every
answer uses.

Run as a script to write sample scenes: /usr/bin/python3 tools/train/scenes.py OUT_DIR N [FIRST_SEED [SIZE]]
"""
import json
import math
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "star")

# Named colours, far enough apart to stay distinct after the 4x reduction and noise.
COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 70, 230),
    "yellow": (245, 225, 30),
    "orange": (250, 140, 10),
    "purple": (140, 40, 180),
    "pink": (255, 130, 200),
    "brown": (120, 70, 25),
    "black": (15, 15, 15),
    "white": (250, 250, 250),
}
COLOUR_NAMES = tuple(COLOURS)

SUPER = 4  # drawn at SUPER x the final size, then reduced (anti-aliased edges)


CELLS = 3  # the image is a CELLS x CELLS grid of cells; each object sits inside one cell


def make_scene(seed):
    """The scene for `seed`: background grey level + tint, noise amplitude, 1-4 objects.

    Each object lies inside its own cell of a 3 x 3 grid (at 84 px a cell is 28 px, 2 x 2
    of the ViT's 14 px patches), 60-92 % of the cell wide, anywhere inside it. So objects
    never overlap, and each one reaches the ViT as the same few patches, each showing a
    part of it (docs/demo.md: with free placement the small ViT learned colours but not
    shapes within the training budget)."""
    r = random.Random(seed)
    n = r.randint(1, 4)
    level = r.randint(95, 165)
    tint = [r.randint(-15, 15) for _ in range(3)]
    background = [max(0, min(255, level + t)) for t in tint]
    noise = r.choice((0, 0, 12, 24))  # std of the per-pixel noise; half the scenes are plain
    cell = 1.0 / CELLS
    objects, used = [], set()
    for c in r.sample(range(CELLS * CELLS), n):
        shape, colour = r.choice(SHAPES), r.choice(COLOUR_NAMES)
        while (shape, colour) in used:
            shape, colour = r.choice(SHAPES), r.choice(COLOUR_NAMES)
        used.add((shape, colour))
        side = cell * r.uniform(0.6, 0.92)  # box side as a fraction of the image: 0.20-0.31
        x0 = (c % CELLS) * cell + r.uniform(0, cell - side)
        y0 = (c // CELLS) * cell + r.uniform(0, cell - side)
        o = {"shape": shape, "colour": colour, "layout": (x0, y0, x0 + side, y0 + side),
             "rotation": r.uniform(-0.25, 0.25), "cell": (c % CELLS, c // CELLS)}
        o["fbox"] = _tight_box(o)
        objects.append(o)
    objects.sort(key=lambda o: o["cell"])  # left to right by column, then top to bottom
    for o in objects:
        o["box100"] = [int(round(100 * v)) for v in o["fbox"]]
    return {"seed": seed, "background": background, "noise": noise, "objects": objects}


def _tight_box(o):
    """The box of what is drawn (a star's lower points do not reach its layout box)."""
    if o["shape"] in ("circle", "square"):
        return o["layout"]
    pts = _polygon(o["shape"], o["layout"], o["rotation"])
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs), max(ys))


def _polygon(shape, box, rotation):
    x0, y0, x1, y1 = box
    cx, cy, rad = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
    if shape == "triangle":
        pts = [(cx, y0), (x1, y1), (x0, y1)]
        return pts
    if shape == "star":
        pts = []
        for k in range(10):
            a = -math.pi / 2 + rotation + k * math.pi / 5
            rr = rad if k % 2 == 0 else rad * 0.45
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        return pts
    raise ValueError(shape)


def render_large(scene, size):
    """The plain (noise-free) scene drawn at SUPER x size: the picture to ship. tinygptv's
    preprocessing (PIL-exact bicubic) reduces it to exactly what render() gives."""
    if scene["noise"]:
        raise ValueError("render_large: only for scenes without noise")
    return _draw(scene, size)


def render(scene, size):
    """The scene as a size x size RGB PIL image."""
    img = _draw(scene, size).resize((size, size), Image.BICUBIC)
    if scene["noise"]:
        rng = np.random.default_rng(scene["seed"])
        a = np.asarray(img).astype(np.float64) + rng.normal(0, scene["noise"], size=(size, size, 3))
        img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    return img


def _draw(scene, size):
    big = size * SUPER
    img = Image.new("RGB", (big, big), tuple(scene["background"]))
    d = ImageDraw.Draw(img)
    for o in scene["objects"]:
        box = [v * big for v in o["layout"]]
        colour = COLOURS[o["colour"]]
        if o["shape"] == "circle":
            d.ellipse(box, fill=colour)
        elif o["shape"] == "square":
            d.rectangle(box, fill=colour)
        else:
            d.polygon(_polygon(o["shape"], box, o["rotation"]), fill=colour)
    return img


def object_cover(scene, size, patch):
    """[n objects, (size / patch)^2] float32: the fraction of each patch (row-major, the
    ViT's order) that each object (left to right) covers, from a drawing at `size`
    (training targets for the auxiliary losses, not pixels the model sees)."""
    g = size // patch
    mask = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(mask)
    for k, o in enumerate(scene["objects"]):
        box = [v * size for v in o["layout"]]
        if o["shape"] == "circle":
            d.ellipse(box, fill=k + 1)
        elif o["shape"] == "square":
            d.rectangle(box, fill=k + 1)
        else:
            d.polygon(_polygon(o["shape"], box, o["rotation"]), fill=k + 1)
    m = np.asarray(mask)[: g * patch, : g * patch]
    ks = np.arange(1, len(scene["objects"]) + 1, dtype=np.uint8)[:, None, None]
    hit = (m[None] == ks).astype(np.float32).reshape(len(ks), g, patch, g, patch)
    return hit.mean((2, 4)).reshape(len(ks), g * g)


def ground_truth(scene):
    """The JSON-able ground truth: objects left to right with shape, colour, box100."""
    return {"seed": scene["seed"], "objects": [{"shape": o["shape"], "colour": o["colour"], "box": o["box100"]}
                                               for o in scene["objects"]]}


if __name__ == "__main__":
    out, n = sys.argv[1], int(sys.argv[2])
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    os.makedirs(out, exist_ok=True)
    for s in range(first, first + n):
        sc = make_scene(s)
        render(sc, int(sys.argv[4]) if len(sys.argv) > 4 else 84).save(os.path.join(out, f"scene_{s}.png"))
        with open(os.path.join(out, f"scene_{s}.json"), "w") as f:
            json.dump(ground_truth(sc), f)
