// The kernel API: every hot loop of the model goes through here, so that the model
// files contain no intrinsics and no #if (STYLE.md practice 5).
//
// A KernelSet is one implementation of the primitives for one instruction set. The
// scalar set (src/kernels/scalar.cpp) is permanent and authoritative; faster sets
// (src/kernels/*_avx2.cpp, *_neon.cpp) have the same signatures and are tested
// against it. The active set is chosen once at start-up from CPU detection;
// `--reference` / TINYGPTV_REFERENCE=1 forces the scalar set.
#pragma once
#include <cstdint>

#include "tinygptv/tensor.h"

namespace tgv {

struct KernelSet {
  const char* name;  // "scalar", "avx2", "neon"
  // Rows [n0, n1) of a weight matrix W [N, K] (row stride K) against T input rows
  // x [T, K] (row stride K):  y[t * ldy + n] = sum_k x[t*K + k] * W[n*K + k].
  void (*matmul_f32)(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1);
  void (*matmul_f16)(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1);
  void (*matmul_bf16)(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1);
  // Q8_0 weights (tensor.h): row n is K / 32 blocks starting at w + n * (K / 32); K % 32 == 0.
  void (*matmul_q8_0)(float* y, int ldy, const float* x, const BlockQ8_0* w, int T, int K, int n0, int n1);
  float (*dot)(const float* a, const float* b, int n);       // sum a[i] * b[i]
  void (*axpy)(float* y, float a, const float* x, int n);    // y[i] += a * x[i]
  // x[i] = exp(x[i] - shift) in place for i < n; returns sum_i of the new x[i]. For the
  // softmax inside attention (shift = the running maximum, so every argument is <= 0).
  // SIMD sets may use a polynomial exp within a few float32 ulps of std::exp.
  float (*exp_sum)(float* x, float shift, int n);
};

const KernelSet& scalar_kernels();
const KernelSet* avx2_kernels();  // nullptr when not compiled in
const KernelSet* neon_kernels();  // nullptr when not compiled in

const KernelSet& kernels();            // the active set
void use_reference_kernels(bool on);   // true: scalar everywhere; false: detect again
void set_kernels(const KernelSet& k);  // make k the active set (tests, benchmarks)

// y[T, N] = x[T, K] @ W[N, K]^T (+ bias[N] when bias != nullptr), W in any dtype,
// threaded over N with the global pool (thread_pool.h). Throws tgv::Error for a Q8_0
// W whose rows are not whole blocks (K % 32 != 0: a malformed model file).
void matmul(float* y, const float* x, const Tensor& W, const float* bias, int T);

}  // namespace tgv
