// Generation: prefill the prompt's input embeddings, then one token at a time with
// the KV cache, as HF generate(inputs_embeds=...) does upstream:
//
//   logits = model(prompt embeds)[-1]
//   repeat: id = sampler(logits, ids generated so far), eos masked while fewer than
//           min_new_tokens ids exist; stop at eos / max_new_tokens /
//           the caller's stop check; logits = model(embed_tokens[id])[-1]
//
// Generation also ends quietly when the context is full (max_positions).
#include <limits>

#include "tinygptv/phi2.h"

namespace tgv {

std::vector<int> phi2_generate(Phi2State& state, const Phi2Weights& w, const LlmConfig& c, const float* embeds, int T,
                               const SamplerConfig& sampler, Rng& rng, const GenerateOptions& options,
                               const std::function<bool(int id)>& on_token) {
  std::vector<float> logits(static_cast<size_t>(c.vocab_size));  // [V]
  std::vector<float> x(static_cast<size_t>(c.hidden));            // [1, D] the new token's embedding
  std::vector<int> seen = options.penalty_ids;                    // what the repetition penalty sees
  std::vector<int> out;
  if (options.max_new_tokens <= 0) return out;
  phi2_forward(logits.data(), state, w, c, embeds, T, Phi2Logits::Last, {});
  for (;;) {
    // HF MinLengthLogitsProcessor: scores[:, eos_token_id] = -inf while too short.
    if (static_cast<int>(out.size()) < options.min_new_tokens && options.eos_id >= 0 && options.eos_id < c.vocab_size)
      logits[static_cast<size_t>(options.eos_id)] = -std::numeric_limits<float>::infinity();
    const int id = sample_next(logits, seen, sampler, rng);
    if (id == options.eos_id) break;
    out.push_back(id);
    seen.push_back(id);
    if (on_token && !on_token(id)) break;
    if (static_cast<int>(out.size()) >= options.max_new_tokens || state.pos >= c.max_positions) break;
    phi2_embed_tokens(x.data(), w, &id, 1);
    phi2_forward(logits.data(), state, w, c, x.data(), 1, Phi2Logits::Last, {});
  }
  return out;
}

}  // namespace tgv
