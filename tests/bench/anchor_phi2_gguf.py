#!/usr/bin/env python3
"""Phi-2-shaped GGUF with random F16 weights (GPT-2 vocab padded to 51200), for the llama.cpp
speed anchor only (tests/bench/anchors.sh). Needs gguf-py from the llama.cpp tree on PYTHONPATH.
  anchor_phi2_gguf.py TOKDIR OUT.gguf"""
import json, sys
import numpy as np
import gguf

tokdir, out = sys.argv[1], sys.argv[2]
V, D, L, H, FF = 51200, 2560, 32, 32, 10240
vocab = json.load(open(f"{tokdir}/vocab.json", encoding="utf-8"))
merges = [l.rstrip("\n") for l in open(f"{tokdir}/merges.txt", encoding="utf-8") if l.strip() and not l.startswith("#version")]
tokens = [None] * V
for t, i in vocab.items():
    tokens[i] = t
types = [gguf.TokenType.NORMAL] * V
for i in range(V):
    if tokens[i] is None:
        tokens[i] = f"[PAD{i}]"; types[i] = gguf.TokenType.USER_DEFINED
types[50256] = gguf.TokenType.CONTROL

w = gguf.GGUFWriter(out, "phi2")
w.add_context_length(2048); w.add_embedding_length(D); w.add_feed_forward_length(FF)
w.add_block_count(L); w.add_head_count(H); w.add_head_count_kv(H)
w.add_layer_norm_eps(1e-5); w.add_rope_dimension_count(32); w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
w.add_tokenizer_model("gpt2"); w.add_tokenizer_pre("phi-2")
w.add_token_list(tokens); w.add_token_types(types); w.add_token_merges(merges)
w.add_bos_token_id(50256); w.add_eos_token_id(50256); w.add_unk_token_id(50256)
rng = np.random.default_rng(3)
def mat(r, c): return (rng.standard_normal((r, c), dtype=np.float32) * np.float32(1 / np.sqrt(c))).astype(np.float16)
def vec(n, base=0.0): return (base + 0.05 * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)
w.add_tensor("token_embd.weight", mat(V, D))
for i in range(L):
    p = f"blk.{i}."
    w.add_tensor(p + "attn_norm.weight", vec(D, 1.0)); w.add_tensor(p + "attn_norm.bias", vec(D))
    w.add_tensor(p + "attn_qkv.weight", mat(3 * D, D)); w.add_tensor(p + "attn_qkv.bias", vec(3 * D))
    w.add_tensor(p + "attn_output.weight", mat(D, D)); w.add_tensor(p + "attn_output.bias", vec(D))
    w.add_tensor(p + "ffn_up.weight", mat(FF, D)); w.add_tensor(p + "ffn_up.bias", vec(FF))
    w.add_tensor(p + "ffn_down.weight", mat(D, FF)); w.add_tensor(p + "ffn_down.bias", vec(D))
w.add_tensor("output_norm.weight", vec(D, 1.0)); w.add_tensor("output_norm.bias", vec(D))
w.add_tensor("output.weight", mat(V, D)); w.add_tensor("output.bias", vec(V))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
print(out)
