// Every KernelSet against the scalar reference (STYLE.md practice 6), and the scalar
// set itself against a float64 dot product, on random data and odd sizes, for every
// weight dtype (F32, F16, BF16, Q8_0: the float64 reference uses the exact values the
// stored weights decode to; the SIMD sets run Q8_0 with quantized activations, which
// tests/kernels/test_quant_kernels.cpp checks).
//
// Tolerance. A float32 dot product of length K has an error of at most about
// (K/8 + 3) * 2^-24 * sum_k |x_k w_k| (8 partial sums, then a tree of 3), usually far
// less. We check every output element with
//     |got - want| <= tol * sum_k |x_k w_k|
// (the sum in float64). For the SIMD sets vs scalar tol = 1e-6, for scalar vs float64
// tol = 5e-7. Measured (x86-64 AVX2, `test_kernels -s`): avx2 vs scalar 1.35e-7,
// scalar vs float64 8.5e-8, dot 5.2e-8 (margins 6-7x).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/kernels.h"
#include "tinygptv/tensor.h"
#include "tinygptv/thread_pool.h"

#include "kernels/kernel_test_util.h"
#include "tolerances.h"

namespace {

struct Shape { int T, K, N; };
const Shape kShapes[] = {{1, 7, 13}, {33, 80, 161}, {1, 1, 1}, {5, 257, 31}, {2, 4096, 3}, {4, 8, 4},
                         {7, 31, 9},  {3, 33, 5},     {64, 64, 64}, {1, 2560, 37}, {9, 15, 2}, {6, 16, 7}};

using tgv::test::fast_sets;
using tgv::test::randn;

// Weights of one dtype: the stored bits and the exact float values they mean.
struct Weights {
  tgv::DType dtype;
  std::vector<float> f32;        // used when dtype == F32
  std::vector<uint16_t> h;       // F16 / BF16 bits
  std::vector<tgv::BlockQ8_0> q; // Q8_0 blocks
  std::vector<float> value;      // the float value of every weight
  const void* data() const {
    if (dtype == tgv::DType::Q8_0) return q.data();
    return dtype == tgv::DType::F32 ? static_cast<const void*>(f32.data()) : h.data();
  }
};

// n random weights (n % 32 == 0 for Q8_0).
Weights make_weights(tgv::DType dt, size_t n, std::mt19937& rng) {
  Weights w{dt, {}, {}, {}, randn(n, rng, 0.5f)};
  if (dt == tgv::DType::F32) {
    w.f32 = w.value;
  } else if (dt == tgv::DType::Q8_0) {
    w.q.resize(n / tgv::kQ8Block);
    tgv::quantize_row_q8_0(w.q.data(), w.value.data(), n);
    tgv::dequantize_row_q8_0(w.value.data(), w.q.data(), n);
  } else {
    w.h.resize(n);
    for (size_t i = 0; i < n; i++) {
      w.h[i] = dt == tgv::DType::F16 ? tgv::f32_to_f16(w.value[i]) : tgv::f32_to_bf16(w.value[i]);
      w.value[i] = dt == tgv::DType::F16 ? tgv::f16_to_f32(w.h[i]) : tgv::bf16_to_f32(w.h[i]);
    }
  }
  return w;
}

void call_matmul(const tgv::KernelSet& ks, const Weights& w, float* y, int ldy, const float* x, int T, int K, int n0, int n1) {
  switch (w.dtype) {
    case tgv::DType::F32: ks.matmul_f32(y, ldy, x, w.f32.data(), T, K, n0, n1); break;
    case tgv::DType::F16: ks.matmul_f16(y, ldy, x, w.h.data(), T, K, n0, n1); break;
    case tgv::DType::BF16: ks.matmul_bf16(y, ldy, x, w.h.data(), T, K, n0, n1); break;
    default:  // Q8_0 through the exact path of the scalar set (the fast sets' integer path: test_quant_kernels.cpp)
      REQUIRE(!ks.quant_reads_xq(w.dtype, T));
      ks.matmul_quant(y, ldy, x, nullptr, w.dtype, w.q.data(), T, K, n0, n1);
      break;
  }
}

// sum_k |x_k w_k| for every output, the scale of the allowed error.
std::vector<double> abs_dots(const std::vector<float>& x, const std::vector<float>& w, int T, int K, int N) {
  std::vector<double> s(static_cast<size_t>(T) * N);
  for (int t = 0; t < T; t++)
    for (int n = 0; n < N; n++) {
      double a = 0;
      for (int k = 0; k < K; k++) a += std::fabs(static_cast<double>(x[static_cast<size_t>(t) * K + k]) * w[static_cast<size_t>(n) * K + k]);
      s[static_cast<size_t>(t) * N + n] = a;
    }
  return s;
}

// Shapes for Q8_0, whose rows are whole blocks of 32: odd T and N, K = 32 * odd.
const Shape kShapesQ8[] = {{1, 32, 13}, {33, 96, 161}, {1, 32, 1}, {5, 288, 31}, {2, 4096, 3}, {7, 160, 9}, {64, 64, 64}};

// The shapes to test for a dtype.
std::vector<Shape> shapes_for(tgv::DType dt) {
  if (dt == tgv::DType::Q8_0) return {std::begin(kShapesQ8), std::end(kShapesQ8)};
  return {std::begin(kShapes), std::end(kShapes)};
}

const tgv::DType kDTypes[] = {tgv::DType::F32, tgv::DType::F16, tgv::DType::BF16, tgv::DType::Q8_0};
// The dtypes whose SIMD kernels compute with float activations (to rounding); the
// quantized ones quantize the activations there: test_quant_kernels.cpp.
const tgv::DType kFloatDTypes[] = {tgv::DType::F32, tgv::DType::F16, tgv::DType::BF16};

const float kSentinel = -12345.0f;

}  // namespace

TEST_CASE("scalar matmul equals a float64 dot product within the float32 bound") {
  std::mt19937 rng(1);
  double worst = 0;
  for (tgv::DType dt : kDTypes)
    for (const Shape& s : shapes_for(dt)) {
      const auto x = randn(static_cast<size_t>(s.T) * s.K, rng);
      const Weights w = make_weights(dt, static_cast<size_t>(s.N) * s.K, rng);
      std::vector<float> y(static_cast<size_t>(s.T) * s.N);
      call_matmul(tgv::scalar_kernels(), w, y.data(), s.N, x.data(), s.T, s.K, 0, s.N);
      const auto scale = abs_dots(x, w.value, s.T, s.K, s.N);
      for (int t = 0; t < s.T; t++)
        for (int n = 0; n < s.N; n++) {
          double want = 0;
          for (int k = 0; k < s.K; k++) want += static_cast<double>(x[static_cast<size_t>(t) * s.K + k]) * w.value[static_cast<size_t>(n) * s.K + k];
          const size_t i = static_cast<size_t>(t) * s.N + n;
          const double e = std::fabs(y[i] - want) / scale[i];
          worst = std::max(worst, e);
          if (!(e <= 5e-7)) FAIL_CHECK(tgv::dtype_name(dt) << " " << s.T << "x" << s.K << "x" << s.N << " at t=" << t << " n=" << n << ": " << y[i] << " vs " << want);
        }
    }
  MESSAGE("scalar vs float64: max |err| / sum|x w| = " << worst);
}

TEST_CASE("every SIMD KernelSet equals the scalar one: matmul on odd shapes, all dtypes, row ranges") {
  const auto sets = fast_sets();
  if (sets.empty()) MESSAGE("no SIMD kernel set on this machine/build: nothing to compare");
  std::mt19937 rng(2);
  for (const tgv::KernelSet* ks : sets) {
    double worst = 0;
    for (tgv::DType dt : kFloatDTypes)
      for (const Shape& s : shapes_for(dt)) {
        const std::string set_name = ks->name;
        CAPTURE(set_name);
        CAPTURE(tgv::dtype_name(dt));
        CAPTURE(s.T); CAPTURE(s.K); CAPTURE(s.N);
        const auto x = randn(static_cast<size_t>(s.T) * s.K, rng);
        const Weights w = make_weights(dt, static_cast<size_t>(s.N) * s.K, rng);
        const auto scale = abs_dots(x, w.value, s.T, s.K, s.N);
        // The full range, and an inner range [n0, n1) written into a wider y (ldy = N + 3):
        // everything outside must stay untouched.
        const int ranges[2][2] = {{0, s.N}, {s.N / 3, s.N - s.N / 4}};
        for (const auto& r : ranges) {
          const int ldy = s.N + 3, n0 = r[0], n1 = r[1];
          std::vector<float> want(static_cast<size_t>(s.T) * ldy, kSentinel), got = want;
          call_matmul(tgv::scalar_kernels(), w, want.data(), ldy, x.data(), s.T, s.K, n0, n1);
          call_matmul(*ks, w, got.data(), ldy, x.data(), s.T, s.K, n0, n1);
          for (int t = 0; t < s.T; t++)
            for (int n = 0; n < ldy; n++) {
              const size_t i = static_cast<size_t>(t) * ldy + n;
              if (n < n0 || n >= n1) {
                if (got[i] != kSentinel) FAIL_CHECK("wrote outside [n0, n1) at t=" << t << " n=" << n);
                continue;
              }
              const double e = std::fabs(static_cast<double>(got[i]) - want[i]) / scale[static_cast<size_t>(t) * s.N + n];
              worst = std::max(worst, e);
              if (!(e <= 1e-6)) FAIL_CHECK("t=" << t << " n=" << n << ": " << got[i] << " vs scalar " << want[i]);
            }
        }
      }
    MESSAGE(std::string(ks->name) << " vs scalar matmul: max |diff| / sum|x w| = " << worst);
  }
}

TEST_CASE("every SIMD KernelSet equals the scalar one: dot and axpy") {
  std::mt19937 rng(3);
  for (const tgv::KernelSet* ks : fast_sets()) {
    double worst_dot = 0, worst_axpy = 0;
    for (int n : {1, 7, 8, 15, 16, 17, 31, 33, 257, 1000}) {
      const std::string set_name = ks->name;
      CAPTURE(set_name);
      CAPTURE(n);
      const auto a = randn(static_cast<size_t>(n), rng), b = randn(static_cast<size_t>(n), rng);
      double scale = 0;
      for (int i = 0; i < n; i++) scale += std::fabs(static_cast<double>(a[i]) * b[i]);
      const double e = std::fabs(static_cast<double>(ks->dot(a.data(), b.data(), n)) - tgv::scalar_kernels().dot(a.data(), b.data(), n)) / scale;
      worst_dot = std::max(worst_dot, e);
      CHECK(e <= 1e-6);

      // axpy: each element is one multiply-add, so the error is one rounding of a*x
      // (fused vs not): |diff| <= 2^-23 (|y| + |a x|).
      auto y1 = randn(static_cast<size_t>(n) + 1, rng), y2 = y1;
      const float alpha = 0.75f;
      tgv::scalar_kernels().axpy(y1.data(), alpha, b.data(), n);
      ks->axpy(y2.data(), alpha, b.data(), n);
      for (int i = 0; i < n; i++) {
        const double ref = std::fabs(y1[i]) + std::fabs(alpha * b[i]);
        const double d = std::fabs(static_cast<double>(y1[i]) - y2[i]) / ref;
        worst_axpy = std::max(worst_axpy, d);
        if (!(d <= std::ldexp(1.0, -23))) FAIL_CHECK("axpy i=" << i << ": " << y2[i] << " vs " << y1[i]);
      }
      CHECK(y2[static_cast<size_t>(n)] == y1[static_cast<size_t>(n)]);  // one past the end untouched
    }
    MESSAGE(std::string(ks->name) << " dot: max |diff| / sum|a b| = " << worst_dot << "; axpy: max rel = " << worst_axpy);
  }
}

TEST_CASE("every KernelSet's head_dots / head_axpys are its dot / axpy per head, bit for bit") {
  // The contract (kernels.h): the same values as calling the set's dot and axpy on each
  // head, so decode attention gives the same numbers as before the loop moved into the
  // set. Odd head sizes (the masked tails), one head, strides > 1; the elements between
  // the strided outputs stay untouched.
  std::mt19937 rng(11);
  std::vector<const tgv::KernelSet*> sets = fast_sets();
  sets.push_back(&tgv::scalar_kernels());
  for (const tgv::KernelSet* ks : sets) {
    const std::string set_name = ks->name;
    CAPTURE(set_name);
    for (const auto [nh, hd, stride] : {std::tuple{1, 80, 1}, {16, 80, 632}, {3, 17, 5}, {5, 1, 2}, {2, 33, 7}}) {
      CAPTURE(nh);
      CAPTURE(hd);
      const size_t cols = static_cast<size_t>(nh) * hd, strided = static_cast<size_t>(nh) * stride;
      const auto q = randn(cols, rng), k = randn(cols, rng), p = randn(strided, rng);
      const float scale = 0.125f;
      std::vector<float> s(strided, -7.0f);
      ks->head_dots(s.data(), static_cast<size_t>(stride), q.data(), k.data(), nh, hd, scale);
      auto o1 = randn(cols, rng), o2 = o1;
      ks->head_axpys(o2.data(), p.data(), static_cast<size_t>(stride), k.data(), nh, hd);
      for (int h = 0; h < nh; h++) {
        const size_t c = static_cast<size_t>(h) * hd;
        const float want = ks->dot(q.data() + c, k.data() + c, hd) * scale;
        CHECK(std::memcmp(&want, &s[static_cast<size_t>(h) * stride], sizeof(float)) == 0);
        for (int j = 1; j < stride; j++) CHECK(s[static_cast<size_t>(h) * stride + j] == -7.0f);
        ks->axpy(o1.data() + c, p[static_cast<size_t>(h) * stride], k.data() + c, hd);
      }
      CHECK(std::memcmp(o1.data(), o2.data(), sizeof(float) * cols) == 0);
    }
  }
}

TEST_CASE("every KernelSet converts all 65,536 float16 values exactly (convert_f16)") {
  // Every bit pattern, at odd lengths and offsets (the tails): the same float32 as the
  // scalar f16_to_f32 (NaN stays NaN), and nothing past n is written.
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); i++) all[i] = static_cast<uint16_t>(i);
  std::vector<const tgv::KernelSet*> sets = fast_sets();
  sets.push_back(&tgv::scalar_kernels());
  for (const tgv::KernelSet* ks : sets) {
    const std::string set_name = ks->name;
    CAPTURE(set_name);
    for (int n : {65536, 1, 7, 8, 15, 16, 17, 33, 80}) {
      CAPTURE(n);
      const size_t first = n == 65536 ? 0 : 31744 - 5;  // around the infinities and NaNs
      std::vector<float> got(static_cast<size_t>(n) + 1, -7.0f);
      ks->convert_f16(got.data(), all.data() + first, n);
      int wrong = 0;
      for (int i = 0; i < n; i++) {
        const float want = tgv::f16_to_f32(all[first + i]);
        const bool same = std::isnan(want) ? std::isnan(got[i]) : std::memcmp(&want, &got[i], sizeof(float)) == 0;
        wrong += !same;
      }
      CHECK(wrong == 0);
      CHECK(got[static_cast<size_t>(n)] == -7.0f);
    }
  }
}

namespace {
// Distance in float32 ulps (the bit patterns in numeric order; -0 and +0 are 0 apart).
int64_t ulp_distance(float a, float b) {
  auto key = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i >= 0 ? static_cast<int64_t>(i) : -static_cast<int64_t>(i & 0x7FFFFFFF);
  };
  return std::llabs(key(a) - key(b));
}
}  // namespace

TEST_CASE("every SIMD KernelSet's gelu_erf is the scalar (libm) one within one ulp") {
  // Inputs: 1 M normal values (sigma 3: the ViT's range), every 4099th float32 bit
  // pattern (all magnitudes, subnormals, both signs), and the edges of gelu_erf.h's
  // pieces (|v| = sqrt 2, 10.7 sqrt 2, where the float result becomes -0) and the
  // specials. Results: NaN where the scalar gives NaN, otherwise at most one ulp apart,
  // and such differences rare (tolerances.h: kGeluErfOneUlpShare); nothing past n written.
  std::mt19937 rng(11);
  std::vector<float> in = randn(1 << 20, rng, 3.0f);
  for (uint64_t b = 0; b < (1ull << 32); b += 4099) {
    const uint32_t u = static_cast<uint32_t>(b);
    float f;
    std::memcpy(&f, &u, sizeof f);
    in.push_back(f);
  }
  for (float v : {0.0f, -0.0f, 1.41421354f, 1.41421366f, -1.41421354f, -1.41421366f, 15.13f, -15.13f, -15.14f,
                  -14.4f, -14.5f, 1e-45f, -1e-45f, 3e38f, -3e38f, INFINITY, -INFINITY, NAN})
    in.push_back(v);
  std::vector<float> want = in;
  tgv::scalar_kernels().gelu_erf(want.data(), want.size());
  for (const tgv::KernelSet* ks : fast_sets()) {
    const std::string set_name = ks->name;
    CAPTURE(set_name);
    std::vector<float> got = in;
    ks->gelu_erf(got.data(), got.size());
    size_t off_by_one = 0, wrong = 0;
    for (size_t i = 0; i < in.size(); i++) {
      if (std::isnan(want[i]) || std::isnan(got[i])) {
        wrong += std::isnan(want[i]) != std::isnan(got[i]);
        continue;
      }
      const int64_t d = ulp_distance(got[i], want[i]);
      off_by_one += d == 1;
      if (d > 1) {
        if (wrong < 5) MESSAGE("v = " << in[i] << ": " << got[i] << " against " << want[i]);
        wrong++;
      }
    }
    MESSAGE(set_name << ": " << off_by_one << " of " << in.size() << " values one ulp from libm's");
    CHECK(wrong == 0);
    CHECK(static_cast<double>(off_by_one) <= tgv::test::kGeluErfOneUlpShare * static_cast<double>(in.size()));
    for (size_t n : {1, 3, 5, 7, 9, 17}) {  // the tails; the value after n untouched
      CAPTURE(n);
      std::vector<float> part(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n) + 1);
      ks->gelu_erf(part.data(), n);
      for (size_t i = 0; i < n; i++) CHECK(ulp_distance(part[i], want[i]) <= 1);
      CHECK(part[n] == in[n]);
    }
  }
}

TEST_CASE("matmul(): bias, threads and the dispatch table give the reference result") {
  std::mt19937 rng(4);
  const int T = 5, K = 96, N = 301;  // N over several chunks of 16 rows; K whole Q8_0 blocks
  const auto x = randn(static_cast<size_t>(T) * K, rng), bias = randn(static_cast<size_t>(N), rng);
  for (tgv::DType dt : kFloatDTypes) {
    const Weights w = make_weights(dt, static_cast<size_t>(N) * K, rng);
    tgv::Tensor W{"w", dt, {N, K}, w.data()};
    std::vector<float> want(static_cast<size_t>(T) * N);
    call_matmul(tgv::scalar_kernels(), w, want.data(), N, x.data(), T, K, 0, N);
    for (int t = 0; t < T; t++)
      for (int n = 0; n < N; n++) want[static_cast<size_t>(t) * N + n] += bias[n];
    for (int threads : {1, 2, 3}) {
      tgv::set_num_threads(threads);
      tgv::use_reference_kernels(true);
      std::vector<float> got(want.size());
      tgv::matmul(got.data(), x.data(), W, bias.data(), T);
      CHECK(got == want);  // the scalar set through the pool: bit for bit
      tgv::use_reference_kernels(false);
      tgv::matmul(got.data(), x.data(), W, bias.data(), T);
      const auto scale = abs_dots(x, w.value, T, K, N);
      for (size_t i = 0; i < got.size(); i++)
        if (!(std::fabs(got[i] - want[i]) <= 1e-6 * (scale[i] + std::fabs(bias[i % N])))) FAIL_CHECK(i << ": " << got[i] << " vs " << want[i]);
    }
  }
  tgv::set_num_threads(0);
}

TEST_CASE("kernel choice: --reference, TINYGPTV_REFERENCE and TINYGPTV_KERNELS") {
  tgv::use_reference_kernels(true);
  CHECK(std::string(tgv::kernels().name) == "scalar");
  tgv::use_reference_kernels(false);
  const tgv::KernelSet* best = tgv::avx512_kernels() ? tgv::avx512_kernels()
                               : tgv::avx2_kernels() ? tgv::avx2_kernels()
                               : tgv::neon_kernels() ? tgv::neon_kernels()
                                                     : &tgv::scalar_kernels();
  CHECK(&tgv::kernels() == best);

  const char* saved_ref = std::getenv("TINYGPTV_REFERENCE");
  const char* saved_k = std::getenv("TINYGPTV_KERNELS");
  const std::string keep_ref = saved_ref ? saved_ref : "", keep_k = saved_k ? saved_k : "";
  ::unsetenv("TINYGPTV_KERNELS");
  ::setenv("TINYGPTV_REFERENCE", "1", 1);
  tgv::use_reference_kernels(false);  // re-detect
  CHECK(std::string(tgv::kernels().name) == "scalar");
  ::setenv("TINYGPTV_REFERENCE", "0", 1);
  tgv::use_reference_kernels(false);
  CHECK(&tgv::kernels() == best);
  ::setenv("TINYGPTV_KERNELS", "scalar", 1);
  tgv::use_reference_kernels(false);
  CHECK(std::string(tgv::kernels().name) == "scalar");
  if (tgv::avx2_kernels()) {
    ::setenv("TINYGPTV_KERNELS", "avx2", 1);
    tgv::use_reference_kernels(false);
    CHECK(std::string(tgv::kernels().name) == "avx2");
  }
  if (tgv::avx512_kernels()) {
    ::setenv("TINYGPTV_KERNELS", "avx512", 1);
    tgv::use_reference_kernels(false);
    CHECK(std::string(tgv::kernels().name) == "avx512");
  }

  if (saved_ref) ::setenv("TINYGPTV_REFERENCE", keep_ref.c_str(), 1); else ::unsetenv("TINYGPTV_REFERENCE");
  if (saved_k) ::setenv("TINYGPTV_KERNELS", keep_k.c_str(), 1); else ::unsetenv("TINYGPTV_KERNELS");
  tgv::use_reference_kernels(false);
}

TEST_CASE("Q8_0 matmul is the f32 matmul of the dequantized weights") {
  // The scalar Q8_0 kernel (matmul_quant of the scalar set) dequantizes each row exactly and then runs the f32 dot
  // product, so it must equal the scalar f32 kernel on dequantized weights bit for bit.
  std::mt19937 rng(6);
  for (const Shape& s : kShapesQ8) {
    const auto x = randn(static_cast<size_t>(s.T) * s.K, rng);
    const Weights w = make_weights(tgv::DType::Q8_0, static_cast<size_t>(s.N) * s.K, rng);
    std::vector<float> a(static_cast<size_t>(s.T) * s.N), b(a.size());
    tgv::scalar_kernels().matmul_quant(a.data(), s.N, x.data(), nullptr, tgv::DType::Q8_0, w.q.data(), s.T, s.K, 0, s.N);
    tgv::scalar_kernels().matmul_f32(b.data(), s.N, x.data(), w.value.data(), s.T, s.K, 0, s.N);
    CHECK(a == b);
  }
  // A Q8_0 weight whose rows are not whole blocks is a malformed file: an Error, not an abort.
  std::vector<tgv::BlockQ8_0> blocks(7);
  const tgv::Tensor bad{"bad", tgv::DType::Q8_0, {32, 7}, blocks.data()};
  std::vector<float> x(7), y(32);
  CHECK_THROWS_AS(tgv::matmul(y.data(), x.data(), bad, nullptr, 1), tgv::Error);
}
