// nn.Linear and elementwise add. The matrix product itself is a kernel (kernels.h).
#include "tinygptv/error.h"
#include "tinygptv/layers.h"

namespace tgv {

void linear(float* out, const float* x, const Tensor& W, const float* b, int T) { matmul(out, x, W, b, T); }

void add(float* out, const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

}  // namespace tgv
