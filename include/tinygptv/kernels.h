// The kernel API: every hot loop of the model goes through here, so that the model
// files contain no intrinsics and no #if (STYLE.md practice 5).
//
// A KernelSet is one implementation of the primitives for one instruction set. The
// scalar set (src/kernels/scalar.cpp) is permanent and authoritative; faster sets
// (src/kernels/*_avx2.cpp, *_avx512.cpp, *_neon.cpp) have the same signatures and are tested
// against it. The active set is chosen once at start-up from CPU detection;
// `--reference` / TINYGPTV_REFERENCE=1 forces the scalar set.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinygptv/tensor.h"

namespace tgv {

struct KernelSet {
  const char* name;  // "scalar", "avx2", "avx512", "neon"
  // Rows [n0, n1) of a weight matrix W [N, K] (row stride K) against T input rows
  // x [T, K] (row stride K):  y[t * ldy + n] = sum_k x[t*K + k] * W[n*K + k].
  void (*matmul_f32)(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1);
  void (*matmul_f16)(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1);
  void (*matmul_bf16)(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1);
  float (*dot)(const float* a, const float* b, int n);       // sum a[i] * b[i]
  void (*axpy)(float* y, float a, const float* x, int n);    // y[i] += a * x[i]
  // Rows [n0, n1) of a block-quantized W [N, K] of dtype dt (quant.h: Q8_0, Q4_0, Q4_1,
  // Q5_0, Q5_1, Q4_K, Q6_K; K % block_size == 0): row n is K / block_size blocks at
  // (const char*)w + n * (K / block_size) * block_bytes.
  //   quant_reads_xq(dt, T) == false (always, in the scalar set): the exact product with
  //     the float rows x (each weight row dequantized exactly and multiplied in float);
  //     xq is not read. The fast sets do this for Q8_0 weights against T > 1 rows.
  //   quant_reads_xq(dt, T) == true (the fast sets otherwise): ggml's integer dot. xq holds
  //     the T input rows quantized to quant_format(dt)->vec_dot_type (Q8_0, Q8_1 or Q8_K;
  //     row t is K / its block size blocks, rows back to back), made once per product by
  //     matmul(); x is not read. The error against the exact product is the activation
  //     rounding.
  void (*matmul_quant)(float* y, int ldy, const float* x, const void* xq, DType dt, const void* w, int T, int K, int n0,
                       int n1);
  bool (*quant_reads_xq)(DType dt, int T);
  // x[i] = exp(x[i] - shift) in place for i < n; returns sum_i of the new x[i]. For the
  // softmax inside attention (shift = the running maximum, so every argument is <= 0).
  // SIMD sets may use a polynomial exp within a few float32 ulps of std::exp.
  float (*exp_sum)(float* x, float shift, int n);
  // y[i] = x[i] for i < n, float16 -> float32 (exact). For an F16 KV cache (attention.cpp).
  void (*convert_f16)(float* y, const uint16_t* x, int n);
  // Decode attention, one cache row at a time (attention.cpp): nh heads of hd columns,
  // head h at q + h*hd, k + h*hd, v + h*hd and o + h*hd. For h < nh:
  //   head_dots:   s[h * s_stride] = dot(q_h, k_h) * scale
  //   head_axpys:  o_h += p[h * p_stride] * v_h
  // with the set's own dot and axpy (kernel_sets.h), so the same values as calling them
  // per head, without a call through this table for every 80-element head.
  void (*head_dots)(float* s, size_t s_stride, const float* q, const float* k, int nh, int hd, float scale);
  void (*head_axpys)(float* o, const float* p, size_t p_stride, const float* v, int nh, int hd);
  // x[i] = GELU(x[i]) = 0.5 x erfc(-x / sqrt 2) for i < n, in place (nn.GELU(), the ViT's
  // and the Q-Former's). Scalar: libm erfc in double, rounded once. SIMD sets: the same
  // formula in double without libm (src/kernels/gelu_erf.h), within one float32 ulp.
  void (*gelu_erf)(float* x, size_t n);
};

const KernelSet& scalar_kernels();
const KernelSet* avx2_kernels();    // nullptr when not compiled in or the CPU lacks it
const KernelSet* avx512_kernels();  // AVX-512 F+BW+VL+DQ+VNNI (and AVX2); nullptr likewise
const KernelSet* neon_kernels();    // nullptr when not compiled in

const KernelSet& kernels();            // the active set
void use_reference_kernels(bool on);   // true: scalar everywhere; false: detect again
void set_kernels(const KernelSet& k);  // make k the active set (tests, benchmarks)

// y[T, N] = x[T, K] @ W[N, K]^T (+ bias[N] when bias != nullptr), W in any dtype,
// threaded over N with the global pool (thread_pool.h). For a quantized W that the set's
// quant_reads_xq wants, x is first quantized to the format's activation format (once,
// rows in parallel when T is large). Throws tgv::Error for a quantized W whose rows are not
// whole blocks (a malformed model file).
void matmul(float* y, const float* x, const Tensor& W, const float* bias, int T);

}  // namespace tgv
