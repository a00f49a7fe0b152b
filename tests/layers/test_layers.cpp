// Each layer of include/tinygptv/layers.h against PyTorch (tests/reference/make_layers.py
// -> tests/data/layers/, float64 references of float32 inputs).
//
// Tolerances (relative L2 error ||ours - torch|| / ||torch||, tests/compare.h), one per
// function, with the largest value measured (`test_layers -s`, x86-64, both the avx2
// and the scalar kernels). Float32 output rounding alone is ~3e-8.
//   layernorm   2e-7   measured 5.1e-8   (statistics in double; float32 scale and shift)
//   rmsnorm     2e-7   measured 6.8e-8   (float32 mean of squares and rsqrt, as upstream)
//   gelu_erf    1e-7   measured 0        (double per element, rounded once)
//   gelu_tanh   1e-7   measured 0
//   softmax     1e-7   measured 4.7e-10  (float32 exp, sum in double)
//   rotary      2e-7   measured 3.1e-8   (float32 tables on both sides; float32 rotation)
//   attention   5e-7   measured 1.4e-7   (float32 dot products and softmax)
//   linear      5e-7   measured 1.3e-7   (float32 dot products, K = 300)
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "compare.h"
#include "tinygptv/kernels.h"
#include "tinygptv/layers.h"
#include "tinygptv/npy.h"

namespace {

std::vector<float> load(const std::string& name) {
  return tgv::read_npy(std::string(TGV_TEST_DATA) + "/layers/" + name + ".npy").to_f32();
}
std::vector<int64_t> shape_of(const std::string& name) {
  return tgv::read_npy(std::string(TGV_TEST_DATA) + "/layers/" + name + ".npy").shape;
}

// Runs body once with the default kernels and once with --reference (scalar).
template <class F>
void with_both_kernel_sets(F body) {
  for (bool ref : {false, true}) {
    tgv::use_reference_kernels(ref);
    CAPTURE(ref);
    body(std::string(tgv::kernels().name));
  }
  tgv::use_reference_kernels(false);
}

}  // namespace

TEST_CASE("layernorm matches F.layer_norm") {
  for (std::string c : {"layernorm", "layernorm_offset", "layernorm_eps12"}) {
    const auto x = load(c + ".x"), w = load(c + ".w"), b = load(c + ".b"), want = load(c + ".out");
    const auto sh = shape_of(c + ".x");
    const int T = static_cast<int>(sh[0]), C = static_cast<int>(sh[1]);
    const float eps = load(c + ".eps")[0];
    std::vector<float> got(x.size());
    tgv::layernorm(got.data(), x.data(), w.data(), b.data(), T, C, eps);
    tgv::test::check_close(c, got, want, 2e-7);
    std::vector<float> inplace = x;  // out may equal x
    tgv::layernorm(inplace.data(), inplace.data(), w.data(), b.data(), T, C, eps);
    CHECK(inplace == got);
  }
}

TEST_CASE("rmsnorm matches x * rsqrt(mean(x^2) + eps) * w") {
  const auto x = load("rmsnorm.x"), w = load("rmsnorm.w"), want = load("rmsnorm.out");
  const auto sh = shape_of("rmsnorm.x");
  std::vector<float> got(x.size());
  tgv::rmsnorm(got.data(), x.data(), w.data(), static_cast<int>(sh[0]), static_cast<int>(sh[1]), 1e-6f);
  tgv::test::check_close("rmsnorm", got, want, 2e-7);
  std::vector<float> inplace = x;
  tgv::rmsnorm(inplace.data(), inplace.data(), w.data(), static_cast<int>(sh[0]), static_cast<int>(sh[1]), 1e-6f);
  CHECK(inplace == got);
}

TEST_CASE("gelu_erf and gelu_tanh match F.gelu(approximate='none' / 'tanh')") {
  const auto x = load("gelu.x");
  auto a = x, b = x;
  tgv::gelu_erf(a.data(), a.size());
  tgv::gelu_tanh(b.data(), b.size());
  tgv::test::check_close("gelu_erf", a, load("gelu_erf.out"), 1e-7);
  tgv::test::check_close("gelu_tanh", b, load("gelu_tanh.out"), 1e-7);
  // Element-wise too: each value is the formula rounded once (plus libm error).
  const auto we = load("gelu_erf.out"), wt = load("gelu_tanh.out");
  int bad = 0;
  for (size_t i = 0; i < x.size(); i++) {
    bad += !(std::fabs(a[i] - we[i]) <= 2.5e-7 * std::fabs(we[i]) + 1e-37f);
    bad += !(std::fabs(b[i] - wt[i]) <= 2.5e-7 * std::fabs(wt[i]) + 1e-37f);
  }
  CHECK(bad == 0);
}

TEST_CASE("softmax matches torch.softmax (large logits, lengths 1..257)") {
  for (int n : {1, 7, 33, 257}) {
    const std::string c = "softmax_" + std::to_string(n);
    auto x = load(c + ".x");
    REQUIRE(static_cast<int>(x.size()) == n);
    tgv::softmax(x.data(), n);
    tgv::test::check_close(c, x, load(c + ".out"), 1e-7);
  }
}

TEST_CASE("rotary matches rotate-half with float32 tables (Phi-2 geometry, far positions, strides)") {
  for (std::string c : {"rotary_phi2", "rotary_far", "rotary_small"}) {
    const auto a = load(c + ".args");  // T, stride, heads, head_dim, rotary_dim, pos0, theta
    auto x = load(c + ".x");
    tgv::rotary(x.data(), static_cast<int>(a[1]), static_cast<int>(a[0]), static_cast<int>(a[2]), static_cast<int>(a[3]),
                static_cast<int>(a[4]), static_cast<int>(a[5]), a[6]);
    tgv::test::check_close(c, x, load(c + ".out"), 2e-7);
    // Columns past rotary_dim in each head, and past the heads, must be untouched.
    const auto x0 = load(c + ".x");
    const int T = static_cast<int>(a[0]), stride = static_cast<int>(a[1]), heads = static_cast<int>(a[2]);
    const int hd = static_cast<int>(a[3]), rd = static_cast<int>(a[4]);
    int changed = 0;
    for (int t = 0; t < T; t++)
      for (int col = 0; col < stride; col++) {
        const bool rotated = col < heads * hd && col % hd < rd;
        const size_t i = static_cast<size_t>(t) * stride + col;
        if (!rotated) changed += x[i] != x0[i];
      }
    CHECK(changed == 0);
  }
}

TEST_CASE("attention matches softmax(scale q k^T + mask) v: full, causal, KV cache, decode") {
  for (std::string c : {"attn_full", "attn_causal", "attn_cache", "attn_decode"}) {
    const auto a = load(c + ".args");  // Tq, Tk, heads, head_dim, scale, causal, q_pos0
    const auto q = load(c + ".q"), k = load(c + ".k"), v = load(c + ".v"), want = load(c + ".out");
    const int Tq = static_cast<int>(a[0]), Tk = static_cast<int>(a[1]), heads = static_cast<int>(a[2]), hd = static_cast<int>(a[3]);
    const int q_stride = static_cast<int>(shape_of(c + ".q")[1]), kv_stride = static_cast<int>(shape_of(c + ".k")[1]);
    REQUIRE(shape_of(c + ".v")[1] == kv_stride);
    with_both_kernel_sets([&](const std::string& set) {
      // out with a wider row stride than heads*hd: the padding must stay untouched
      const int out_stride = heads * hd + 2;
      std::vector<float> out(static_cast<size_t>(Tq) * out_stride, 7.0f), got;
      tgv::attention(out.data(), out_stride, q.data(), q_stride, k.data(), v.data(), kv_stride, Tq, Tk, heads, hd, a[4],
                     a[5] != 0, static_cast<int>(a[6]));
      int pad_changed = 0;
      for (int t = 0; t < Tq; t++) {
        for (int i = 0; i < heads * hd; i++) got.push_back(out[static_cast<size_t>(t) * out_stride + i]);
        pad_changed += (out[static_cast<size_t>(t) * out_stride + heads * hd] != 7.0f) + (out[static_cast<size_t>(t) * out_stride + heads * hd + 1] != 7.0f);
      }
      CHECK(pad_changed == 0);
      tgv::test::check_close(c + " (" + set + ")", got, want, 5e-7);
    });
  }
}

TEST_CASE("linear = x W^T + b for every dtype (float64 reference computed here)") {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 1.0f);
  const int T = 3, K = 300, N = 45;
  std::vector<float> x(static_cast<size_t>(T) * K), w(static_cast<size_t>(N) * K), b(static_cast<size_t>(N));
  for (auto* v : {&x, &w, &b})
    for (auto& e : *v) e = d(rng);
  std::vector<uint16_t> h(w.size()), bf(w.size());
  for (size_t i = 0; i < w.size(); i++) {  // weights exactly representable in all three dtypes
    bf[i] = tgv::f32_to_bf16(w[i]);
    w[i] = tgv::bf16_to_f32(bf[i]);
    h[i] = tgv::f32_to_f16(w[i]);
    REQUIRE(tgv::f16_to_f32(h[i]) == w[i]);
  }
  std::vector<float> want(static_cast<size_t>(T) * N);
  for (int t = 0; t < T; t++)
    for (int n = 0; n < N; n++) {
      double s = b[n];
      for (int k = 0; k < K; k++) s += static_cast<double>(x[static_cast<size_t>(t) * K + k]) * w[static_cast<size_t>(n) * K + k];
      want[static_cast<size_t>(t) * N + n] = static_cast<float>(s);
    }
  const tgv::Tensor W32{"w", tgv::DType::F32, {N, K}, w.data()}, W16{"w", tgv::DType::F16, {N, K}, h.data()},
      Wbf{"w", tgv::DType::BF16, {N, K}, bf.data()};
  with_both_kernel_sets([&](const std::string& set) {
    for (const tgv::Tensor* W : {&W32, &W16, &Wbf}) {
      std::vector<float> got(want.size());
      tgv::linear(got.data(), x.data(), *W, b.data(), T);
      tgv::test::check_close(std::string("linear ") + tgv::dtype_name(W->dtype) + " (" + set + ")", got, want, 5e-7);
    }
  });
  std::vector<float> s(4);
  const float p[4] = {1, 2, 3, 4}, q[4] = {0.5f, -2, 1e8f, 0};
  tgv::add(s.data(), p, q, 4);
  CHECK(s == std::vector<float>{1.5f, 0, 1e8f + 3, 4});
}
