// Rotary position embedding, GPT-NeoX "rotate half" on the first rotary_dim dims of
// each head (Phi-2: rotary_dim 32 of head_dim 80; dims 32..79 pass through).
//
// Upstream (transformers PhiRotaryEmbedding) builds its tables in float32:
//   inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
//   freqs = torch.outer(t.float(), inv_freq); cos = freqs.cos(); sin = freqs.sin()
// and applies q * cos + rotate_half(q) * sin. We compute the same float32 values.
#include <cmath>
#include <vector>

#include "tinygptv/layers.h"

namespace tgv {

void rotary(float* x, int stride, int T, int heads, int head_dim, int rotary_dim, int pos0, float theta) {
  const int half = rotary_dim / 2;
  std::vector<float> cos_t(static_cast<size_t>(half)), sin_t(static_cast<size_t>(half));
  for (int t = 0; t < T; t++) {
    const float pos = static_cast<float>(pos0 + t);
    for (int i = 0; i < half; i++) {
      const float inv_freq = 1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(rotary_dim));
      const float angle = pos * inv_freq;
      cos_t[static_cast<size_t>(i)] = std::cos(angle);
      sin_t[static_cast<size_t>(i)] = std::sin(angle);
    }
    for (int h = 0; h < heads; h++) {
      float* v = x + static_cast<size_t>(t) * stride + static_cast<size_t>(h) * head_dim;
      for (int i = 0; i < half; i++) {
        const float a = v[i], b = v[i + half];
        const float c = cos_t[static_cast<size_t>(i)], s = sin_t[static_cast<size_t>(i)];
        v[i] = a * c - b * s;         // x[i] cos - x[i+half] sin
        v[i + half] = b * c + a * s;  // x[i+half] cos + x[i] sin
      }
    }
  }
}

}  // namespace tgv
