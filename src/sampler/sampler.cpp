// The next-token choice, step by step as HF generate() applies its logits
// processors and warpers (see include/tinygptv/sampler.h for the semantics and the
// upstream names). Logits [V] are modified in place; removed entries become -inf.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/sampler.h"

namespace tgv {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}

// RepetitionPenaltyLogitsProcessor:
//   score = torch.gather(scores, 1, input_ids)
//   score = torch.where(score < 0, score * penalty, score / penalty)
//   scores.scatter_(1, input_ids, score)
// An id seen several times is penalised once (gather reads the original value).
void apply_repetition_penalty(std::span<float> logits, std::span<const int> seen, float penalty) {
  std::vector<bool> done(logits.size(), false);
  for (int id : seen) {
    TGV_ASSERT(id >= 0 && static_cast<size_t>(id) < logits.size(), "repetition penalty: id outside the logits");
    if (done[static_cast<size_t>(id)]) continue;
    done[static_cast<size_t>(id)] = true;
    float& s = logits[static_cast<size_t>(id)];
    s = s < 0 ? s * penalty : s / penalty;
  }
}

// TemperatureLogitsWarper: scores / temperature.
void apply_temperature(std::span<float> logits, float temperature) {
  TGV_ASSERT(temperature > 0, "temperature must be positive (0 means greedy)");
  for (float& s : logits) s = s / temperature;
}

// TopKLogitsWarper: top_k = min(max(top_k, 1), V);
//   indices_to_remove = scores < torch.topk(scores, top_k)[0][..., -1, None]
// Every logit equal to the k-th largest is kept.
void apply_top_k(std::span<float> logits, int k) {
  if (k <= 0) return;
  const size_t kk = std::min(static_cast<size_t>(k), logits.size());
  std::vector<float> sorted(logits.begin(), logits.end());
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(kk - 1), sorted.end(), std::greater<float>());
  const float kth = sorted[kk - 1];
  for (float& s : logits)
    if (s < kth) s = kNegInf;
}

// TopPLogitsWarper:
//   sorted_logits, sorted_indices = torch.sort(scores, descending=False)
//   cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
//   sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
//   sorted_indices_to_remove[..., -1:] = 0            (min_tokens_to_keep = 1)
// Ties are ordered by id (torch.sort gives no order for ties); sums in double.
void apply_top_p(std::span<float> logits, float p) {
  if (p >= 1.0f || logits.empty()) return;
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[static_cast<size_t>(a)] < logits[static_cast<size_t>(b)]; });
  const float mx = logits[static_cast<size_t>(order.back())];
  std::vector<double> probs(order.size());
  double sum = 0;
  for (size_t i = 0; i < order.size(); i++) {
    const float s = logits[static_cast<size_t>(order[i])];
    probs[i] = s == kNegInf ? 0.0 : std::exp(static_cast<double>(s) - mx);
    sum += probs[i];
  }
  const double cut = 1.0 - static_cast<double>(p);
  double cum = 0;
  for (size_t i = 0; i + 1 < order.size(); i++) {  // the last (most likely) is always kept
    cum += probs[i] / sum;
    if (cum <= cut) logits[static_cast<size_t>(order[i])] = kNegInf;
  }
}

int argmax(std::span<const float> logits) {
  TGV_ASSERT(!logits.empty(), "argmax of nothing");
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); i++)
    if (logits[i] > logits[best]) best = i;  // first index on ties, as torch.argmax
  return static_cast<int>(best);
}

// probs = softmax(logits); the first id whose cumulative probability exceeds u.
int sample_from_logits(std::span<const float> logits, float u) {
  const int best = argmax(logits);
  const double mx = logits[static_cast<size_t>(best)];
  double sum = 0;
  for (float s : logits) sum += s == kNegInf ? 0.0 : std::exp(s - mx);
  const double target = static_cast<double>(u) * sum;
  double cum = 0;
  int last = best;
  for (size_t i = 0; i < logits.size(); i++) {
    if (logits[i] == kNegInf) continue;
    cum += std::exp(logits[i] - mx);
    last = static_cast<int>(i);
    if (cum > target) return last;
  }
  return last;  // u * sum rounded up to the total: the last token with non-zero probability
}

int sample_next(std::span<float> logits, std::span<const int> seen, const SamplerConfig& c, Rng& rng) {
  if (c.repetition_penalty != 1.0f) apply_repetition_penalty(logits, seen, c.repetition_penalty);
  if (c.temperature <= 0.0f) return argmax(logits);
  if (c.temperature != 1.0f) apply_temperature(logits, c.temperature);
  apply_top_k(logits, c.top_k);
  apply_top_p(logits, c.top_p);
  return sample_from_logits(logits, rng.uniform());
}

}  // namespace tgv
