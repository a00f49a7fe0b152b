"""Phi-2's tokenizer (model.md section 6) for the ASCII text of the demo world, in pure
Python: GPT-2 pre-tokenisation, then byte-level BPE by merge rank from vocab.json /
merges.txt. The demo's prompts and answers are plain ASCII without runs of spaces or
tabs, so the Unicode classes reduce to ASCII ones and no added token can occur (both
are checked). train.py compares a sample of its texts with `tinygptv tokenize` when
the binary is built (check_against_cli), so these ids are the project's ids.

    tok = Tokenizer(tokenizer_dir)
    tok.encode(" red")      -> [2266]
    tok.decode([2266])      -> " red"
"""
import json
import os
import re

# GPT-2's pattern with \p{L} -> [A-Za-z], \p{N} -> [0-9]: exact for ASCII input.
_PATTERN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def _byte_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


class Tokenizer:
    EOS = 50256  # <|endoftext|>

    def __init__(self, directory):
        with open(os.path.join(directory, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        self.inverse = {i: s for s, i in self.vocab.items()}
        with open(os.path.join(directory, "merges.txt"), encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#version")]
        self.ranks = {tuple(line.split(" ")): i for i, line in enumerate(lines)}
        self.b2u = _byte_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}
        self.cache = {}

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, _ = min(pairs)
            if rank == 1 << 30:
                break
            pair = next((parts[i], parts[i + 1]) for r, i in pairs if r == rank)
            merged, i = [], 0
            while i < len(parts):  # merge every occurrence, left to right
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        if not text.isascii() or "  " in text or "\t" in text or "<|endoftext|>" in text:
            raise ValueError(f"bpe.py handles plain ASCII without space/tab runs only: {text!r}")
        ids = []
        for piece in _PATTERN.findall(text):
            ids += self._bpe("".join(self.b2u[b] for b in piece.encode("utf-8")))
        return ids

    def decode(self, ids):
        return bytes(self.u2b[c] for i in ids for c in self.inverse[i]).decode("utf-8")


def check_against_cli(tok, binary, texts):
    """Raises when `tinygptv tokenize` (the project's C++ tokenizer) gives other ids."""
    import subprocess
    for text in texts:
        out = subprocess.run([binary, "tokenize", text], capture_output=True, text=True, check=True).stdout
        if [int(i) for i in out.split()] != tok.encode(text):
            raise RuntimeError(f"bpe.py and {binary} tokenize {text!r} differently")
