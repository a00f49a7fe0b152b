"""Shared helpers for the fixture generators (tests/reference/make_*.py).

Written from the format descriptions alone (safetensors: 8-byte little-endian
header length, JSON header, raw bytes; .npy via numpy), so the fixtures do not
depend on the C++ code they test. Run with Debian's /usr/bin/python3 (torch, numpy).

Stable API (other generators import these; keep the names):

  DTYPES                                   {"F32", "F16", "BF16"}
  round_to_dtype(a, dtype) -> np.float64   the values as they are stored in `dtype`
  tensor_bytes(a, dtype) -> bytes          little-endian raw bytes of `a` in `dtype`
  write_safetensors(path, tensors, metadata=None, extra_dtypes=None)
        tensors: list of (name, array, dtype) in file order; data 64-byte aligned;
        extra_dtypes: {dtype name: function array -> raw bytes} for other dtypes
        (tools/train/ writes Q8_0 this way)
  save_npy(path, a)                        float32 little-endian C-order .npy
  full_config(llm=None, vision=None, qformer=None, projector=None) -> dict
        the model-file config (interface.md) with every section; given sections
        override the real model's values key by key
  config_json(cfg) -> str                  the __metadata__["config"] string
  Rand(seed)                               seeded random weights:
        .matrix(out, inp)     N(0, 1/inp)       a Linear weight [out, inp]
        .bias(n)              N(0, 0.1^2)       never all zero
        .norm_weight(n)       1 + N(0, 0.2^2)   never all one, so norm bugs show
        .normal(shape, std)   N(0, std^2)
        .ints(n, low, high)   n ids in [low, high)
"""
import json
import struct

import numpy as np
import torch

DTYPES = ("F32", "F16", "BF16")

# The real model's config (interface.md).
REAL_CONFIG = {
    "vision": {"image_size": 224, "patch_size": 14, "width": 1408, "layers": 39, "heads": 16,
               "mlp_dim": 6144, "ln_eps": 1e-6, "ln_vision_eps": 1e-5},
    "qformer": {"hidden": 768, "layers": 12, "heads": 12, "intermediate": 3072,
                "cross_attention_freq": 2, "query_tokens": 32, "ln_eps": 1e-12},
    "projector": {"mid": 4096},
    "llm": {"vocab_size": 51200, "hidden": 2560, "layers": 32, "heads": 32, "intermediate": 10240,
            "rotary_dim": 32, "rope_theta": 10000.0, "ln_eps": 1e-5, "rms_eps": 1e-6,
            "max_positions": 2048},
}


def full_config(llm=None, vision=None, qformer=None, projector=None):
    cfg = {k: dict(v) for k, v in REAL_CONFIG.items()}
    for name, part in (("llm", llm), ("vision", vision), ("qformer", qformer), ("projector", projector)):
        if part:
            for k, v in part.items():
                if k not in cfg[name]:
                    raise KeyError(f"config: unknown key {name}.{k}")
                cfg[name][k] = v
    return cfg


def config_json(cfg):
    return json.dumps(cfg, separators=(",", ":"))


def _torch_dtype(dtype):
    return {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]


def round_to_dtype(a, dtype):
    """The values of `a` after storing them as `dtype` (round to nearest even), as float64."""
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)).to(torch.float32)
    return t.to(_torch_dtype(dtype)).to(torch.float64).numpy()


def tensor_bytes(a, dtype):
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)).to(torch.float32).to(_torch_dtype(dtype))
    if dtype == "F32":
        return t.numpy().astype("<f4").tobytes()
    return t.view(torch.int16).numpy().astype("<i2").tobytes()


def write_safetensors(path, tensors, metadata=None, extra_dtypes=None):
    extra_dtypes = extra_dtypes or {}
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, a, dtype in tensors:
        if dtype in extra_dtypes:
            b = extra_dtypes[dtype](np.asarray(a))
        elif dtype in DTYPES:
            b = tensor_bytes(a, dtype)
        else:
            raise ValueError(f"unknown dtype {dtype}")
        offset = (offset + 63) // 64 * 64
        header[name] = {"dtype": dtype, "shape": [int(d) for d in np.shape(a)],
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append((offset, b))
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((64 - (8 + len(h)) % 64) % 64)
    data = bytearray(offset)
    for off, b in blobs:
        data[off:off + len(b)] = b
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.write(bytes(data))


def save_npy(path, a):
    np.save(path, np.ascontiguousarray(np.asarray(a, dtype="<f4")))


class Rand:
    def __init__(self, seed):
        self.g = np.random.default_rng(seed)

    def normal(self, shape, std=1.0):
        return self.g.normal(0.0, std, size=shape)

    def matrix(self, out, inp):
        return self.normal((out, inp), 1.0 / np.sqrt(inp))

    def bias(self, n):
        return self.normal((n,), 0.1)

    def norm_weight(self, n):
        return 1.0 + self.normal((n,), 0.2)

    def ints(self, n, low, high):
        return [int(x) for x in self.g.integers(low, high, size=n)]
