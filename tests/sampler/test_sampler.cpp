// The sampler on small logits whose answers are worked out by hand (HF generate()
// semantics, see include/tinygptv/sampler.h), the RNG against the published
// algorithms, and determinism for a seed.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tinygptv/sampler.h"

using namespace tgv;

namespace {
const float kInf = std::numeric_limits<float>::infinity();

std::vector<float> logs(std::vector<double> probs) {  // logits whose softmax is `probs`
  std::vector<float> l;
  for (double p : probs) l.push_back(p > 0 ? static_cast<float>(std::log(p)) : -kInf);
  return l;
}
}  // namespace

TEST_CASE("rng: splitmix64-seeded xoshiro256**, the same stream everywhere") {
  // Expected values: the algorithms as published (Vigna, prng.di.unimi.it), run in
  // Python integers; splitmix64(0)'s first output 0xe220a8397b1dcdaf is the
  // well-known test value.
  Rng r0(0);
  CHECK(r0.next_u64() == 0x99ec5f36cb75f2b4ull);
  CHECK(r0.next_u64() == 0xbf6e1f784956452aull);
  CHECK(r0.next_u64() == 0x1a5f849d4933e6e0ull);
  Rng r42(42);
  CHECK(r42.next_u64() == 0x15780b2e0c2ec716ull);
  CHECK(r42.next_u64() == 0x6104d9866d113a7eull);
  // uniform(): top 24 bits * 2^-24.
  Rng a(0);
  CHECK(a.uniform() == static_cast<float>(0x99ec5f36cb75f2b4ull >> 40) / 16777216.0f);
  double sum = 0;
  for (int i = 0; i < 10000; i++) {
    const float u = a.uniform();
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    sum += u;
  }
  CHECK(std::fabs(sum / 10000 - 0.5) < 0.02);
}

TEST_CASE("greedy: argmax, first index on ties") {
  CHECK(argmax(std::vector<float>{0.1f, 2.0f, -3.0f, 1.9f}) == 1);
  CHECK(argmax(std::vector<float>{1.0f, 5.0f, 5.0f}) == 1);
  CHECK(argmax(std::vector<float>{-kInf, -7.0f}) == 1);
  Rng rng(0);
  std::vector<float> l = {0.1f, 2.0f, -3.0f, 1.9f};
  CHECK(sample_next(l, {}, SamplerConfig{}, rng) == 1);  // temperature 0 = greedy
}

TEST_CASE("repetition penalty: divide positive logits, multiply negative ones, each id once") {
  std::vector<float> l = {2.0f, -2.0f, 0.5f, 3.0f, 0.0f};
  const std::vector<int> seen = {0, 1, 1, 4, 0};
  apply_repetition_penalty(l, seen, 2.0f);
  CHECK(l == std::vector<float>{1.0f, -4.0f, 0.5f, 3.0f, 0.0f});
  // It also steers greedy decoding: 3/1.05 = 2.857 < 2.9.
  std::vector<float> g = {3.0f, 2.9f};
  SamplerConfig c;
  c.repetition_penalty = 1.05f;
  Rng rng(0);
  CHECK(sample_next(g, std::vector<int>{0}, c, rng) == 1);
  std::vector<float> g2 = {3.0f, 2.9f};
  CHECK(sample_next(g2, {}, c, rng) == 0);  // nothing seen: no penalty
}

TEST_CASE("temperature divides the logits") {
  std::vector<float> l = {2.0f, -4.0f, 1.0f};
  apply_temperature(l, 2.0f);
  CHECK(l == std::vector<float>{1.0f, -2.0f, 0.5f});
}

TEST_CASE("top-k keeps every logit >= the k-th largest") {
  const std::vector<float> base = {1.0f, 3.0f, 2.0f, 3.0f, 0.0f};
  std::vector<float> l = base;
  apply_top_k(l, 3);  // sorted 3,3,2,1,0: the 3rd is 2
  CHECK(l == std::vector<float>{-kInf, 3.0f, 2.0f, 3.0f, -kInf});
  l = base;
  apply_top_k(l, 1);  // the ties with the largest stay (HF: scores < kth are removed)
  CHECK(l == std::vector<float>{-kInf, 3.0f, -kInf, 3.0f, -kInf});
  l = base;
  apply_top_k(l, 0);  // off
  CHECK(l == base);
  l = base;
  apply_top_k(l, 99);  // more than V: keep all
  CHECK(l == base);
}

TEST_CASE("top-p drops the tail whose cumulative probability is <= 1 - p") {
  // probs 0.5, 0.3, 0.15, 0.05: ascending cumulative 0.05, 0.20, 0.50, 1.00
  const std::vector<float> base = logs({0.5, 0.3, 0.15, 0.05});
  std::vector<float> l = base;
  apply_top_p(l, 0.9f);  // cut 0.1: drops 0.05
  CHECK(l == std::vector<float>{base[0], base[1], base[2], -kInf});
  l = base;
  apply_top_p(l, 0.6f);  // cut 0.4: drops 0.05 and 0.15
  CHECK(l == std::vector<float>{base[0], base[1], -kInf, -kInf});
  l = base;
  apply_top_p(l, 0.45f);  // cut 0.55: only the most likely stays
  CHECK(l == std::vector<float>{base[0], -kInf, -kInf, -kInf});
  l = base;
  apply_top_p(l, 0.0f);  // the most likely one is always kept
  CHECK(l == std::vector<float>{base[0], -kInf, -kInf, -kInf});
  l = base;
  apply_top_p(l, 1.0f);  // off
  CHECK(l == base);
  // Order of ids does not matter.
  std::vector<float> shuffled = {base[3], base[1], base[0], base[2]};
  apply_top_p(shuffled, 0.6f);
  CHECK(shuffled == std::vector<float>{-kInf, base[1], base[0], -kInf});
}

TEST_CASE("drawing: the first id whose cumulative probability exceeds u") {
  const std::vector<float> l = logs({0.25, 0.5, 0.25});
  CHECK(sample_from_logits(l, 0.0f) == 0);
  CHECK(sample_from_logits(l, 0.1f) == 0);
  CHECK(sample_from_logits(l, 0.3f) == 1);
  CHECK(sample_from_logits(l, 0.74f) == 1);
  CHECK(sample_from_logits(l, 0.76f) == 2);
  CHECK(sample_from_logits(l, 0.99999994f) == 2);
  const std::vector<float> masked = {-kInf, 0.0f, -kInf};
  for (float u : {0.0f, 0.5f, 0.99999994f}) CHECK(sample_from_logits(masked, u) == 1);
}

TEST_CASE("sampling is deterministic for a seed and follows the distribution") {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_p = 0.9f;
  c.top_k = 3;
  c.repetition_penalty = 1.05f;
  const std::vector<float> base = logs({0.4, 0.3, 0.2, 0.06, 0.04});
  auto run = [&](uint64_t seed) {
    Rng rng(seed);
    std::vector<int> ids, seen;
    for (int i = 0; i < 200; i++) {
      std::vector<float> l = base;
      const int id = sample_next(l, seen, c, rng);
      ids.push_back(id);
      seen.push_back(id);
    }
    return ids;
  };
  const std::vector<int> a = run(7), b = run(7), other = run(8);
  CHECK(a == b);
  CHECK(a != other);
  for (int id : a) CHECK(id <= 2);  // top-k 3 (and top-p 0.9 = the same three here)

  // Plain sampling: frequencies near the probabilities (fixed seed, so not flaky).
  SamplerConfig plain;
  plain.temperature = 1.0f;
  Rng rng(123);
  std::vector<int> count(5, 0);
  for (int i = 0; i < 20000; i++) {
    std::vector<float> l = base;
    count[static_cast<size_t>(sample_next(l, {}, plain, rng))]++;
  }
  const double want[5] = {0.4, 0.3, 0.2, 0.06, 0.04};
  for (int i = 0; i < 5; i++) CHECK(std::fabs(count[static_cast<size_t>(i)] / 20000.0 - want[i]) < 0.015);

  // top-k 1 is greedy whatever the seed.
  SamplerConfig k1;
  k1.temperature = 0.7f;
  k1.top_k = 1;
  for (uint64_t seed = 0; seed < 20; seed++) {
    Rng r(seed);
    std::vector<float> l = {0.0f, 10.0f, 9.0f, -5.0f};
    CHECK(sample_next(l, {}, k1, r) == 1);
  }
}

TEST_CASE("upstream sampling settings") {
  const SamplerConfig c = upstream_sampling(9);
  CHECK(c.temperature == 1.0f);
  CHECK(c.top_k == 50);  // HF GenerationConfig default; upstream does not pass top_k
  CHECK(c.top_p == 0.9f);
  CHECK(c.repetition_penalty == 1.05f);
  CHECK(c.seed == 9);
}

TEST_CASE("stop strings: the earliest occurrence of any") {
  const std::vector<std::string> stops = {"###", "</s>", ""};
  CHECK(find_stop("A cat.###Human", stops) == 6);
  CHECK(find_stop("x</s>y###", stops) == 1);
  CHECK(find_stop("no stop here ##", stops) == std::string_view::npos);
  CHECK(find_stop("", stops) == std::string_view::npos);
  CHECK(find_stop("abc", std::vector<std::string>{}) == std::string_view::npos);
}
