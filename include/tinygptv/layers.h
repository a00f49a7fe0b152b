// The layers every part of the model is built from: one free function each,
// outputs first, then inputs, then weights, sizes last (llm.c style). All
// activations are float32, row-major; `[T, C]` means T rows of C floats.
// Each function's PyTorch twin is named beside it. Implementations: src/layers/.
#pragma once
#include <cstddef>

#include "tinygptv/kernels.h"
#include "tinygptv/tensor.h"

namespace tgv {

// nn.Linear: out[T, N] = x[T, K] @ W[N, K]^T + b[N]  (b may be nullptr).   linear.cpp
void linear(float* out, const float* x, const Tensor& W, const float* b, int T);

// nn.LayerNorm(C, eps): out = (x - mean) / sqrt(var + eps) * w + b, per row, biased
// variance; out may equal x.                                                norm.cpp
void layernorm(float* out, const float* x, const float* w, const float* b, int T, int C, float eps);

// RMSNorm (Phi-2 TinyGPT-V post_layernorm): out = x / sqrt(mean(x^2) + eps) * w,
// the mean of squares in float32 as upstream; out may equal x.              norm.cpp
void rmsnorm(float* out, const float* x, const float* w, int T, int C, float eps);

// GELU, exact: 0.5 x (1 + erf(x / sqrt 2)) (nn.GELU()), in place.           activation.cpp
void gelu_erf(float* x, size_t n);
// gelu_new / tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), in place.
void gelu_tanh(float* x, size_t n);

// softmax over n values in place, max-subtracted, float32.                  softmax.cpp
void softmax(float* x, int n);

// GPT-NeoX "rotate half" rotary embedding on the first rotary_dim dims of every
// head of T rows x [T, stride] (head h at column h*head_dim); row t has position
// pos0 + t. inv_freq, angles, cos and sin in float32 as upstream.            rotary.cpp
void rotary(float* x, int stride, int T, int heads, int head_dim, int rotary_dim, int pos0, float theta);

// Multi-head scaled dot-product attention.                                   attention.cpp
//   out[t, h*hd + d] = sum_j softmax_j(scale * q[t,h,:] . k[j,h,:] + mask) * v[j, h*hd + d]
// q: Tq rows with row stride q_stride; k, v: Tk rows with row stride kv_stride;
// head h occupies columns [h*head_dim, (h+1)*head_dim) of every row; out: Tq rows,
// row stride out_stride. causal: query t has absolute position q_pos0 + t and sees
// keys j <= q_pos0 + t (keys are positions 0..Tk-1, e.g. a KV cache).
void attention(float* out, int out_stride, const float* q, int q_stride, const float* k, const float* v,
               int kv_stride, int Tq, int Tk, int heads, int head_dim, float scale, bool causal, int q_pos0);
// The same with k and v stored as float16 (an F16 KV cache): each key and value is
// converted to float32 (exactly) as it is read, and everything else is the float32
// code above, so the result equals attention() on the float32 values of k and v.
void attention(float* out, int out_stride, const float* q, int q_stride, const uint16_t* k, const uint16_t* v,
               int kv_stride, int Tq, int Tk, int heads, int head_dim, float scale, bool causal, int q_pos0);

// out[i] = a[i] + b[i]; out may equal a or b.                               linear.cpp
void add(float* out, const float* a, const float* b, size_t n);

}  // namespace tgv
