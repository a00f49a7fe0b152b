// GELU in its two forms: exact (erf) for the ViT and Q-Former, tanh ("gelu_new")
// for Phi-2. Computed in double per element and rounded once, so the result is
// the correctly rounded float of the formula up to the libm's accuracy (the exact
// form is a kernel, KernelSet::gelu_erf: the SIMD sets compute the same formula
// without libm, within one float32 ulp). Both are written in forms without
// cancellation for negative x, where 1 + erf(..) and 1 + tanh(..) lose every digit
// (x < -5 or so):
//   0.5 x (1 + erf(x / sqrt 2))   = 0.5 x erfc(-x / sqrt 2)
//   0.5 x (1 + tanh(u))           = x / (1 + exp(-2u))
// Each value is computed alone, so the threads split them (in pieces of at least 16 K
// values) without changing a bit of the result.
#include <cmath>

#include "tinygptv/kernels.h"
#include "tinygptv/layers.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

namespace {
constexpr size_t kMinChunk = 1 << 14;
}  // namespace

void gelu_erf(float* x, size_t n) {
  parallel_for(n, [=](size_t begin, size_t end) { kernels().gelu_erf(x + begin, end - begin); }, kMinChunk);
}

void gelu_tanh(float* x, size_t n) {
  const double k = 0.79788456080286535588;  // sqrt(2 / pi)
  parallel_for(n, [=](size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) {
      const double v = x[i];
      x[i] = static_cast<float>(v / (1.0 + std::exp(-2.0 * k * (v + 0.044715 * v * v * v))));
    }
  }, kMinChunk);
}

}  // namespace tgv
