"""Questions and answers about a scene, in TinyGPT-V's prompt templates (model.md section 7,
the strings src/pipeline/chat.cpp writes for one question about one image):

  stage 4 (minigptv2):  "<s>[INST] <Img><ImageHere></Img> [task] question [/INST]"  answer " ..."
  stages 1-3 (minigpt4): "Give the following image: <Img>ImageContent</Img>. You will be able to see
                          the image once I provide it to you. Please answer my questions.###Human: "
                          "<Img><ImageHere></Img> question###Assistant: "           answer "..."

The prompt is split at <ImageHere> into the text before and after (each tokenised on
its own, as the C++ does); the answer is what the model learns to generate, then
<|endoftext|>.

Kinds (stage 4 tag, question -> answer):
  colour     [vqa] What color is the square?          -> red          (the shape occurs once)
  count      [vqa] How many shapes are there?         -> 3
  exists     [vqa] Is there a star?                   -> yes / no     (half and half)
  shape      [vqa] What shape is the red one?         -> circle       (the colour occurs once)
  caption    [caption] Describe this image.           -> a red circle and a blue star
  grounding  [grounding] describe this image          -> <p>red circle</p>{<x0><y0><x1><y1>}<delim><p>blue star</p>{...}
  refer      [refer] the red circle                   -> {<x0><y0><x1><y1>}
Objects are always listed left to right. Stages 1-3 get the first five kinds, untagged.
"""
import random

from scenes import SHAPES

STAGE4_BEFORE = "<s>[INST] <Img>"
STAGE4_AFTER = "</Img> {question} [/INST]"
STAGE3_BEFORE = ("Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I "
                 "provide it to you. Please answer my questions.###Human: <Img>")
STAGE3_AFTER = "</Img> {question}###Assistant: "

KINDS4 = ("colour", "count", "exists", "shape", "caption", "grounding", "refer")
WEIGHTS4 = (14, 11, 14, 13, 10, 22, 16)
KINDS3 = ("colour", "count", "exists", "shape", "caption")
STAGE3_SHARE = 0.1


def box_text(box):
    return "{" + "".join(f"<{v}>" for v in box) + "}"


def caption(objects):
    names = [f"a {o['colour']} {o['shape']}" for o in objects]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def grounding(objects):
    return "<delim>".join(f"<p>{o['colour']} {o['shape']}</p>{box_text(o['box100'])}" for o in objects)


def question(kind, scene, r):
    """(task tag, question, answer) of `kind` for the scene, or None when it does not apply."""
    objs = scene["objects"]
    if kind == "colour":
        unique = [o for o in objs if sum(p["shape"] == o["shape"] for p in objs) == 1]
        if not unique:
            return None
        o = r.choice(unique)
        return "vqa", f"What color is the {o['shape']}?", o["colour"]
    if kind == "count":
        return "vqa", "How many shapes are there?", str(len(objs))
    if kind == "exists":
        present = sorted({o["shape"] for o in objs})
        absent = [s for s in SHAPES if s not in present]
        if absent and r.random() < 0.5:
            return "vqa", f"Is there a {r.choice(absent)}?", "no"
        return "vqa", f"Is there a {r.choice(present)}?", "yes"
    if kind == "shape":
        unique = [o for o in objs if sum(p["colour"] == o["colour"] for p in objs) == 1]
        if not unique:
            return None
        o = r.choice(unique)
        return "vqa", f"What shape is the {o['colour']} one?", o["shape"]
    if kind == "caption":
        return "caption", "Describe this image.", caption(objs)
    if kind == "grounding":
        return "grounding", "describe this image", grounding(objs)
    if kind == "refer":
        o = r.choice(objs)
        return "refer", f"the {o['colour']} {o['shape']}", box_text(o["box100"])
    raise ValueError(kind)


def prompt(stage4, tag, q):
    """(text before <ImageHere>, text after, answer prefix) for one question."""
    if stage4:
        return STAGE4_BEFORE, STAGE4_AFTER.format(question=f"[{tag}] {q}"), " "
    return STAGE3_BEFORE, STAGE3_AFTER.format(question=q), ""


def sample(scene, r):
    """One training example for the scene: dict with before, after, answer (text), kind."""
    stage4 = r.random() >= STAGE3_SHARE
    while True:
        kind = r.choices(KINDS4, WEIGHTS4)[0] if stage4 else r.choice(KINDS3)
        qa = question(kind, scene, r)
        if qa:
            break
    tag, q, a = qa
    before, after, lead = prompt(stage4, tag, q)
    return {"before": before, "after": after, "answer": lead + a, "kind": kind, "stage4": stage4}


def all_questions(scene, seed):
    """Every kind's stage-4 question once (for evaluation), [(kind, tag, question, answer)]."""
    r = random.Random(seed)
    out = []
    for kind in KINDS4:
        qa = question(kind, scene, r)
        if qa:
            out.append((kind,) + qa)
    return out
