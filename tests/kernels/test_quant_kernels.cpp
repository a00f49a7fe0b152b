// The matrix product with block-quantized weights (KernelSet::matmul_quant), every
// weight format, every fast kernel set this build and CPU have, on random data and odd
// shapes (T in {1,2,3,4,5,6,8,9,15,31,33}, N in {1,7,33,257}, K of 1, 7 and more blocks:
// every edge of the tiles of quant_avx2.cpp and quant_avx512.cpp):
//
//  1. Where the fast set reads quantized activations (quant_reads_xq: every format, except
//     Q8_0 against T > 1 rows), its integer arithmetic IS the scalar QuantFormat::vec_dot
//     (src/quant/): on the same quantized activations, every output equals vec_dot(weight
//     row, activation row) to float rounding:  |fast - vec_dot| <= 1e-5 * sum_k |w_k xq_k|
//     (w, xq the dequantized weights and activations, in float64).
//  1b. Q8_0 against T > 1 rows: the packed float GEMM on the exactly dequantized weights
//     equals the scalar set's exact product to float rounding, as the F16 GEMM does:
//     |fast - exact| <= kGemmVsScalar * sum_k |x_k w_k|.
//  2. Against the exact path (the scalar set: dequantized weights, float activations) the
//     fast set differs by the activation quantization: ||fast - exact|| / ||exact|| over
//     all outputs of a format is within tests/tolerances.h (fixture "kernels/quant").
//  3. matmul() quantizes the activations itself, and gives the same numbers whatever the
//     thread count; rows that are not whole blocks are an Error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/kernels.h"
#include "tinygptv/quant.h"
#include "tinygptv/tensor.h"
#include "tinygptv/thread_pool.h"
#include "tolerances.h"

#include "kernels/kernel_test_util.h"
#ifdef TGV_HAVE_AVX512
#include "kernels/kernel_sets.h"  // quantize_row_avx512 (src/kernels/)
#endif

namespace {

const tgv::DType kFormats[] = {tgv::DType::Q8_0, tgv::DType::Q4_0, tgv::DType::Q4_1, tgv::DType::Q5_0,
                               tgv::DType::Q5_1, tgv::DType::Q4_K, tgv::DType::Q6_K};
const int kT[] = {1, 2, 3, 4, 5, 6, 8, 9, 15, 31, 33};
const int kN[] = {1, 7, 33, 257};

using tgv::test::fast_sets;
using tgv::test::randn;

// rows x K floats quantized to format f, row after row; `value` gets what the blocks decode to.
std::vector<unsigned char> quantize(const tgv::QuantFormat& f, const std::vector<float>& x, int rows, int K, std::vector<float>* value) {
  const size_t row_bytes = static_cast<size_t>(K / f.block_size) * f.block_bytes;
  std::vector<unsigned char> q(row_bytes * static_cast<size_t>(rows));
  value->resize(x.size());
  for (int r = 0; r < rows; r++) {
    f.quantize_row(q.data() + r * row_bytes, x.data() + static_cast<size_t>(r) * K, static_cast<size_t>(K));
    f.dequantize_row(value->data() + static_cast<size_t>(r) * K, q.data() + r * row_bytes, static_cast<size_t>(K));
  }
  return q;
}

// The K values for a format: 1 block, 7 blocks, and a longer odd number of blocks.
std::vector<int> ks_for(const tgv::QuantFormat& f) {
  if (f.block_size == tgv::kQK_K) return {256, 7 * 256, 11 * 256};
  return {32, 7 * 32, 81 * 32};
}

const float kSentinel = -12345.0f;

}  // namespace

TEST_CASE("fast matmul_quant == scalar vec_dot on the same quantized activations, every format") {
  const auto sets = fast_sets();
  if (sets.empty()) MESSAGE("no fast kernel set on this machine/build: nothing to compare");
  std::mt19937 rng(11);
  for (const tgv::KernelSet* ks : sets) {
    for (tgv::DType dt : kFormats) {
      const tgv::QuantFormat& f = *tgv::quant_format(dt);
      const tgv::QuantFormat& a = *tgv::quant_format(f.vec_dot_type);
      double worst = 0;
      for (int K : ks_for(f))
        for (int T : kT)
          for (int N : kN) {
            if (!ks->quant_reads_xq(dt, T)) continue;  // Q8_0, T > 1: the float GEMM (next test case)
            CAPTURE(ks->name); CAPTURE(f.name); CAPTURE(T); CAPTURE(N); CAPTURE(K);
            std::vector<float> wv, xv;
            const auto w = quantize(f, randn(static_cast<size_t>(N) * K, rng, 0.5f), N, K, &wv);
            const auto xq = quantize(a, randn(static_cast<size_t>(T) * K, rng), T, K, &xv);
            const size_t wrow = w.size() / N, xrow = xq.size() / T;
            // An inner range of rows [n0, n1) written into a wider y: the rest stays untouched.
            const int ldy = N + 3, n0 = N / 3, n1 = N - N / 4;
            std::vector<float> y(static_cast<size_t>(T) * ldy, kSentinel);
            ks->matmul_quant(y.data(), ldy, nullptr, xq.data(), dt, w.data(), T, K, n0, n1);
            for (int t = 0; t < T; t++)
              for (int n = 0; n < ldy; n++) {
                const float got = y[static_cast<size_t>(t) * ldy + n];
                if (n < n0 || n >= n1) {
                  if (got != kSentinel) FAIL_CHECK("wrote outside [n0, n1) at t=" << t << " n=" << n);
                  continue;
                }
                const float want = f.vec_dot(static_cast<size_t>(K), w.data() + n * wrow, xq.data() + t * xrow);
                double scale = 0;
                for (int k = 0; k < K; k++)
                  scale += std::fabs(static_cast<double>(wv[static_cast<size_t>(n) * K + k]) * xv[static_cast<size_t>(t) * K + k]);
                const double e = std::fabs(static_cast<double>(got) - want) / scale;
                worst = std::max(worst, e);
                if (!(e <= 1e-5)) FAIL_CHECK("t=" << t << " n=" << n << ": " << got << " vs vec_dot " << want);
              }
          }
      MESSAGE(std::string(ks->name) << " " << std::string(f.name) << " vs vec_dot: max |diff| / sum|w xq| = " << worst);
    }
  }
}

TEST_CASE("fast matmul_quant, Q8_0 against T > 1 rows: the float GEMM equals the exact product to float rounding") {
  const auto sets = fast_sets();
  std::mt19937 rng(15);
  const tgv::QuantFormat& f = *tgv::quant_format(tgv::DType::Q8_0);
  for (const tgv::KernelSet* ks : sets) {
    CHECK(ks->quant_reads_xq(tgv::DType::Q8_0, 1));
    double worst = 0;
    for (int K : ks_for(f))
      for (int T : kT)
        for (int N : kN) {
          if (ks->quant_reads_xq(tgv::DType::Q8_0, T)) continue;
          CAPTURE(ks->name); CAPTURE(T); CAPTURE(N); CAPTURE(K);
          std::vector<float> wv;
          const auto w = quantize(f, randn(static_cast<size_t>(N) * K, rng, 0.5f), N, K, &wv);
          const auto x = randn(static_cast<size_t>(T) * K, rng);
          const int ldy = N + 3, n0 = N / 3, n1 = N - N / 4;
          std::vector<float> y(static_cast<size_t>(T) * ldy, kSentinel), exact(y.size(), kSentinel);
          ks->matmul_quant(y.data(), ldy, x.data(), nullptr, tgv::DType::Q8_0, w.data(), T, K, n0, n1);
          tgv::scalar_kernels().matmul_quant(exact.data(), ldy, x.data(), nullptr, tgv::DType::Q8_0, w.data(), T, K, n0, n1);
          for (int t = 0; t < T; t++)
            for (int n = 0; n < ldy; n++) {
              const size_t i = static_cast<size_t>(t) * ldy + n;
              if (n < n0 || n >= n1) {
                if (y[i] != kSentinel) FAIL_CHECK("wrote outside [n0, n1) at t=" << t << " n=" << n);
                continue;
              }
              double scale = 0;
              for (int k = 0; k < K; k++)
                scale += std::fabs(static_cast<double>(wv[static_cast<size_t>(n) * K + k]) * x[static_cast<size_t>(t) * K + k]);
              const double e = std::fabs(static_cast<double>(y[i]) - exact[i]) / scale;
              worst = std::max(worst, e);
              if (!(e <= tgv::test::kGemmVsScalar)) FAIL_CHECK("t=" << t << " n=" << n << ": " << y[i] << " vs exact " << exact[i]);
            }
        }
    MESSAGE(std::string(ks->name) << " Q8_0, T > 1, vs exact: max |diff| / sum|w x| = " << worst << " (allowed " << tgv::test::kGemmVsScalar << ")");
  }
}

TEST_CASE("fast matmul() vs the exact scalar path: the activation quantization error, every format") {
  const auto sets = fast_sets();
  std::mt19937 rng(12);
  for (const tgv::KernelSet* ks : sets)
    for (tgv::DType dt : kFormats) {
      const tgv::QuantFormat& f = *tgv::quant_format(dt);
      double err2 = 0, ref2 = 0, worst_shape = 0;
      for (int K : ks_for(f))
        for (int T : kT)
          for (int N : kN) {
            CAPTURE(ks->name); CAPTURE(f.name); CAPTURE(T); CAPTURE(N); CAPTURE(K);
            std::vector<float> wv;
            const auto w = quantize(f, randn(static_cast<size_t>(N) * K, rng, 0.5f), N, K, &wv);
            const auto x = randn(static_cast<size_t>(T) * K, rng);
            const tgv::Tensor W{"w", dt, {N, K}, w.data()};
            std::vector<float> exact(static_cast<size_t>(T) * N), fast(exact.size());
            tgv::set_kernels(tgv::scalar_kernels());
            tgv::matmul(exact.data(), x.data(), W, nullptr, T);
            tgv::set_kernels(*ks);
            tgv::matmul(fast.data(), x.data(), W, nullptr, T);
            double e2 = 0, r2 = 0;
            for (size_t i = 0; i < exact.size(); i++) {
              e2 += (static_cast<double>(fast[i]) - exact[i]) * (static_cast<double>(fast[i]) - exact[i]);
              r2 += static_cast<double>(exact[i]) * exact[i];
            }
            err2 += e2;
            ref2 += r2;
            if (T * N >= 33) worst_shape = std::max(worst_shape, std::sqrt(e2 / r2));
          }
      const double rel = std::sqrt(err2 / ref2), tol = tgv::test::tolerance_for("kernels/quant", f.name);
      MESSAGE(std::string(ks->name) << " " << std::string(f.name) << " vs exact: ||fast - exact|| / ||exact|| = " << rel << " (worst shape with >= 33 outputs: "
                       << worst_shape << "), tolerance " << tol);
      CHECK(rel <= tol);
    }
  tgv::use_reference_kernels(false);
}

TEST_CASE("matmul() with quantized weights: the same numbers on any thread count, bias, malformed rows") {
  std::mt19937 rng(13);
  const int T = 6, N = 301;
  for (tgv::DType dt : kFormats) {
    const tgv::QuantFormat& f = *tgv::quant_format(dt);
    const int K = 3 * f.block_size;
    CAPTURE(f.name);
    std::vector<float> wv;
    const auto w = quantize(f, randn(static_cast<size_t>(N) * K, rng, 0.5f), N, K, &wv);
    const auto x = randn(static_cast<size_t>(T) * K, rng), bias = randn(static_cast<size_t>(N), rng);
    const tgv::Tensor W{"w", dt, {N, K}, w.data()};
    for (bool reference : {true, false}) {
      tgv::use_reference_kernels(reference);
      std::vector<float> want(static_cast<size_t>(T) * N), got(want.size());
      tgv::set_num_threads(1);
      tgv::matmul(want.data(), x.data(), W, bias.data(), T);
      for (int threads : {2, 3}) {
        tgv::set_num_threads(threads);
        tgv::matmul(got.data(), x.data(), W, bias.data(), T);
        CHECK(got == want);
      }
      if (reference) {  // the scalar set: the exact product plus the bias
        std::vector<float> nobias(want.size());
        tgv::matmul(nobias.data(), x.data(), W, nullptr, T);
        for (size_t i = 0; i < want.size(); i++) CHECK(want[i] == nobias[i] + bias[i % N]);
      }
    }
    // Rows that are not whole blocks: a malformed file, an Error naming the tensor.
    const tgv::Tensor bad{"bad.weight", dt, {1, K + 1}, w.data()};
    std::vector<float> y(1), xb(static_cast<size_t>(K) + 1);
    CHECK_THROWS_AS(tgv::matmul(y.data(), xb.data(), bad, nullptr, 1), tgv::Error);
  }
  tgv::set_num_threads(0);
  tgv::use_reference_kernels(false);
}

#ifdef TGV_HAVE_AVX512
TEST_CASE("avx512 activation quantizers write the same bytes as the scalar quantize_row (Q8_0, Q8_1, Q8_K)") {
  if (!tgv::avx512_kernels()) {
    MESSAGE("no avx512 set on this CPU: nothing to compare");
    return;
  }
  std::mt19937 rng(14);
  const int K = 3 * 256;
  for (tgv::DType act : {tgv::DType::Q8_0, tgv::DType::Q8_1, tgv::DType::Q8_K}) {
    const tgv::QuantFormat& a = *tgv::quant_format(act);
    const auto fast = tgv::quantize_row_avx512(act);
    REQUIRE(static_cast<bool>(fast));
    for (int row = 0; row < 400; row++) {
      CAPTURE(std::string(a.name)); CAPTURE(row);
      std::vector<float> x = randn(K, rng, row % 3 == 0 ? 1.0f : row % 3 == 1 ? 1e-3f : 300.0f);
      if (row % 5 == 1)  // ties: values whose x / d lands on k + 0.5 (block max 127 * d)
        for (int b = 0; b < K / 32; b++) {
          const float d = 0.01f * static_cast<float>(b + 1);
          for (int j = 0; j < 32; j++) x[32 * b + j] = d * (static_cast<float>(j % 17) - 8.5f);
          x[32 * b + 31] = 127.0f * d;
        }
      if (row % 5 == 3) {  // Q8_K ties: the 256-block [256, 512) has max 127, so iscale = -1 and q = -x
        for (int j = 256; j < 512; j++) x[j] = static_cast<float>(j % 50) - 24.5f;
        x[256] = 127.0f;
      }
      if (row % 7 == 2) std::fill(x.begin() + 256, x.begin() + 512, 0.0f);  // an all-zero block (of 32 and of 256)
      if (row % 11 == 3) x[5] = 1e-30f;                                     // a block of one subnormal-scale value
      if (row % 13 == 4) {  // two values of the largest |x| with opposite signs: the first one sets Q8_K's sign
        x[600] = -1000.0f;
        x[700] = 1000.0f;
      }
      std::vector<unsigned char> want(static_cast<size_t>(K / a.block_size) * a.block_bytes), got(want.size(), 0xAA);
      a.quantize_row(want.data(), x.data(), K);
      fast(got.data(), x.data(), K);
      if (got != want) {
        size_t i = 0;
        while (got[i] == want[i]) i++;
        FAIL_CHECK("first different byte " << i << " (block " << i / a.block_bytes << "): " << int(got[i]) << " vs " << int(want[i]));
      }
    }
  }
}
#endif
