// LayerNorm and RMSNorm over the last dimension of [T, C].
//
// LayerNorm statistics are accumulated in double: one pass for the mean, one for
// the (biased) variance, so the result is at least as accurate as PyTorch's
// float32 Welford. RMSNorm follows upstream TinyGPT-V exactly:
//   variance = x.float().pow(2).mean(-1, keepdim=True); x * rsqrt(variance + eps) * weight
// (float32 mean of squares).
// Each row is computed alone, so splitting the rows over threads changes nothing.
#include <cmath>

#include "tinygptv/layers.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

namespace {
// Rows are independent: the threads split them, in chunks of >= 16 K values.
size_t rows_per_chunk(int C) { return C <= 0 || C >= (1 << 14) ? 1 : static_cast<size_t>((1 << 14) / C); }
}  // namespace

void layernorm(float* out, const float* x, const float* w, const float* b, int T, int C, float eps) {
  parallel_for(static_cast<size_t>(T), [=](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; t++) {
      const float* xr = x + t * C;
      float* o = out + t * C;
      double mean = 0;
      for (int c = 0; c < C; c++) mean += xr[c];
      mean /= C;
      double var = 0;
      for (int c = 0; c < C; c++) var += (xr[c] - mean) * (xr[c] - mean);
      var /= C;
      const double rstd = 1.0 / std::sqrt(var + eps);
      for (int c = 0; c < C; c++) o[c] = static_cast<float>((xr[c] - mean) * rstd) * w[c] + b[c];
    }
  }, rows_per_chunk(C));
}

void rmsnorm(float* out, const float* x, const float* w, int T, int C, float eps) {
  parallel_for(static_cast<size_t>(T), [=](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; t++) {
      const float* xr = x + t * C;
      float* o = out + t * C;
      double ss = 0;  // sum in double, then the float32 mean upstream computes
      for (int c = 0; c < C; c++) ss += static_cast<double>(xr[c]) * xr[c];
      const float mean_sq = static_cast<float>(ss / C);
      const float r = 1.0f / std::sqrt(mean_sq + eps);
      for (int c = 0; c < C; c++) o[c] = (xr[c] * r) * w[c];
    }
  }, rows_per_chunk(C));
}

}  // namespace tgv
