"""Fixtures for the image stage (tests/image, tests/compress): PNG decoding, PIL's
BICUBIC resize, torchvision preprocessing, and zlib streams.

Run with Debian's Python (PIL 9.4, torchvision, numpy):  /usr/bin/python3 tests/reference/make_image.py

Writes (all small, committed):
  tests/data/image/png/NAME.png + NAME.npy    PNGs of every colour type/depth/interlace/filter,
                                             and PIL's np.asarray(Image.open(f).convert("RGB"))
  tests/data/image/bad/NAME.png               files PIL refuses (the decoder must throw)
  tests/data/image/resize/SRC.png + SRC__WxH.npy   PIL Image.resize((W, H), BICUBIC), uint8 [H,W,3]
  tests/data/image/resize/SRC__prepS.npy      torchvision Resize((S,S), BICUBIC)+ToTensor+Normalize, f32 [3,S,S]
  tests/data/compress/NAME.bin + NAME.z / NAME.deflate   zlib/raw DEFLATE streams from Python's zlib
The PNG files are written by a small writer below (so every filter type, IDAT split
and Adam7 pass is exercised on purpose), by PIL and by ImageMagick; the expected
arrays always come from PIL, never from tinygptv.
"""
import io
import os
import random
import shutil
import struct
import subprocess
import warnings
import zlib

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
PNG_DIR = os.path.join(ROOT, "image", "png")
BAD_DIR = os.path.join(ROOT, "image", "bad")
RESIZE_DIR = os.path.join(ROOT, "image", "resize")
ZDIR = os.path.join(ROOT, "compress")
rng = random.Random(1234)
nprng = np.random.default_rng(1234)

# ---------------------------------------------------------------- a small PNG writer


def chunk(ctype, data, crc=None):
    c = zlib.crc32(ctype + data) if crc is None else crc
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", c & 0xFFFFFFFF)


def pack_row(samples, depth):
    """samples: 1-D array of ints (already interleaved channels) -> packed bytes."""
    if depth == 8:
        return bytes(int(v) for v in samples)
    if depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    out, acc, n = bytearray(), 0, 0
    for v in samples:
        acc = (acc << depth) | int(v)
        n += depth
        if n == 8:
            out.append(acc)
            acc, n = 0, 0
    if n:
        out.append(acc << (8 - n))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(ftype, row, prior, bpp):
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prior[i]
        c = prior[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
        out[i] = (row[i] - pred) & 0xFF
    return bytes([ftype]) + bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def raw_stream(pix, depth, channels, interlace, filters):
    """pix: int array [H, W, C] of samples. filters: callable(row_index) -> filter type."""
    h, w = pix.shape[:2]
    bpp = max(1, channels * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    out, k = bytearray(), 0
    for x0, y0, dx, dy in passes:
        sub = pix[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prior = bytes(len(pack_row(sub[0].reshape(-1), depth)))
        for r in sub:
            row = pack_row(r.reshape(-1), depth)
            out += filter_row(filters(k), row, prior, bpp)
            prior = row
            k += 1
    return bytes(out)


def write_png(w, h, ct, depth, pix, interlace=0, filters=lambda k: k % 5, plte=None, trns=None,
              idat_splits=None, level=6, strategy=zlib.Z_DEFAULT_STRATEGY, extra_pre=b"", tail=True, idat_crc=None,
              zdata=None):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
    if zdata is None:
        raw = raw_stream(pix, depth, channels, interlace, filters)
        co = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
        zdata = co.compress(raw) + co.flush()
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ct, 0, 0, interlace))
    out += extra_pre
    if plte is not None:
        out += chunk(b"PLTE", plte)
    if trns is not None:
        out += chunk(b"tRNS", trns)
    pieces = [zdata]
    if idat_splits:
        pieces, start = [], 0
        for s in idat_splits + [len(zdata)]:
            pieces.append(zdata[start:s])
            start = s
    for i, p in enumerate(pieces):
        out += chunk(b"IDAT", p, crc=idat_crc if i == 0 else None)
    if tail:
        out += chunk(b"IEND", b"")
    return out


def random_pix(h, w, c, depth):
    return nprng.integers(0, 1 << depth, size=(h, w, c), dtype=np.int64)


def smooth_pix(h, w, c, depth):
    """Gradients plus a little noise: compressible, exercises the filters' predictions."""
    y, x = np.mgrid[0:h, 0:w]
    top = (1 << depth) - 1
    chans = []
    for k in range(c):
        v = (x * (k + 1) * 7 + y * (3 + k) * 5) % (top + 1)
        v = np.clip(v + nprng.integers(-1, 2, size=v.shape), 0, top)
        chans.append(v)
    return np.stack(chans, axis=-1).astype(np.int64)


# ---------------------------------------------------------------- PNG corpus

def pil_rgb(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def save_good(name, data):
    arr = pil_rgb(data)  # the reference: PIL's own decoder
    with open(os.path.join(PNG_DIR, name + ".png"), "wb") as f:
        f.write(data)
    np.save(os.path.join(PNG_DIR, name + ".npy"), arr)


def save_bad(name, data):
    try:
        Image.open(io.BytesIO(data)).convert("RGB")
    except Exception:
        pass
    else:
        raise SystemExit(f"bad fixture {name} is accepted by PIL")
    with open(os.path.join(BAD_DIR, name + ".png"), "wb") as f:
        f.write(data)


COMBOS = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8),
          (4, 8), (4, 16), (6, 8), (6, 16)]
CH = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def make_png_corpus():
    for ct, depth in COMBOS:
        for interlace in (0, 1):
            w, h = 17, 13
            pix = (random_pix if (ct + depth) % 2 else smooth_pix)(h, w, CH[ct], depth)
            plte = None
            if ct == 3:
                n = 1 << depth
                plte = bytes(nprng.integers(0, 256, size=3 * n, dtype=np.int64).tolist())
            save_good(f"ct{ct}_d{depth}_i{interlace}", write_png(w, h, ct, depth, pix, interlace, plte=plte))
    # Each filter type alone, on every layout with a different bytes-per-pixel.
    for ct, depth in [(0, 8), (2, 8), (2, 16), (4, 8), (6, 16), (0, 2)]:
        for ftype in range(5):
            pix = smooth_pix(9, 11, CH[ct], depth)
            save_good(f"filter{ftype}_ct{ct}_d{depth}", write_png(11, 9, ct, depth, pix, filters=lambda k, f=ftype: f))
    # Odd sizes, interlaced and not (Adam7 passes that are empty).
    for w, h in [(1, 1), (1, 7), (9, 1), (2, 3), (3, 2), (5, 5), (8, 8), (33, 1)]:
        for interlace in (0, 1):
            pix = random_pix(h, w, 3, 8)
            save_good(f"size{w}x{h}_i{interlace}", write_png(w, h, 2, 8, pix, interlace))
        pix = random_pix(h, w, 1, 1)
        save_good(f"size{w}x{h}_g1_i1", write_png(w, h, 0, 1, pix, 1))
    # 16-bit grey: PIL clamps (mode "I"), it does not take the high byte.
    vals = np.array([0, 1, 127, 254, 255, 256, 300, 4095, 32768, 65535, 65280, 511], dtype=np.int64)
    pix = np.tile(vals, (3, 1)).reshape(3, 12, 1)
    save_good("grey16_clamp", write_png(12, 3, 0, 16, pix))
    save_good("grey16_clamp_trns", write_png(12, 3, 0, 16, pix, trns=b"\x01\x00"))
    # tRNS on grey, RGB and palette (alpha dropped, never composited).
    save_good("trns_grey8", write_png(7, 5, 0, 8, smooth_pix(5, 7, 1, 8), trns=b"\x00\x10"))
    save_good("trns_grey2", write_png(7, 5, 0, 2, random_pix(5, 7, 1, 2), trns=b"\x00\x01"))
    save_good("trns_rgb8", write_png(7, 5, 2, 8, smooth_pix(5, 7, 3, 8), trns=b"\x00\x10\x00\x20\x00\x30"))
    save_good("trns_rgb16", write_png(7, 5, 2, 16, smooth_pix(5, 7, 3, 16), trns=b"\x00\x10\x00\x20\x00\x30"))
    plte = bytes(nprng.integers(0, 256, size=48, dtype=np.int64).tolist())
    save_good("trns_palette", write_png(7, 5, 3, 4, random_pix(5, 7, 1, 4), plte=plte, trns=bytes([0, 128, 255, 7])))
    # Palette quirks: indices past a short PLTE read PIL's grey ramp; no PLTE at all;
    # a PLTE whose length is not a multiple of 3; a full 256-entry PLTE.
    short = bytes([10, 20, 30, 40, 50, 60, 70, 80, 90])
    save_good("palette_short", write_png(16, 4, 3, 8, np.arange(64).reshape(4, 16, 1) * 4 % 256, plte=short))
    save_good("palette_missing", write_png(16, 4, 3, 8, np.arange(64).reshape(4, 16, 1) * 3 % 256))
    save_good("palette_len_not_mult3", write_png(8, 1, 3, 4, np.arange(8).reshape(1, 8, 1), plte=short + b"\x05"))
    full = bytes(nprng.integers(0, 256, size=768, dtype=np.int64).tolist())
    save_good("palette_twice", write_png(8, 1, 3, 8, np.arange(8).reshape(1, 8, 1), plte=bytes([9, 9, 9]),
                                         extra_pre=chunk(b"PLTE", bytes(range(100, 124)))))  # the second replaces the first
    save_good("palette_256", write_png(16, 16, 3, 8, np.arange(256).reshape(16, 16, 1), plte=full, interlace=1))
    # IDAT split into many chunks, empty ones included; zlib levels and strategies.
    pix = smooth_pix(13, 17, 3, 8)
    save_good("idat_split", write_png(17, 13, 2, 8, pix, idat_splits=[0, 1, 2, 2, 7, 100, 101]))
    save_good("idat_one_byte_each", write_png(5, 3, 2, 8, random_pix(3, 5, 3, 8), level=0,
                                              idat_splits=list(range(1, 60))))
    for level in (0, 1, 9):
        save_good(f"zlevel{level}", write_png(17, 13, 6, 8, smooth_pix(13, 17, 4, 8), level=level))
    save_good("zfixed", write_png(17, 13, 2, 8, pix, strategy=zlib.Z_FIXED))
    save_good("zhuffman_only", write_png(17, 13, 2, 8, pix, strategy=zlib.Z_HUFFMAN_ONLY))
    save_good("zrle", write_png(17, 13, 2, 8, pix, strategy=zlib.Z_RLE))
    big = smooth_pix(70, 90, 3, 8)
    save_good("multi_block", write_png(90, 70, 2, 8, big, level=9))  # several dynamic blocks
    # What PIL tolerates: bad CRC on an IDAT, no IEND, ancillary chunks, data after the rows.
    save_good("idat_bad_crc", write_png(5, 4, 2, 8, random_pix(4, 5, 3, 8), idat_crc=0x1234))
    save_good("no_iend", write_png(5, 4, 2, 8, random_pix(4, 5, 3, 8), tail=False))
    anc = chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"tEXt", b"Comment\x00hello") + chunk(b"bKGD", b"\x00\x01\x00\x02\x00\x03")
    anc += chunk(b"sBIT", b"\x05\x06\x05") + chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)) + chunk(b"prVt", b"xyz")
    save_good("ancillary_chunks", write_png(5, 4, 2, 8, random_pix(4, 5, 3, 8), extra_pre=anc))
    raw = raw_stream(random_pix(2, 3, 3, 8), 8, 3, 0, lambda k: 0)
    save_good("extra_rows_in_stream", write_png(3, 2, 2, 8, None, zdata=zlib.compress(raw + bytes(50))))
    # zlib stream cut after the last row (no end-of-block/Adler): zlib waits, PIL is done.
    co = zlib.compressobj(0)
    cut = co.compress(raw) + co.flush(zlib.Z_SYNC_FLUSH)  # stored blocks, no final block
    save_good("stream_without_end", write_png(3, 2, 2, 8, None, zdata=cut))
    # Files written by PIL itself and by ImageMagick (libpng).
    rgb = smooth_pix(21, 19, 3, 8).astype(np.uint8)
    for mode in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16"):
        im = Image.fromarray(rgb)
        if mode == "P":
            im = im.quantize(37)
        elif mode == "I;16":
            im = Image.fromarray((smooth_pix(21, 19, 1, 16)[..., 0]).astype(np.uint16))
        elif mode != "RGB":
            im = im.convert(mode)
        b = io.BytesIO()
        im.save(b, "PNG", optimize=True)
        save_good("pil_" + mode.replace(";", ""), b.getvalue())
    # APNG: the IDAT image is frame 0; acTL/fcTL before it are checked by PIL.
    frames = [Image.fromarray(smooth_pix(9, 11, 3, 8).astype(np.uint8)) for _ in range(3)]
    b = io.BytesIO()
    frames[0].save(b, "PNG", save_all=True, append_images=frames[1:], duration=100)
    save_good("pil_apng", b.getvalue())
    actl = chunk(b"acTL", struct.pack(">II", 1, 0))

    def fctl(seq, w, h, x, y):
        return chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, w, h, x, y, 1, 1, 0, 0))

    apix = random_pix(4, 5, 3, 8)
    save_good("apng_one_frame", write_png(5, 4, 2, 8, apix, extra_pre=actl + fctl(0, 5, 4, 0, 0)))
    save_bad("apng_bad_sequence", write_png(5, 4, 2, 8, apix, extra_pre=actl + fctl(1, 5, 4, 0, 0)))
    save_bad("apng_frame_outside", write_png(5, 4, 2, 8, apix, extra_pre=actl + fctl(0, 6, 4, 0, 0)))
    save_bad("apng_short_fctl", write_png(5, 4, 2, 8, apix, extra_pre=actl + chunk(b"fcTL", bytes(20))))
    save_bad("apng_short_actl", write_png(5, 4, 2, 8, apix, extra_pre=chunk(b"acTL", bytes(4))))
    if shutil.which("convert"):
        for name, args in [("magick_rose", ["rose:"]), ("magick_rose_interlaced", ["rose:", "-interlace", "PNG"]),
                           ("magick_rose_grey", ["rose:", "-colorspace", "Gray"]),
                           ("magick_rose_palette", ["rose:", "-colors", "20", "PNG8:-"]),
                           ("magick_rose_rgb48", ["rose:", "-depth", "16", "PNG48:-"]),
                           ("magick_rose_rgba64", ["rose:", "-alpha", "set", "-depth", "16", "PNG64:-"])]:
            cmd = ["convert"] + args[:1] + ["-define", "png:exclude-chunk=date,time"] + args[1:] + ([] if args[-1].endswith(":-") else ["PNG:-"])
            save_good(name, subprocess.run(cmd, check=True, capture_output=True).stdout)

    # ------------------------------------------------ files PIL refuses
    ok = write_png(5, 4, 2, 8, random_pix(4, 5, 3, 8))
    save_bad("empty", b"")
    save_bad("signature_only", ok[:8])
    save_bad("bad_signature", b"\x89PNG\r\n\x1a\x0a"[:7] + b"\x00" + ok[8:])
    save_bad("ihdr_bad_crc", ok[:29] + b"\x00\x00\x00\x00" + ok[33:])
    save_bad("zero_width", write_png(0, 4, 2, 8, np.zeros((4, 0, 3), dtype=np.int64)))
    save_bad("bad_colour_type", ok[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 4, 8, 1, 0, 0, 0)) + ok[33:])
    save_bad("bad_depth", ok[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 4, 3, 2, 0, 0, 0)) + ok[33:])
    save_bad("rgb_depth4", ok[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 4, 4, 2, 0, 0, 0)) + ok[33:])
    save_bad("bad_filter_method", ok[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 4, 8, 2, 0, 1, 0)) + ok[33:])
    save_bad("truncated_header", ok[:20])
    save_bad("truncated_idat", ok[:len(ok) - 30])
    save_bad("no_idat", ok[:33] + chunk(b"IEND", b""))
    save_bad("bad_filter_type", write_png(5, 4, 2, 8, random_pix(4, 5, 3, 8), filters=lambda k: 0,
                                          zdata=zlib.compress(b"\x07" + bytes(15) + bytes(48))))
    save_bad("short_stream", write_png(5, 4, 2, 8, None, zdata=zlib.compress(bytes(40))))
    save_bad("bad_adler", write_png(5, 4, 2, 8, None, zdata=zlib.compress(bytes(64))[:-4] + b"\0\0\0\0"))
    save_bad("bad_zlib_header", write_png(5, 4, 2, 8, None, zdata=b"\x78\x00" + zlib.compress(bytes(64))[2:]))
    save_bad("bad_deflate_block", write_png(5, 4, 2, 8, None, zdata=b"\x78\x9c\x07" + bytes(20)))
    save_bad("text_bad_crc", ok[:33] + chunk(b"tEXt", b"a\x00b", crc=7) + ok[33:])
    save_bad("grey_trns_short", write_png(3, 3, 0, 8, random_pix(3, 3, 1, 8), trns=b"\x00"))
    save_bad("palette_too_long", write_png(3, 3, 3, 8, random_pix(3, 3, 1, 8), plte=bytes(771)))
    save_bad("bomb", ok[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)) + ok[33:])
    save_bad("bad_chunk_type", ok[:37] + b"I@AT" + ok[41:])


# ---------------------------------------------------------------- resize + preprocess

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def make_resize():
    sources = {
        "noise37x29": nprng.integers(0, 256, size=(29, 37, 3), dtype=np.int64).astype(np.uint8),
        "smooth64x48": smooth_pix(48, 64, 3, 8).astype(np.uint8),
        "col1x23": nprng.integers(0, 256, size=(23, 1, 3), dtype=np.int64).astype(np.uint8),
        "row31x1": nprng.integers(0, 256, size=(1, 31, 3), dtype=np.int64).astype(np.uint8),
        "tiny2x2": np.array([[[0, 255, 0], [255, 0, 255]], [[255, 255, 255], [0, 0, 0]]], dtype=np.uint8),
    }
    if shutil.which("convert"):
        rose = subprocess.run(["convert", "rose:", "PNG:-"], check=True, capture_output=True).stdout
        sources["rose70x46"] = pil_rgb(rose)
    targets = {
        "noise37x29": [(40, 31), (74, 58), (13, 11), (37, 5), (5, 29), (1, 1), (36, 30), (200, 3)],
        "smooth64x48": [(24, 24), (17, 100), (64, 47), (7, 9), (128, 96)],
        "col1x23": [(1, 50), (5, 5), (3, 1)],
        "row31x1": [(12, 1), (31, 4), (70, 2)],
        "tiny2x2": [(3, 3), (5, 2), (1, 1), (16, 16)],
        "rose70x46": [(112, 112), (23, 23), (70, 20), (448, 2)],
    }
    prep_sizes = {"noise37x29": [16, 33], "smooth64x48": [24], "rose70x46": [14, 56], "tiny2x2": [7]}
    for name, arr in sources.items():
        src = Image.fromarray(arr, "RGB")
        src.save(os.path.join(RESIZE_DIR, name + ".png"))
        for w, h in targets[name]:
            out = np.asarray(src.resize((w, h), Image.BICUBIC))
            np.save(os.path.join(RESIZE_DIR, f"{name}__{w}x{h}.npy"), out)
        for s in prep_sizes.get(name, []):
            t = transforms.Compose([transforms.Resize((s, s), interpolation=transforms.InterpolationMode.BICUBIC),
                                    transforms.ToTensor(), transforms.Normalize(MEAN, STD)])(src)
            # torchvision's Resize on a PIL image is PIL's resize: check, do not assume.
            pil = np.asarray(src.resize((s, s), Image.BICUBIC))
            assert np.array_equal(np.round(t.numpy() * np.array(STD)[:, None, None] * 255 +
                                           np.array(MEAN)[:, None, None] * 255).astype(np.int64).transpose(1, 2, 0), pil)
            np.save(os.path.join(RESIZE_DIR, f"{name}__prep{s}.npy"), t.numpy().astype(np.float32))


# ---------------------------------------------------------------- zlib streams

def make_compress():
    text = (open(__file__, "rb").read() * 3)[:12000]
    noise = bytes(nprng.integers(0, 256, size=5000, dtype=np.int64).tolist())
    runs = b"".join(bytes([rng.randrange(4)]) * rng.randrange(1, 300) for _ in range(80))
    datasets = {"text": text, "noise": noise, "runs": runs, "empty": b"", "one": b"x"}
    for dname, data in datasets.items():
        with open(os.path.join(ZDIR, dname + ".bin"), "wb") as f:
            f.write(data)
        for tag, level, strategy in [("l0", 0, zlib.Z_DEFAULT_STRATEGY), ("l1", 1, zlib.Z_DEFAULT_STRATEGY),
                                     ("l9", 9, zlib.Z_DEFAULT_STRATEGY), ("fixed", 6, zlib.Z_FIXED),
                                     ("huff", 6, zlib.Z_HUFFMAN_ONLY), ("rle", 6, zlib.Z_RLE)]:
            co = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
            with open(os.path.join(ZDIR, f"{dname}.{tag}.z"), "wb") as f:
                f.write(co.compress(data) + co.flush())
        co = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw DEFLATE, then 3 bytes that are not part of it
        with open(os.path.join(ZDIR, f"{dname}.deflate"), "wb") as f:
            f.write(co.compress(data) + co.flush() + b"END")
    # Many small blocks: Z_FULL_FLUSH between pieces (stored empty blocks appear).
    co = zlib.compressobj(6)
    z = b"".join(co.compress(text[i:i + 777]) + co.flush(zlib.Z_FULL_FLUSH) for i in range(0, len(text), 777)) + co.flush()
    with open(os.path.join(ZDIR, "text.flushed.z"), "wb") as f:
        f.write(z)


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # PIL's note about palette transparency
    for d in (PNG_DIR, BAD_DIR, RESIZE_DIR, ZDIR):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    make_png_corpus()
    make_resize()
    make_compress()
    print("image fixtures written")
