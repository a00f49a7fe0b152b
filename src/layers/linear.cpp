// nn.Linear and elementwise add. The matrix product itself is a kernel (kernels.h).
#include "tinygptv/error.h"
#include "tinygptv/layers.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

void linear(float* out, const float* x, const Tensor& W, const float* b, int T) { matmul(out, x, W, b, T); }

void add(float* out, const float* a, const float* b, size_t n) {
  parallel_for(n, [=](size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) out[i] = a[i] + b[i];
  }, 1 << 16);
}

}  // namespace tgv
