// The packed GEMMs (src/kernels/gemm_avx2.cpp, gemm_avx512.cpp, reached through the SIMD
// KernelSets' matmul from 4 or 6 input rows on; fewer rows take the tile kernels) against
// the scalar reference on odd shapes: every T, N, K edge of the 6 x 16 (avx2) and 8 x 32
// (avx512) micro-kernels, including partial 32-column panels of one and of two vectors,
// the 384- and 256-wide k-blocks and the 256-wide n-blocks, every float weight dtype; and
// its results are the same bit for bit however the rows of W are split between calls (so
// they do not depend on the thread count).
//
// Tolerance (tests/tolerances.h, kGemmVsScalar): |got - scalar| <= tol * sum_k |x_k w_k|
// for every output, as in test_kernels.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tinygptv/kernels.h"
#include "tinygptv/tensor.h"
#include "kernel_test_util.h"
#include "tolerances.h"

namespace {

using tgv::test::fast_sets;

// Weights in one float dtype: the stored bits and the exact values they decode to.
struct HalfOrFloat {
  tgv::DType dtype;
  std::vector<float> value;  // also the F32 storage
  std::vector<uint16_t> bits;
};

HalfOrFloat make(tgv::DType dt, size_t n, std::mt19937& rng) {
  HalfOrFloat w{dt, tgv::test::randn(n, rng, 0.5f), {}};
  if (dt == tgv::DType::F32) return w;
  w.bits.resize(n);
  for (size_t i = 0; i < n; i++) {
    w.bits[i] = dt == tgv::DType::F16 ? tgv::f32_to_f16(w.value[i]) : tgv::f32_to_bf16(w.value[i]);
    w.value[i] = dt == tgv::DType::F16 ? tgv::f16_to_f32(w.bits[i]) : tgv::bf16_to_f32(w.bits[i]);
  }
  return w;
}

void run(const tgv::KernelSet& ks, const HalfOrFloat& w, float* y, int ldy, const float* x, int T, int K, int n0, int n1) {
  switch (w.dtype) {
    case tgv::DType::F32: ks.matmul_f32(y, ldy, x, w.value.data(), T, K, n0, n1); break;
    case tgv::DType::F16: ks.matmul_f16(y, ldy, x, w.bits.data(), T, K, n0, n1); break;
    case tgv::DType::BF16: ks.matmul_bf16(y, ldy, x, w.bits.data(), T, K, n0, n1); break;
    default: FAIL("not a float dtype");
  }
}

const tgv::DType kFloatTypes[] = {tgv::DType::F32, tgv::DType::F16, tgv::DType::BF16};

}  // namespace

TEST_CASE("SIMD GEMM equals the scalar matmul on odd shapes, every float dtype") {
  const auto sets = fast_sets();
  if (sets.empty()) MESSAGE("no SIMD kernel set on this machine/build: nothing to compare");
  std::mt19937 rng(11);
  for (const tgv::KernelSet* ks : sets) {
    double worst = 0;
    for (tgv::DType dt : kFloatTypes)
      for (int K : {1, 7, 31, 33, 257, 1408})
        for (int N : {1, 7, 33, 57, 257}) {
          const HalfOrFloat w = make(dt, static_cast<size_t>(N) * K, rng);
          for (int T : {2, 3, 5, 6, 7, 9, 31, 33, 257}) {
            const std::string set_name = ks->name;
            CAPTURE(set_name);
            CAPTURE(tgv::dtype_name(dt));
            CAPTURE(T); CAPTURE(N); CAPTURE(K);
            const auto x = tgv::test::randn(static_cast<size_t>(T) * K, rng, 1.0f);
            const int ldy = N + 5;  // a wider y: the 5 columns past N must stay untouched
            std::vector<float> want(static_cast<size_t>(T) * ldy, -7.0f), got = want;
            run(tgv::scalar_kernels(), w, want.data(), ldy, x.data(), T, K, 0, N);
            run(*ks, w, got.data(), ldy, x.data(), T, K, 0, N);
            for (int t = 0; t < T; t++) {
              const float* xt = x.data() + static_cast<size_t>(t) * K;
              for (int n = 0; n < ldy; n++) {
                const size_t i = static_cast<size_t>(t) * ldy + n;
                if (n >= N) {
                  if (got[i] != -7.0f) FAIL_CHECK("wrote past N at t=" << t << " n=" << n);
                  continue;
                }
                double scale = 0;  // sum_k |x_k w_k|
                for (int k = 0; k < K; k++) scale += std::fabs(static_cast<double>(xt[k]) * w.value[static_cast<size_t>(n) * K + k]);
                const double e = std::fabs(static_cast<double>(got[i]) - want[i]) / scale;
                worst = std::max(worst, e);
                if (!(e <= tgv::test::kGemmVsScalar)) FAIL_CHECK("t=" << t << " n=" << n << ": " << got[i] << " vs scalar " << want[i]);
              }
            }
          }
        }
    MESSAGE(std::string(ks->name) << " GEMM vs scalar: max |diff| / sum|x w| = " << worst);
  }
}

TEST_CASE("SIMD GEMM: the same bits however the rows of W are split (thread-count independence)") {
  std::mt19937 rng(12);
  for (const tgv::KernelSet* ks : fast_sets())
    for (tgv::DType dt : kFloatTypes) {
      // N over two n-blocks of 256 and a partial 16-column panel; K over two k-blocks of 384.
      const int T = 37, N = 530, K = 800;
      const std::string set_name = ks->name;
      CAPTURE(set_name);
      CAPTURE(tgv::dtype_name(dt));
      const HalfOrFloat w = make(dt, static_cast<size_t>(N) * K, rng);
      const auto x = tgv::test::randn(static_cast<size_t>(T) * K, rng, 1.0f);
      std::vector<float> whole(static_cast<size_t>(T) * N), split(whole.size());
      run(*ks, w, whole.data(), N, x.data(), T, K, 0, N);
      const int cuts[] = {0, 5, 21, 96, 300, 301, 529, N};  // odd, unaligned ranges
      for (size_t c = 0; c + 1 < std::size(cuts); c++) run(*ks, w, split.data(), N, x.data(), T, K, cuts[c], cuts[c + 1]);
      CHECK(split == whole);
    }
}
