// Internal: the KernelSet tables defined in the per-ISA files.
//
// Each per-ISA file (kernels_avx2.cpp, kernels_neon.cpp) is compiled with its own
// instruction-set flags, so NO code from it may run before the CPU has been checked.
// That is why each exports a constant-initialised table (no start-up code at all)
// and the detection lives in the portable dispatch.cpp, which hands out the table's
// address only when the CPU can run it.
#pragma once
#include "tinygptv/kernels.h"

namespace tgv {

// dispatch.cpp: the internal error for a dtype matmul_quant has no kernel for. The per-ISA
// files call this instead of building the message themselves: no std::string code (inline,
// weak symbols) may be compiled with ISA flags.
[[noreturn]] void unsupported_quant_dtype(DType dt);

// scalar.cpp: KernelSet::gelu_erf of the scalar set (libm erfc), which the NEON set shares.
void gelu_erf_scalar(float* x, size_t n);

// dispatch.cpp: KernelSet::quant_reads_xq of the fast sets. Their matmul_quant uses
// ggml's integer dot (xq) except for Q8_0 weights against T > 1 input rows, which go
// through the packed float GEMM on the exactly dequantized weights (x): prefill is
// compute-bound, and rounding the activations to 8 bits would double the error of an
// 8-bit model for speed it does not need (docs/quantization.md).
bool fast_quant_reads_xq(DType dt, int T);

// How far ahead the loops that stream from memory (decode's weights, the F16 KV cache, the
// bandwidth sum) prefetch each 64-byte line: 4 KB. Measured in docs/performance.md
// ("December 6, late"): 1 KB left them below the memory's pace; 2, 4 and 8 KB were alike.
constexpr int kPrefetchBytes = 4096;

namespace {  // internal linkage: each per-ISA file gets its own copy, built with its flags

// KernelSet::head_dots and head_axpys from a set's dot and axpy (known at compile time,
// so inlined into the loop over the heads).
template <float (*Dot)(const float*, const float*, int)>
void head_dots(float* s, size_t s_stride, const float* q, const float* k, int nh, int hd, float scale) {
  for (int h = 0; h < nh; h++) {
    const size_t c = static_cast<size_t>(h) * hd;
    s[static_cast<size_t>(h) * s_stride] = Dot(q + c, k + c, hd) * scale;
  }
}

template <void (*Axpy)(float*, float, const float*, int)>
void head_axpys(float* o, const float* p, size_t p_stride, const float* v, int nh, int hd) {
  for (int h = 0; h < nh; h++) {
    const size_t c = static_cast<size_t>(h) * hd;
    Axpy(o + c, p[static_cast<size_t>(h) * p_stride], v + c, hd);
  }
}

}  // namespace

#ifdef TGV_HAVE_AVX2
extern const KernelSet kernel_set_avx2;  // kernels_avx2.cpp: needs AVX2 + FMA + F16C
// quant_avx2.cpp: KernelSet::matmul_quant with integer dot products (fast_quant_reads_xq).
void matmul_quant_avx2(float* y, int ldy, const float* x, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1);
// gemm_avx2.cpp: the packed, cache-blocked matmul for T > 1 (the KernelSet matmul
// contract), called by kernel_set_avx2's matmul kernels; same CPU requirement.
void gemm_f32_avx2(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1);
void gemm_f16_avx2(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1);
void gemm_bf16_avx2(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1);
void gemm_q8_0_avx2(float* y, int ldy, const float* x, const void* w, int T, int K, int n0, int n1);
// gelu_avx2.cpp: KernelSet::gelu_erf in double without libm (gelu_erf.h).
void gelu_erf_avx2(float* x, size_t n);
#endif
#ifdef TGV_HAVE_AVX512
extern const KernelSet kernel_set_avx512;  // kernels_avx512.cpp: needs AVX-512 F+BW+VL+DQ+VNNI, AVX2, FMA, F16C
// quant_avx512.cpp (and quant_k_avx512.cpp for Q4_K / Q6_K): KernelSet::matmul_quant with
// VNNI integer dot products (fast_quant_reads_xq), every weight format.
void matmul_quant_avx512(float* y, int ldy, const float* x, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1);
// quant_avx512.cpp: the activation quantizer QuantFormat::quantize_row of `activation`
// (Q8_0, Q8_1, Q8_K) with AVX-512, the same bytes as the scalar one; nullptr otherwise.
using QuantizeRowFn = void (*)(void* out, const float* x, size_t n);
QuantizeRowFn quantize_row_avx512(DType activation);
// gemm_avx512.cpp: the packed, cache-blocked matmul for many input rows (the KernelSet
// matmul contract), called by kernel_set_avx512's matmul kernels; same CPU requirement.
void gemm_f32_avx512(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1);
void gemm_f16_avx512(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1);
void gemm_bf16_avx512(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1);
void gemm_q8_0_avx512(float* y, int ldy, const float* x, const void* w, int T, int K, int n0, int n1);
// gelu_avx512.cpp: KernelSet::gelu_erf in double without libm (gelu_erf.h).
void gelu_erf_avx512(float* x, size_t n);
#endif
#ifdef TGV_HAVE_NEON
extern const KernelSet kernel_set_neon;  // kernels_neon.cpp: AArch64 (NEON is mandatory there)
// quant_neon.cpp: KernelSet::matmul_quant with integer dot products (fast_quant_reads_xq);
// SDOT where the CPU has it (checked at run time), widening multiplies otherwise.
void matmul_quant_neon(float* y, int ldy, const float* x, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1);
#endif

}  // namespace tgv
