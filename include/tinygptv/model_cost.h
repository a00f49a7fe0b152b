// What each step of the model must do at the least, counted from the config and the
// weights, for the rooflines `tinygptv bench` prints (docs/performance.md):
//
//   FLOPs  2 per multiply-add of every matrix product (weights and attention); the
//          norms, softmax, GELU and rotary are left out (a few % at most), so the
//          fraction of the FMA peak printed is, if anything, a little low.
//   bytes  what a decode step must read from memory: every Phi-2 matrix and the lm_head
//          once (in their stored dtype) plus the keys and values cached so far (float32).
//
// Source: src/pipeline/model_cost.cpp.
#pragma once
#include <cstdint>

#include "tinygptv/model_file.h"
#include "tinygptv/phi2.h"

namespace tgv {

// ImageEncoder::encode: ViT patch embedding and blocks (N = (S/P)^2 + 1 tokens),
// Q-Former (Q queries; cross-attention over the N image tokens), projector.
double encode_flops(const ModelConfig& config);

// phi2_forward of T new rows after `past` cached ones, logits of the last row only
// (Phi2Logits::Last); each row attends to every cached position and to itself.
double llm_forward_flops(const LlmConfig& config, int past, int T);

// Bytes of the Phi-2 matrices, the lm_head (weight + bias) and one embedding row: the
// weights one decode step reads.
uint64_t decode_weight_bytes(const Phi2Weights& weights);

// Bytes of cached keys and values a decode step reads at position `pos`, for a cache of
// kv_dtype F32 or F16 (Phi2State).
uint64_t kv_cache_bytes(const LlmConfig& config, int pos, DType kv_dtype = DType::F32);

// Elements of every tensor the config implies (model_tensors in random_model.h) except
// the ViT position table, whose grid may differ (it is interpolated at load): a lower
// bound on what a file of this config holds, computed without listing the tensors (so
// an edited "layers": 16777216 costs nothing). A double: it is compared with sizes,
// and stays exact below 2^53.
double config_weight_count(const ModelConfig& config);

}  // namespace tgv
