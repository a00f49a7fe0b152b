// The scalar kernels: the plainest correct code, the reference every other
// KernelSet is tested against, and the one a porter gets running first.
// Dot products keep 8 partial sums (like an 8-lane vector unit) so that results
// stay close to the SIMD kernels and rounding error grows slowly with K.
#include <cstddef>

#include "tinygptv/kernels.h"

namespace tgv {

namespace {

template <typename Load>
float dot_with(const float* x, Load w, int K) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int k = 0;
  for (; k + 8 <= K; k += 8)
    for (int j = 0; j < 8; j++) acc[j] += x[k + j] * w(k + j);
  for (; k < K; k++) acc[k & 7] += x[k] * w(k);
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

float dot_scalar(const float* a, const float* b, int n) {
  return dot_with(a, [b](int k) { return b[k]; }, n);
}

void axpy_scalar(float* y, float a, const float* x, int n) {
  for (int i = 0; i < n; i++) y[i] += a * x[i];
}

void matmul_f32_scalar(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1) {
  for (int n = n0; n < n1; n++) {
    const float* wr = w + static_cast<size_t>(n) * K;
    for (int t = 0; t < T; t++) y[static_cast<size_t>(t) * ldy + n] = dot_scalar(x + static_cast<size_t>(t) * K, wr, K);
  }
}

void matmul_f16_scalar(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  for (int n = n0; n < n1; n++) {
    const uint16_t* wr = w + static_cast<size_t>(n) * K;
    for (int t = 0; t < T; t++)
      y[static_cast<size_t>(t) * ldy + n] = dot_with(x + static_cast<size_t>(t) * K, [wr](int k) { return f16_to_f32(wr[k]); }, K);
  }
}

void matmul_bf16_scalar(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  for (int n = n0; n < n1; n++) {
    const uint16_t* wr = w + static_cast<size_t>(n) * K;
    for (int t = 0; t < T; t++)
      y[static_cast<size_t>(t) * ldy + n] = dot_with(x + static_cast<size_t>(t) * K, [wr](int k) { return bf16_to_f32(wr[k]); }, K);
  }
}

}  // namespace

const KernelSet& scalar_kernels() {
  static const KernelSet set = {"scalar", matmul_f32_scalar, matmul_f16_scalar, matmul_bf16_scalar, dot_scalar, axpy_scalar};
  return set;
}

}  // namespace tgv
