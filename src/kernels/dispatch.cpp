// Chooses the active KernelSet once and runs matmul over the thread pool.
//
// Order of choice (first match wins):
//   use_reference_kernels(true) (`--reference`)   -> scalar
//   TINYGPTV_REFERENCE set and not "0"            -> scalar
//   TINYGPTV_KERNELS=scalar|avx2|avx512|neon      -> that set (if this build and CPU have it;
//                                                    otherwise a warning and the default)
//   default                                        -> avx512 if the CPU has AVX-512 F, BW, VL,
//                                                    DQ and VNNI (and AVX2+FMA+F16C),
//                                                    else avx2 if it has AVX2+FMA+F16C,
//                                                    else neon on AArch64, else scalar
// This file is compiled without ISA flags, so the CPU check itself is safe anywhere.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/kernel_sets.h"
#include "tinygptv/error.h"
#include "tinygptv/kernels.h"
#include "tinygptv/quant.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

const KernelSet* avx2_kernels() {
#ifdef TGV_HAVE_AVX2
  // __builtin_cpu_supports also checks that the OS saves the ymm registers (XGETBV).
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  return ok ? &kernel_set_avx2 : nullptr;
#else
  return nullptr;
#endif
}

const KernelSet* avx512_kernels() {
#ifdef TGV_HAVE_AVX512
  // Also checks that the OS saves the zmm and mask registers (XGETBV).
  static const bool ok = avx2_kernels() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("avx512vnni");
  return ok ? &kernel_set_avx512 : nullptr;
#else
  return nullptr;
#endif
}

const KernelSet* neon_kernels() {
#ifdef TGV_HAVE_NEON
  return &kernel_set_neon;  // Advanced SIMD is part of every AArch64 CPU
#else
  return nullptr;
#endif
}

namespace {

const KernelSet* best() {
  if (const KernelSet* k = avx512_kernels()) return k;
  if (const KernelSet* k = avx2_kernels()) return k;
  if (const KernelSet* k = neon_kernels()) return k;
  return &scalar_kernels();
}

const KernelSet* detect() {
  const char* ref = std::getenv("TINYGPTV_REFERENCE");
  if (ref && *ref && std::strcmp(ref, "0") != 0) return &scalar_kernels();
  if (const char* want = std::getenv("TINYGPTV_KERNELS"); want && *want) {
    const KernelSet* k = nullptr;
    if (!std::strcmp(want, "scalar")) k = &scalar_kernels();
    if (!std::strcmp(want, "avx2")) k = avx2_kernels();
    if (!std::strcmp(want, "avx512")) k = avx512_kernels();
    if (!std::strcmp(want, "neon")) k = neon_kernels();
    if (k) return k;
    std::fprintf(stderr, "tinygptv: TINYGPTV_KERNELS=%s is not available here (scalar%s%s%s); using %s\n", want,
                 avx2_kernels() ? ", avx2" : "", avx512_kernels() ? ", avx512" : "", neon_kernels() ? ", neon" : "",
                 best()->name);
  }
  return best();
}

std::atomic<const KernelSet*> g_active{nullptr};

}  // namespace

const KernelSet& kernels() {
  const KernelSet* k = g_active.load(std::memory_order_acquire);
  if (!k) {  // first call: detect once (a racing second detection picks the same set)
    k = detect();
    g_active.store(k, std::memory_order_release);
  }
  return *k;
}

void use_reference_kernels(bool on) { g_active.store(on ? &scalar_kernels() : detect(), std::memory_order_release); }

void set_kernels(const KernelSet& k) { g_active.store(&k, std::memory_order_release); }

void unsupported_quant_dtype(DType dt) {
  assert_failed("quant_format(dt)->vec_dot", __FILE__, __LINE__, std::string("matmul_quant has no kernel for weights of dtype ") + dtype_name(dt));
}

bool fast_quant_reads_xq(DType dt, int T) { return !(dt == DType::Q8_0 && T > 1); }

namespace {

// x [T, K] quantized to the activation format a (Q8_0, Q8_1 or Q8_K), rows back to back
// in `out` (resized). Once per product; rows in parallel when there are many of them.
// With the avx512 set, Q8_0 / Q8_1 / Q8_K rows go through its vector quantizer, which writes
// the same bytes as a.quantize_row (tests/kernels/test_quant_kernels.cpp).
void quantize_activations(std::vector<unsigned char>& out, const float* x, const QuantFormat& a, int T, int K,
                          const KernelSet& ks) {
  const size_t row_bytes = static_cast<size_t>(K / a.block_size) * a.block_bytes;
  out.resize(row_bytes * static_cast<size_t>(T));
  unsigned char* q = out.data();
  void (*quantize_row)(void*, const float*, size_t) = a.quantize_row;
#ifdef TGV_HAVE_AVX512
  if (&ks == avx512_kernels())
    if (auto f = quantize_row_avx512(a.type)) quantize_row = f;
#else
  (void)ks;
#endif
  auto rows = [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; t++) quantize_row(q + t * row_bytes, x + t * static_cast<size_t>(K), static_cast<size_t>(K));
  };
  if (T >= 8) parallel_for(static_cast<size_t>(T), rows, 4);
  else rows(0, static_cast<size_t>(T));
}

}  // namespace

void matmul(float* y, const float* x, const Tensor& W, const float* bias, int T) {
  TGV_ASSERT(W.shape.size() == 2, "matmul wants a 2-D weight, got " + W.name + " " + shape_str(W.shape));
  const int N = static_cast<int>(W.shape[0]), K = static_cast<int>(W.shape[1]);
  const KernelSet& ks = kernels();
  const QuantFormat* qf = quant_format(W.dtype);
  const void* xq = nullptr;
  thread_local std::vector<unsigned char> xq_buffer;  // reused: no allocation per token
  if (qf) {
    if (!qf->vec_dot)
      fail("tensor '" + W.name + "' is " + dtype_name(W.dtype) + ", an activation format, not a weight format");
    if (K % qf->block_size != 0)
      fail("tensor '" + W.name + "' " + shape_str(W.shape) + " is " + dtype_name(W.dtype) +
           " but its rows are not whole blocks of " + std::to_string(qf->block_size));
    if (ks.quant_reads_xq(W.dtype, T)) {
      quantize_activations(xq_buffer, x, *quant_format(qf->vec_dot_type), T, K, ks);
      xq = xq_buffer.data();
    }
  }
  // Threads split the output rows of W: each streams its own part of W once. The pool
  // makes a few chunks per thread so a thread slowed by another process is helped by the
  // others: 16 for one input row (decode: each chunk only streams its rows, and the wait
  // for the last chunk at the end of each of a token's ~130 products is shorter), 4 for
  // more (a chunk of the packed GEMM rereads all of x, so fewer, wider ones). Chunks are
  // whole groups of kRowGroup = 32 rows (>= 32*K weights, plenty to amortise the hand-off):
  // the packed GEMMs work on panels of 16 (AVX2) or 32 (AVX-512) columns, and a chunk that
  // ended inside one (1408 rows in 8 chunks of 176) ran that last panel at a fraction of
  // the speed. Every y element is computed by one kernel call on the same data whatever
  // the split, so results do not depend on the thread count.
  constexpr int kRowGroup = 32;
  parallel_for(static_cast<size_t>((N + kRowGroup - 1) / kRowGroup), [&](size_t g0, size_t g1) {
    const int a = static_cast<int>(g0) * kRowGroup, b = std::min(static_cast<int>(g1) * kRowGroup, N);
    switch (W.dtype) {
      case DType::F32: ks.matmul_f32(y, N, x, static_cast<const float*>(W.data), T, K, a, b); break;
      case DType::F16: ks.matmul_f16(y, N, x, static_cast<const uint16_t*>(W.data), T, K, a, b); break;
      case DType::BF16: ks.matmul_bf16(y, N, x, static_cast<const uint16_t*>(W.data), T, K, a, b); break;
      default: ks.matmul_quant(y, N, x, xq, W.dtype, W.data, T, K, a, b); break;
    }
    if (bias)
      for (int t = 0; t < T; t++)
        for (int n = a; n < b; n++) y[static_cast<size_t>(t) * N + n] += bias[n];
  }, 1, T == 1 ? 16 : 4);
}

}  // namespace tgv
