// Chooses the active KernelSet once (CPU detection, TINYGPTV_REFERENCE) and runs
// matmul over the thread pool.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "tinygptv/error.h"
#include "tinygptv/kernels.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

#ifndef TGV_HAVE_AVX2
const KernelSet* avx2_kernels() { return nullptr; }
#endif
#ifndef TGV_HAVE_NEON
const KernelSet* neon_kernels() { return nullptr; }
#endif

namespace {

const KernelSet* detect() {
  const char* env = std::getenv("TINYGPTV_REFERENCE");
  if (env && *env && std::strcmp(env, "0") != 0) return &scalar_kernels();
  if (const KernelSet* k = avx2_kernels()) return k;
  if (const KernelSet* k = neon_kernels()) return k;
  return &scalar_kernels();
}

std::atomic<const KernelSet*> g_active{nullptr};

}  // namespace

const KernelSet& kernels() {
  const KernelSet* k = g_active.load(std::memory_order_acquire);
  if (!k) {
    k = detect();
    g_active.store(k, std::memory_order_release);
  }
  return *k;
}

void use_reference_kernels(bool on) { g_active.store(on ? &scalar_kernels() : detect()); }

void matmul(float* y, const float* x, const Tensor& W, const float* bias, int T) {
  TGV_ASSERT(W.shape.size() == 2, "matmul wants a 2-D weight, got " + W.name + " " + shape_str(W.shape));
  const int N = static_cast<int>(W.shape[0]), K = static_cast<int>(W.shape[1]);
  const KernelSet& ks = kernels();
  // Enough output rows per chunk that each thread streams a useful piece of W.
  parallel_for(static_cast<size_t>(N), [&](size_t n0, size_t n1) {
    const int a = static_cast<int>(n0), b = static_cast<int>(n1);
    switch (W.dtype) {
      case DType::F32: ks.matmul_f32(y, N, x, static_cast<const float*>(W.data), T, K, a, b); break;
      case DType::F16: ks.matmul_f16(y, N, x, static_cast<const uint16_t*>(W.data), T, K, a, b); break;
      case DType::BF16: ks.matmul_bf16(y, N, x, static_cast<const uint16_t*>(W.data), T, K, a, b); break;
    }
    if (bias)
      for (int t = 0; t < T; t++)
        for (int n = a; n < b; n++) y[static_cast<size_t>(t) * N + n] += bias[n];
  }, 16);
}

}  // namespace tgv
