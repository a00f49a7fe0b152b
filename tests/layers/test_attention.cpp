// The tiled, online-softmax attention (src/layers/attention.cpp) against the plainest
// reference written here: for every (head, query) the whole score row in float64,
// softmax, weighted sum of V. Odd sizes: query counts around the 64-query block and the
// 4-row copy threshold, key counts that are not multiples of the 128-key block, head
// dims 16/64/80/88, causal with q_pos0 > 0 (a KV cache), both kernel sets.
// Tolerance: relative L2 error, tests/tolerances.h kAttentionTiled (with what was measured).
// The float16 keys/values overload (an F16 KV cache) must equal the float32 one on the
// same values exactly: only the loads differ.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compare.h"
#include "tinygptv/kernels.h"
#include "tinygptv/layers.h"
#include "tinygptv/thread_pool.h"
#include "tolerances.h"

namespace {

std::vector<float> reference(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, int stride,
                             int Tq, int Tk, int heads, int hd, float scale, bool causal, int q_pos0) {
  std::vector<float> out(static_cast<size_t>(Tq) * heads * hd);
  for (int h = 0; h < heads; h++)
    for (int t = 0; t < Tq; t++) {
      const int n = causal ? std::min(Tk, q_pos0 + t + 1) : Tk;
      std::vector<double> s(static_cast<size_t>(n));
      double mx = -1e300, sum = 0;
      for (int j = 0; j < n; j++) {
        double d = 0;
        for (int e = 0; e < hd; e++)
          d += static_cast<double>(q[static_cast<size_t>(t) * stride + h * hd + e]) * k[static_cast<size_t>(j) * stride + h * hd + e];
        s[j] = scale * d;
        mx = std::max(mx, s[j]);
      }
      for (int j = 0; j < n; j++) sum += s[j] = std::exp(s[j] - mx);
      for (int e = 0; e < hd; e++) {
        double o = 0;
        for (int j = 0; j < n; j++) o += s[j] / sum * v[static_cast<size_t>(j) * stride + h * hd + e];
        out[(static_cast<size_t>(t) * heads + h) * hd + e] = static_cast<float>(o);
      }
    }
  return out;
}

}  // namespace

TEST_CASE("tiled attention == a plain float64 reference on odd sizes, causal with a KV cache, both kernel sets") {
  struct Case { int Tq, Tk, heads, hd; bool causal; int q_pos0; };
  const Case cases[] = {
      {1, 1, 2, 16, false, 0},    {3, 7, 2, 16, false, 0},    {5, 129, 3, 64, false, 0},  {65, 300, 2, 88, false, 0},
      {130, 130, 2, 80, true, 0}, {33, 290, 2, 80, true, 257}, {1, 301, 4, 80, true, 300}, {4, 260, 2, 88, true, 256},
      {32, 257, 3, 64, false, 0}, {67, 67, 1, 88, true, 0},
      // several key blocks without a mask (at most 320 keys each), a query sliver joining its block, and not
      {70, 700, 2, 88, false, 0}, {72, 641, 1, 64, false, 0}, {257, 257, 2, 88, false, 0},
  };
  std::mt19937 rng(21);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  double worst = 0;
  for (const Case& c : cases) {
    const int stride = c.heads * c.hd;
    std::vector<float> q(static_cast<size_t>(c.Tq) * stride), k(static_cast<size_t>(c.Tk) * stride), v(k.size());
    for (auto* x : {&q, &k, &v})
      for (auto& e : *x) e = nd(rng);
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
    const auto want = reference(q, k, v, stride, c.Tq, c.Tk, c.heads, c.hd, scale, c.causal, c.q_pos0);
    for (bool ref : {false, true}) {
      tgv::use_reference_kernels(ref);
      std::vector<float> got(want.size());
      tgv::attention(got.data(), stride, q.data(), stride, k.data(), v.data(), stride, c.Tq, c.Tk, c.heads, c.hd, scale, c.causal, c.q_pos0);
      const std::string name = "Tq " + std::to_string(c.Tq) + " Tk " + std::to_string(c.Tk) + " hd " + std::to_string(c.hd) +
                               (c.causal ? " causal from " + std::to_string(c.q_pos0) : "") + " (" + tgv::kernels().name + ")";
      tgv::test::check_close(name, got, want, tgv::test::kAttentionTiled);
      worst = std::max(worst, tgv::test::diff(got.data(), want.data(), got.size()).rel);
    }
  }
  tgv::use_reference_kernels(false);
  MESSAGE("tiled attention vs float64: worst relative L2 error " << worst);
}

TEST_CASE("attention on float16 keys and values == attention on their float32 values, bit for bit, both kernel sets") {
  struct Case { int Tq, Tk, heads, hd; bool causal; int q_pos0; };
  const Case cases[] = {{1, 1, 2, 16, false, 0}, {3, 7, 2, 16, false, 0},   {1, 301, 4, 80, true, 300},
                        {2, 260, 3, 88, true, 258}, {33, 290, 2, 80, true, 257}, {65, 300, 2, 88, false, 0},
                        {70, 700, 2, 88, false, 0}};
  std::mt19937 rng(22);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const Case& c : cases) {
    const int stride = c.heads * c.hd + 8;  // rows wider than the heads, as a cache with other columns
    std::vector<float> q(static_cast<size_t>(c.Tq) * stride), k(static_cast<size_t>(c.Tk) * stride), v(k.size());
    for (auto* x : {&q, &k, &v})
      for (auto& e : *x) e = nd(rng);
    std::vector<uint16_t> k16(k.size()), v16(v.size());
    for (size_t i = 0; i < k.size(); i++) {
      k16[i] = tgv::f32_to_f16(k[i]);
      v16[i] = tgv::f32_to_f16(v[i]);
      k[i] = tgv::f16_to_f32(k16[i]);  // the values the float16 cache holds
      v[i] = tgv::f16_to_f32(v16[i]);
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
    for (bool ref : {false, true}) {
      tgv::use_reference_kernels(ref);
      const size_t n = static_cast<size_t>(c.Tq) * stride;
      std::vector<float> want(n, 0.0f), got(n, 0.0f);
      tgv::attention(want.data(), stride, q.data(), stride, k.data(), v.data(), stride, c.Tq, c.Tk, c.heads, c.hd, scale, c.causal, c.q_pos0);
      tgv::attention(got.data(), stride, q.data(), stride, k16.data(), v16.data(), stride, c.Tq, c.Tk, c.heads, c.hd, scale, c.causal,
                     c.q_pos0);
      CAPTURE(c.Tq);
      CAPTURE(c.Tk);
      CAPTURE(ref);
      CHECK(std::memcmp(got.data(), want.data(), n * sizeof(float)) == 0);
    }
  }
  tgv::use_reference_kernels(false);
}

TEST_CASE("attention gives the same bits on any number of threads (decode's key chunks, tiled blocks)") {
  // Decode splits the visible keys into fixed chunks and merges them in chunk order;
  // the tiled path splits (head, query block) pairs: neither split depends on the pool.
  struct Case { int Tq, Tk, heads, hd; bool causal; int q_pos0; };
  const Case cases[] = {{1, 301, 4, 80, true, 300}, {2, 200, 3, 80, true, 198}, {1, 64, 2, 16, false, 0}, {33, 290, 2, 80, true, 257},
                        {257, 700, 2, 88, false, 0}};
  std::mt19937 rng(23);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const Case& c : cases) {
    CAPTURE(c.Tq);
    CAPTURE(c.Tk);
    const int stride = c.heads * c.hd;
    std::vector<float> q(static_cast<size_t>(c.Tq) * stride), k(static_cast<size_t>(c.Tk) * stride), v(k.size());
    for (auto* x : {&q, &k, &v})
      for (auto& e : *x) e = nd(rng);
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
    std::vector<float> first;
    for (int threads : {1, 2, 3, 5}) {
      CAPTURE(threads);
      tgv::set_num_threads(threads);
      std::vector<float> got(static_cast<size_t>(c.Tq) * stride);
      tgv::attention(got.data(), stride, q.data(), stride, k.data(), v.data(), stride, c.Tq, c.Tk, c.heads, c.hd, scale, c.causal, c.q_pos0);
      if (first.empty()) first = got;
      CHECK(std::memcmp(first.data(), got.data(), sizeof(float) * got.size()) == 0);
    }
  }
  tgv::set_num_threads(0);
}

TEST_CASE("attention with no keys at all writes zeros (the tiled path sizes its key blocks from Tk)") {
  // Every query sees no key: l = 0, and the output is 0 by the contract of attend_block.
  const int Tq = 5, heads = 2, hd = 16, stride = heads * hd;
  std::vector<float> q(static_cast<size_t>(Tq) * stride, 1.0f), kv(static_cast<size_t>(stride), 1.0f);
  for (bool ref : {false, true}) {
    tgv::use_reference_kernels(ref);
    std::vector<float> got(q.size(), 7.0f);
    tgv::attention(got.data(), stride, q.data(), stride, kv.data(), kv.data(), stride, Tq, 0, heads, hd, 0.25f, false, 0);
    CAPTURE(ref);
    CHECK(std::all_of(got.begin(), got.end(), [](float x) { return x == 0.0f; }));
  }
  tgv::use_reference_kernels(false);
}
