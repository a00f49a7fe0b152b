// GELU in its two forms: exact (erf) for the ViT and Q-Former, tanh ("gelu_new")
// for Phi-2. Computed in double per element and rounded once, so the result is
// the correctly rounded float of the formula up to the libm's accuracy.
#include <cmath>

#include "tinygptv/layers.h"

namespace tgv {

void gelu_erf(float* x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v * 0.70710678118654752440)));
  }
}

void gelu_tanh(float* x, size_t n) {
  const double k = 0.79788456080286535588;  // sqrt(2 / pi)
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * (1.0 + std::tanh(k * (v + 0.044715 * v * v * v))));
  }
}

}  // namespace tgv
