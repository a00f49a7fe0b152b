// Choosing the next token from logits [V], with Hugging Face generate()'s semantics
// (transformers 4.3x, which upstream TinyGPT-V calls), in HF's order:
//
//   1. repetition penalty (RepetitionPenaltyLogitsProcessor, CTRL paper): for every
//      distinct id in `seen`, logit > 0 is divided by the penalty, logit < 0 is
//      multiplied by it. Applies to greedy decoding too.
//      Which ids are "seen": HF penalises its `input_ids`. Upstream TinyGPT-V calls
//      generate(inputs_embeds=...) without input_ids, so HF's input_ids start empty
//      and only the *generated* ids are penalised, never the prompt (see
//      huggingface/transformers PR #45389, which describes exactly this behaviour).
//      GenerateOptions::penalty_ids (phi2.h) lets a caller add the prompt ids.
//   2. greedy (temperature == 0): argmax, the first index on ties (torch.argmax).
//   3. otherwise: temperature (logits / t), top-k (keep logits >= the k-th largest,
//      ties kept, as TopKLogitsWarper), top-p (TopPLogitsWarper: sort ascending,
//      drop the tokens whose cumulative probability is <= 1 - top_p, always keep the
//      most likely one), softmax, then one draw from the distribution.
//
// Upstream's call (MiniGPT-4 Chat.answer) is generate(inputs_embeds=..., do_sample=True,
// top_p=0.9, repetition_penalty=1.05, temperature=1.0, min_length=1, ...) and does not
// pass top_k, so HF's GenerationConfig default top_k = 50 applies too:
// upstream_sampling() below. (min_length=1 keeps <|endoftext|> from being the first
// token: GenerateOptions::min_new_tokens in phi2.h.)
//
// Determinism: the draw is u in [0, 1) from our own Rng (splitmix64 seeding a
// xoshiro256** generator, u = top 24 bits * 2^-24, no std:: distributions, whose
// output is implementation-defined), then the first id (in id order) whose
// cumulative probability (double) exceeds u. Same seed + same logits = same ids on
// every platform. (torch.multinomial's stream cannot be reproduced; same semantics,
// different random numbers.)
// Sources: src/sampler/sampler.cpp, rng.cpp, stop.cpp. Tests: tests/sampler/.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tgv {

struct SamplerConfig {
  float temperature = 0.0f;         // 0: greedy (HF do_sample=False); upstream sampling uses 1.0
  int top_k = 0;                    // 0: off
  float top_p = 1.0f;               // 1: off; upstream 0.9
  float repetition_penalty = 1.0f;  // 1: off; upstream 1.05
  uint64_t seed = 0;
};

// Upstream TinyGPT-V's sampling settings: temperature 1, top-k 50 (HF default), top-p 0.9,
// repetition penalty 1.05.
inline SamplerConfig upstream_sampling(uint64_t seed) { return SamplerConfig{1.0f, 50, 0.9f, 1.05f, seed}; }

// xoshiro256** seeded through splitmix64: a small, documented, portable generator.  rng.cpp
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next_u64();
  float uniform();  // [0, 1): the top 24 bits of next_u64() times 2^-24 (exact in float)

 private:
  uint64_t s_[4];
};

// The steps above, one at a time, on logits [V] in place (exposed for the tests).   sampler.cpp
void apply_repetition_penalty(std::span<float> logits, std::span<const int> seen, float penalty);
void apply_temperature(std::span<float> logits, float temperature);
void apply_top_k(std::span<float> logits, int k);      // removed entries become -inf
void apply_top_p(std::span<float> logits, float p);    // removed entries become -inf
int argmax(std::span<const float> logits);
// Softmax of logits (−inf -> 0) and one draw with u in [0, 1).
int sample_from_logits(std::span<const float> logits, float u);

// The next token: penalty, then greedy or temperature/top-k/top-p/draw. `logits` is
// modified (it is scratch).                                                    sampler.cpp
int sample_next(std::span<float> logits, std::span<const int> seen, const SamplerConfig& config, Rng& rng);

// Stop strings (model.md section 7: the chat stops as soon as the decoded answer
// contains "###"): the byte offset of the earliest occurrence of any of `stops` in
// `text`, or std::string_view::npos. The answer is text.substr(0, offset).    stop.cpp
size_t find_stop(std::string_view text, std::span<const std::string> stops);

}  // namespace tgv
