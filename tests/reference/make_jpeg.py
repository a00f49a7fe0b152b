#!/usr/bin/python3
"""JPEG decoder fixtures: a small corpus and what PIL makes of it.

    /usr/bin/python3 tests/reference/make_jpeg.py

Writes tests/data/jpeg/<name>.jpg and, for every file PIL decodes, <name>.npy =
np.asarray(Image.open(f).convert("RGB")) (uint8 [H, W, 3]) -- the independent
reference the decoder must match bit for bit (tests/jpeg/test_jpeg.cpp).
Files named bad_*.jpg must be refused with a tgv::Error; no .npy is written for
them even when PIL (whose libjpeg-turbo decodes arithmetic coding) accepts one.

Encoders: cjpeg/jpegtran (libjpeg-turbo-progs), ImageMagick `convert`, PIL, plus
byte patches done here (component ids, stripped DHT, YCCK transform flag, ...).
(Debian: apt-get install -y libjpeg-turbo-progs imagemagick python3-pil python3-numpy)
Sources are synthetic "photos" (smooth shading, sharp edges, noise) from a fixed
seed, so the corpus is reproducible and a few KB per file.
"""
import os
import random
import struct
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "jpeg")
TMP = tempfile.mkdtemp(prefix="tgv-jpeg-")


def synthetic(w, h, seed=1, gray=False):
    """A photo-like test picture: gradients, a disc and a bar with hard edges, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / max(w, 1) * 5.0 + seed) * np.cos(y / max(h, 1) * 3.0)
    g = 40 + 180 * (x + y) / max(w + h, 1)
    b = 200 - 150 * y / max(h, 1)
    disc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.25) ** 2
    r[disc], g[disc], b[disc] = 250, 30, 60
    bar = (x > w * 0.15) & (x < w * 0.3)
    g[bar] = 255 - g[bar]
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, (h, w, 3))
    img = np.clip(img, 0, 255).astype(np.uint8)
    if gray:
        return img[:, :, 1].copy()
    return img


def write_pnm(path, arr):
    if arr.ndim == 2:
        Image.fromarray(arr, "L").save(path)
    else:
        Image.fromarray(arr, "RGB").save(path)


def cjpeg(name, w, h, args, seed=1, gray=False, scans=None):
    src = os.path.join(TMP, f"{name}.{'pgm' if gray else 'ppm'}")
    write_pnm(src, synthetic(w, h, seed, gray))
    extra = []
    if scans is not None:
        script = os.path.join(TMP, f"{name}.scans")
        with open(script, "w") as f:
            f.write(scans)
        extra = ["-scans", script]
    out = os.path.join(OUT, name + ".jpg")
    subprocess.run(["cjpeg"] + args + extra + ["-outfile", out, src], check=True)
    return out


def segments(data):
    """(marker, start, end) of every marker segment before the first SOS's data."""
    out, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF
        m = data[i + 1]
        n = struct.unpack(">H", data[i + 2:i + 4])[0]
        out.append((m, i, i + 2 + n))
        if m == 0xDA:
            break
        i += 2 + n
    return out


def patch(name, src_name, fn):
    with open(os.path.join(OUT, src_name + ".jpg"), "rb") as f:
        data = bytearray(f.read())
    data = fn(data)
    with open(os.path.join(OUT, name + ".jpg"), "wb") as f:
        f.write(bytes(data))


def set_component_ids(ids):
    def fn(data):
        for m, s, e in segments(data):
            if m in (0xC0, 0xC1, 0xC2):
                for k in range(data[s + 9]):
                    data[s + 10 + 3 * k] = ids[k]
        # every SOS (progressive files have many): map old id k+1 -> ids[k]
        i = 2
        while i < len(data) - 1:
            if data[i] == 0xFF and data[i + 1] == 0xDA:
                n = data[i + 4]
                for k in range(n):
                    data[i + 5 + 2 * k] = ids[data[i + 5 + 2 * k] - 1]
                i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
            else:
                i += 1
        return data
    return fn


def strip_markers(markers):
    def fn(data):
        out = bytearray(data[:2])
        segs = segments(data)
        for m, s, e in segs:
            if m not in markers:
                out += data[s:e]
        out += data[segs[-1][2]:]
        return out
    return fn


def set_adobe_transform(t):
    def fn(data):
        for m, s, e in segments(data):
            if m == 0xEE and data[s + 4:s + 9] == b"Adobe":
                data[s + 15] = t
                return data
        raise RuntimeError("no Adobe segment")
    return fn


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".jpg", ".npy")):
            os.remove(os.path.join(OUT, f))

    W, H = 35, 27  # odd: partial MCUs on the right and bottom in every mode
    samplings = {
        "444": "1x1", "422": "2x1", "420": "2x2", "440": "1x2", "411": "4x1", "410": "4x2",
        "311": "3x1", "321": "3x2", "131": "1x3", "mix": "2x2,1x1,2x1", "mix2": "2x2,1x2,2x1",
        "lumalow": "1x1,2x2,2x2", "mix3": "2x1,1x2,1x1",
    }
    for tag, s in samplings.items():
        cjpeg(f"base_{tag}", W, H, ["-quality", "75", "-sample", s])
        cjpeg(f"prog_{tag}", W, H, ["-quality", "75", "-sample", s, "-progressive"], seed=2)
    for tag, s in [("420", "2x2"), ("422", "2x1"), ("440", "1x2")]:
        for w, h in [(1, 1), (2, 2), (3, 5), (1, 19), (19, 1), (17, 13), (4, 3)]:
            cjpeg(f"size_{tag}_{w}x{h}", w, h, ["-quality", "90", "-sample", s], seed=w * 7 + h)
    cjpeg("q1_420", 48, 40, ["-quality", "1"])
    cjpeg("q100_444", 48, 40, ["-quality", "100", "-sample", "1x1"])
    cjpeg("q100_420_prog", 48, 40, ["-quality", "100", "-progressive"])
    cjpeg("q50_opt", 48, 40, ["-quality", "50", "-optimize"])
    cjpeg("restart_rows", 48, 40, ["-quality", "80", "-restart", "1"])
    cjpeg("restart_mcu", 48, 40, ["-quality", "80", "-restart", "1B", "-sample", "2x1"])
    cjpeg("restart_prog", 48, 40, ["-quality", "80", "-restart", "2B", "-progressive"])
    cjpeg("restart_3b_444", 35, 27, ["-quality", "80", "-restart", "3B", "-sample", "1x1"])
    cjpeg("gray", 35, 27, ["-quality", "85", "-grayscale"], gray=True)
    cjpeg("gray_prog", 35, 27, ["-quality", "85", "-grayscale", "-progressive"], gray=True)
    cjpeg("gray_2x2", 35, 27, ["-quality", "85", "-grayscale", "-sample", "2x2"], gray=True)
    cjpeg("gray_1x1px", 1, 1, ["-quality", "85", "-grayscale"], gray=True)
    cjpeg("rgb", 35, 27, ["-quality", "85", "-rgb"])
    cjpeg("seq_multiscan", 35, 27, ["-quality", "80"], scans="0;\n1;\n2;\n")
    cjpeg("seq_twoscans", 35, 27, ["-quality", "80", "-sample", "2x1"], scans="0;\n1,2;\n")
    cjpeg("prog_custom", 35, 27, ["-quality", "90"], scans=(
        "0,1,2: 0-0, 0, 2;\n0: 1-9, 0, 1;\n2: 1-63, 0, 0;\n1: 1-63, 0, 0;\n"
        "0: 10-63, 0, 1;\n0,1,2: 0-0, 2, 1;\n0,1,2: 0-0, 1, 0;\n0: 1-63, 1, 0;\n"))
    cjpeg("prog_444_big", 80, 64, ["-quality", "92", "-progressive", "-sample", "1x1"], seed=5)
    cjpeg("base_420_big", 80, 64, ["-quality", "92"], seed=5)
    cjpeg("arith", 35, 27, ["-quality", "80", "-arithmetic"])
    os.rename(os.path.join(OUT, "arith.jpg"), os.path.join(OUT, "bad_arith.jpg"))

    # jpegtran: lossless re-layouts of an existing file
    subprocess.run(["jpegtran", "-progressive", "-outfile", os.path.join(OUT, "tran_prog_411.jpg"),
                    os.path.join(OUT, "base_411.jpg")], check=True)
    subprocess.run(["jpegtran", "-optimize", "-restart", "1B", "-outfile",
                    os.path.join(OUT, "tran_opt_rst_mix.jpg"), os.path.join(OUT, "base_mix.jpg")], check=True)

    # ImageMagick: Adobe CMYK (inverted), and a progressive one
    src = os.path.join(TMP, "cmyk.ppm")
    write_pnm(src, synthetic(35, 27, 9))
    subprocess.run(["convert", src, "-colorspace", "CMYK", "-quality", "85",
                    os.path.join(OUT, "cmyk_magick.jpg")], check=True)
    subprocess.run(["convert", src, "-colorspace", "CMYK", "-quality", "85", "-interlace", "JPEG",
                    "-sampling-factor", "2x2,1x1,1x1,2x2", os.path.join(OUT, "cmyk_magick_prog.jpg")], check=True)

    # PIL: CMYK (Adobe transform 0); patched to YCCK (transform 2) so the same
    # stored planes go through libjpeg's YCCK->CMYK path.
    cm = Image.fromarray(synthetic(35, 27, 11), "RGB").convert("CMYK")
    cm.save(os.path.join(OUT, "cmyk_pil.jpg"), quality=80)
    patch("ycck_pil", "cmyk_pil", set_adobe_transform(2))
    cm.save(os.path.join(OUT, "cmyk_pil_420.jpg"), quality=80, subsampling=2)
    patch("ycck_pil_420", "cmyk_pil_420", set_adobe_transform(2))

    # EXIF orientation 6: must NOT be applied (PIL's convert does not)
    ex = Image.Exif()
    ex[0x0112] = 6
    Image.fromarray(synthetic(35, 27, 13), "RGB").save(
        os.path.join(OUT, "exif_orient6.jpg"), quality=85, exif=ex.tobytes())
    Image.fromarray(synthetic(35, 27, 14), "RGB").save(
        os.path.join(OUT, "pil_q95_444.jpg"), quality=95, subsampling=0)

    # byte patches
    patch("ids_012", "base_420", set_component_ids([0, 1, 2]))
    patch("ids_012_prog", "prog_420", set_component_ids([0, 1, 2]))
    patch("ids_rgb_letters", "base_444", set_component_ids([82, 71, 66]))  # 'R','G','B': stored as RGB
    patch("no_dht", "base_420", strip_markers({0xC4}))  # standard Annex K tables
    patch("no_jfif_ids_odd", "base_422", lambda d: set_component_ids([7, 9, 200])(strip_markers({0xE0})(d)))
    patch("junk_before_marker", "base_444", lambda d: d[:20] + b"\x00\x12\xff\xff" + d[20:])

    # colour-space rules (libjpeg's default_decompress_parms)
    patch("cmyk_no_adobe", "cmyk_pil", strip_markers({0xEE}))          # 4 comps, no Adobe: CMYK
    patch("adobe_t7_4comp", "cmyk_pil", set_adobe_transform(7))        # unknown transform: YCCK
    patch("adobe_t5_3comp", "rgb", set_adobe_transform(5))             # unknown transform: YCbCr
    jfif = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    patch("rgb_with_jfif", "rgb", lambda d: d[:2] + jfif + d[2:])        # JFIF wins over Adobe: YCbCr

    # truncated but ending in EOI: libjpeg fills the rest with grey (PIL decodes it)
    for base, cut in [("base_420_big", 0.6), ("prog_444_big", 0.7), ("restart_rows", 0.5)]:
        patch(f"cut_eoi_{base}", base, lambda d, cut=cut: (lambda e: d[:e + int((len(d) - e) * cut)])(
            segments(d)[-1][2]) + b"\xff\xd9")

    # progressive files whose coefficients are not all refined: libjpeg's block smoothing
    cjpeg("prog_dc_only", 40, 32, ["-quality", "85"], seed=21, scans="0,1,2: 0-0, 0, 0;\n")
    cjpeg("prog_partial_ac", 40, 32, ["-quality", "85", "-sample", "1x1"], seed=22,
          scans="0,1,2: 0-0, 0, 0;\n0: 1-5, 0, 0;\n1: 1-63, 0, 0;\n2: 1-63, 0, 0;\n")
    cjpeg("prog_sa_unrefined", 40, 32, ["-quality", "85"], seed=23,
          scans="0,1,2: 0-0, 0, 1;\n0: 1-63, 0, 2;\n1: 1-63, 0, 1;\n2: 1-63, 0, 1;\n")
    cjpeg("prog_narrow_16", 16, 40, ["-quality", "85", "-progressive", "-sample", "1x1"], seed=24)
    cjpeg("prog_narrow_9", 9, 40, ["-quality", "85", "-progressive"], seed=25)
    cjpeg("prog_gray_cut", 40, 40, ["-quality", "85", "-progressive", "-grayscale"], seed=26, gray=True)
    cjpeg("prog_420_cut", 64, 48, ["-quality", "85", "-progressive"], seed=27)
    cjpeg("prog_422_rst_cut", 64, 48, ["-quality", "85", "-progressive", "-sample", "2x1", "-restart", "3B"], seed=28)
    for base, cuts in [("prog_420_cut", [0.1, 0.3, 0.55, 0.85]), ("prog_narrow_16", [0.4]),
                       ("prog_narrow_9", [0.45]), ("prog_gray_cut", [0.5]), ("prog_422_rst_cut", [0.35, 0.7]),
                       ("base_420_big", [0.2])]:
        for cut in cuts:
            patch(f"cut_eoi_{base}_{int(cut * 100)}", base, lambda d, cut=cut: (lambda e: d[:e + int((len(d) - e) * cut)])(
                segments(d)[-1][2]) + b"\xff\xd9")
    for f in ("prog_420_cut", "prog_narrow_16", "prog_narrow_9", "prog_gray_cut", "prog_422_rst_cut"):
        os.remove(os.path.join(OUT, f + ".jpg"))

    # damaged restart markers: libjpeg resynchronises (jpeg_resync_to_restart)
    def rst_edit(fn):
        def apply(d):
            sos = segments(d)[-1][2]
            idx = [i for i in range(sos, len(d) - 1) if d[i] == 0xFF and 0xD0 <= d[i + 1] <= 0xD7]
            return fn(d, idx)
        return apply
    patch("rst_renumbered", "restart_rows", rst_edit(lambda d, idx: d[:idx[1] + 1] + bytes([0xD5]) + d[idx[1] + 2:]))
    patch("rst_missing", "restart_mcu", rst_edit(lambda d, idx: d[:idx[2]] + d[idx[2] + 2:]))
    patch("rst_junk_before", "restart_mcu", rst_edit(lambda d, idx: d[:idx[3]] + b"\x12\x34" + d[idx[3]:]))

    # damaged entropy-coded data (random bytes overwritten): libjpeg decodes on with
    # warnings, and extreme coefficients exercise the IDCT's 16-bit SIMD behaviour
    rng = random.Random(2024)
    for base in ["base_420", "prog_444", "gray", "restart_mcu", "q1_420", "base_422", "q100_444", "prog_mix"]:
        for j in range(2):
            def damage(d):
                e = segments(d)[-1][2]
                d = bytearray(d)
                for _ in range(rng.randint(1, 3)):
                    d[rng.randrange(e, len(d) - 2)] = rng.randrange(256)
                return d
            patch(f"damaged_{base}_{j}", base, damage)

    # must be refused
    patch("bad_truncated", "base_420", lambda d: d[:len(d) // 2])
    patch("bad_no_eoi", "base_420", lambda d: d[:-2])
    patch("bad_12bit", "base_444", lambda d: d[:segments(d)[[m for m, _, _ in segments(d)].index(0xC0)][1] + 4]
          + b"\x0c" + d[segments(d)[[m for m, _, _ in segments(d)].index(0xC0)][1] + 5:])
    def to_marker(new):
        def fn(d):
            for m, s, e in segments(d):
                if m == 0xC0:
                    d[s + 1] = new
            return d
        return fn
    patch("bad_lossless_sof3", "base_444", to_marker(0xC3))
    patch("bad_zero_width", "base_444", lambda d: (lambda s: d[:s + 7] + b"\x00\x00" + d[s + 9:])(
        [s for m, s, e in segments(d) if m == 0xC0][0]))
    patch("bad_huge", "base_444", lambda d: (lambda s: d[:s + 5] + b"\xff\xdc\xff\xdc" + d[s + 9:])(
        [s for m, s, e in segments(d) if m == 0xC0][0]))
    patch("bad_no_sof", "base_444", strip_markers({0xC0}))

    n_ok = n_bad = 0
    for f in sorted(os.listdir(OUT)):
        if not f.endswith(".jpg"):
            continue
        path = os.path.join(OUT, f)
        if f.startswith("bad_"):
            n_bad += 1
            continue
        try:
            with Image.open(path) as im:
                arr = np.asarray(im.convert("RGB"))
        except Exception as e:
            if f.startswith("damaged_"):  # damage that PIL refuses too: nothing to compare
                os.remove(path)
                continue
            raise RuntimeError(f"PIL cannot decode {f}: {e}")
        np.save(path[:-4] + ".npy", arr)
        n_ok += 1
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"jpeg: {n_ok} decodable files, {n_bad} bad files, {total} bytes in {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
