// What quantization costs on one model, image and prompt (`tinygptv quant-report`,
// docs/quantization.md), measured against the unquantized ("base") model:
//
//  1. every activation `tinygptv dump` writes (vision.*, qformer.*, projector.*, llm.*;
//     interface.md), from both models on the same input: relative error
//     ||quant - base|| / ||base|| and the largest absolute difference;
//  2. the base model's greedy answer of up to N tokens; then both models read the
//     prompt + that answer (teacher forcing), and at each of the answer's positions
//     the next-token distributions are compared as llama.cpp's
//     `llama-perplexity --kl-divergence` does: whether the top-1 tokens agree, and
//     KL(base || quant) = sum_v p_base(v) * (log p_base(v) - log p_quant(v)).
//
// Both measurements come from one forward pass per model over prompt + answer, run
// with the same DumpFn hooks as `tinygptv dump` (so step 1 covers the answer's
// positions too). The models are loaded one after the other: memory ~ one model plus
// the activations.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tgv {

struct QuantReportInput {
  std::vector<std::vector<int>> segments;  // prompt token ids; two segments: the image goes between them
  std::vector<float> pixels;               // [3, S, S] when there are two segments
  int tokens = 16;                         // N, the answer's length (fewer if the base model ends it)
};

struct ActivationError {
  std::string name;                        // as dump names it ("vision.block.3", "llm.logits")
  std::vector<int64_t> shape;
  double rel = 0;                          // ||quant - base|| / ||base||
  double max_abs = 0;                      // max |quant - base|
};

struct QuantReport {
  std::vector<ActivationError> activations;  // in the order the forward pass makes them
  std::vector<int> answer;                   // the base model's greedy answer (ids)
  std::vector<double> kl;                    // KL(base || quant) at each answer position (nats, >= 0)
  std::vector<bool> top1_agree;              // argmax of both models equal, per answer position
  double mean_kl() const;
  double max_kl() const;
  double agreement() const;                  // fraction of top1_agree, 0..1
};

// Runs the two model files (same config required) on `input`.
QuantReport quant_report(const std::string& base_model, const std::string& quant_model, const QuantReportInput& input);

// KL(p || q) in nats for the softmax distributions of two logit rows [n], in double.
double kl_divergence_logits(const float* base_logits, const float* quant_logits, size_t n);

}  // namespace tgv
