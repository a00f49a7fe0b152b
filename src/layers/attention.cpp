// Multi-head scaled dot-product attention over a key/value block (or KV cache).
// Scores and softmax in float32 (Phi-2's QK^T must be accumulated in fp32: it
// overflows fp16). Parallel over (head, query) pairs.
#include <vector>

#include "tinygptv/layers.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

void attention(float* out, int out_stride, const float* q, int q_stride, const float* k, const float* v,
               int kv_stride, int Tq, int Tk, int heads, int head_dim, float scale, bool causal, int q_pos0) {
  const KernelSet& ks = kernels();
  parallel_for(static_cast<size_t>(heads) * Tq, [&](size_t begin, size_t end) {
    std::vector<float> scores(static_cast<size_t>(Tk));
    for (size_t job = begin; job < end; job++) {
      const int h = static_cast<int>(job / Tq), t = static_cast<int>(job % Tq);
      const float* qh = q + static_cast<size_t>(t) * q_stride + static_cast<size_t>(h) * head_dim;
      int n_keys = causal ? q_pos0 + t + 1 : Tk;  // keys 0..n_keys-1 are visible
      if (n_keys > Tk) n_keys = Tk;
      for (int j = 0; j < n_keys; j++)
        scores[static_cast<size_t>(j)] = scale * ks.dot(qh, k + static_cast<size_t>(j) * kv_stride + static_cast<size_t>(h) * head_dim, head_dim);
      softmax(scores.data(), n_keys);
      float* o = out + static_cast<size_t>(t) * out_stride + static_cast<size_t>(h) * head_dim;
      for (int d = 0; d < head_dim; d++) o[d] = 0;
      for (int j = 0; j < n_keys; j++)
        ks.axpy(o, scores[static_cast<size_t>(j)], v + static_cast<size_t>(j) * kv_stride + static_cast<size_t>(h) * head_dim, head_dim);
    }
  });
}

}  // namespace tgv
