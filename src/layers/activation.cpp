// GELU in its two forms: exact (erf) for the ViT and Q-Former, tanh ("gelu_new")
// for Phi-2. Computed in double per element and rounded once, so the result is
// the correctly rounded float of the formula up to the libm's accuracy.
// Both are written in forms without cancellation for negative x, where
// 1 + erf(..) and 1 + tanh(..) lose every digit (x < -5 or so):
//   0.5 x (1 + erf(x / sqrt 2))   = 0.5 x erfc(-x / sqrt 2)
//   0.5 x (1 + tanh(u))           = x / (1 + exp(-2u))
#include <cmath>

#include "tinygptv/layers.h"

namespace tgv {

void gelu_erf(float* x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * std::erfc(-v * 0.70710678118654752440));
  }
}

void gelu_tanh(float* x, size_t n) {
  const double k = 0.79788456080286535588;  // sqrt(2 / pi)
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    x[i] = static_cast<float>(v / (1.0 + std::exp(-2.0 * k * (v + 0.044715 * v * v * v))));
  }
}

}  // namespace tgv
