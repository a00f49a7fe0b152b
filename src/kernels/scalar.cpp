// The scalar kernels: the plainest correct code, the reference every other
// KernelSet is tested against, and the one a porter gets running first.
// Dot products keep 8 partial sums (like an 8-lane vector unit) so that results
// stay close to the SIMD kernels and rounding error grows slowly with K.
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/kernel_sets.h"
#include "tinygptv/error.h"
#include "tinygptv/kernels.h"
#include "tinygptv/quant.h"

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

float exp_sum_scalar(float* x, float shift, int n) {
  double sum = 0;
  for (int i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return static_cast<float>(sum);
}

void matmul_f32_scalar(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1) {
  for (int n = n0; n < n1; n++) {
    const float* wr = w + static_cast<size_t>(n) * K;
    for (int t = 0; t < T; t++) y[static_cast<size_t>(t) * ldy + n] = dot_scalar(x + static_cast<size_t>(t) * K, wr, K);
  }
}

// Half-precision weights: each row of W is converted to float once (exactly) and then
// used against every input row, giving the same values and order of sums as if each
// weight were converted inside the dot product.
template <float (*convert)(uint16_t)>
void matmul_half_scalar(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  std::vector<float> row(static_cast<size_t>(K));  // W[n, :] as float
  for (int n = n0; n < n1; n++) {
    const uint16_t* wr = w + static_cast<size_t>(n) * K;
    for (int k = 0; k < K; k++) row[static_cast<size_t>(k)] = convert(wr[k]);
    for (int t = 0; t < T; t++) y[static_cast<size_t>(t) * ldy + n] = dot_scalar(x + static_cast<size_t>(t) * K, row.data(), K);
  }
}

void matmul_f16_scalar(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  matmul_half_scalar<f16_to_f32>(y, ldy, x, w, T, K, n0, n1);
}

void matmul_bf16_scalar(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  matmul_half_scalar<bf16_to_f32>(y, ldy, x, w, T, K, n0, n1);
}

// Block-quantized weights (quant.h): the exact product. Each weight row is dequantized
// once (exactly, quant_format(dt)->dequantize_row) and dotted in float with every input
// row, as for the half formats; the activations are not quantized. `--reference` runs this.
void matmul_quant_scalar(float* y, int ldy, const float* x, const void* /*xq*/, DType dt, const void* w, int T, int K, int n0,
                         int n1) {
  const QuantFormat* f = quant_format(dt);
  TGV_ASSERT(f && f->vec_dot && K % f->block_size == 0, "matmul_quant: a weight format with whole blocks per row");
  const size_t row_bytes = static_cast<size_t>(K / f->block_size) * f->block_bytes;
  std::vector<float> row(static_cast<size_t>(K));  // W[n, :] as float
  for (int n = n0; n < n1; n++) {
    f->dequantize_row(row.data(), static_cast<const char*>(w) + static_cast<size_t>(n) * row_bytes, static_cast<size_t>(K));
    for (int t = 0; t < T; t++) y[static_cast<size_t>(t) * ldy + n] = dot_scalar(x + static_cast<size_t>(t) * K, row.data(), K);
  }
}

bool no_xq(DType, int) { return false; }  // the exact product, always

void convert_f16_scalar(float* y, const uint16_t* x, int n) {
  for (int i = 0; i < n; i++) y[i] = f16_to_f32(x[i]);
}

}  // namespace

// Written without cancellation for x < 0, where 1 + erf(..) would lose every digit:
// 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2). In double, rounded once.
void gelu_erf_scalar(float* x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * std::erfc(-v * 0.70710678118654752440));
  }
}

const KernelSet& scalar_kernels() {
  static const KernelSet set = {"scalar",   matmul_f32_scalar, matmul_f16_scalar, matmul_bf16_scalar,
                                dot_scalar, axpy_scalar,       matmul_quant_scalar, no_xq,  exp_sum_scalar,
                                convert_f16_scalar, head_dots<dot_scalar>, head_axpys<axpy_scalar>, gelu_erf_scalar};
  return set;
}

}  // namespace tgv
