// One EVA ViT block (pre-norm), model.md section 2. Upstream (EVA Block.forward):
//   x = x + self.attn(self.norm1(x))
//   x = x + self.mlp(self.norm2(x))
// Attention: qkv = F.linear(x, qkv.weight, cat(q_bias, zeros_like(v_bias), v_bias))
// (the key has no bias), split as [3, heads, head_dim] along the 3W features;
// q *= head_dim^-0.5; softmax(q k^T) v over all N+1 tokens, no mask, no relative
// position bias; heads re-concatenated; proj Linear W -> W. MLP: fc1, exact GELU, fc2.
#include <cmath>
#include <vector>

#include "tinygptv/layers.h"
#include "tinygptv/vision.h"

namespace tgv {

void vit_block_forward(float* x, const VitBlockWeights& w, const VisionConfig& cfg, int T, VitBlockScratch& s) {
  const int W = cfg.width, heads = cfg.heads, hd = W / heads, M = cfg.mlp_dim;
  const size_t TW = static_cast<size_t>(T) * W;
  std::vector<float>& h = s.h;      // [T, W]
  std::vector<float>& qkv = s.qkv;  // [T, 3W]: q | k | v, each [heads, hd]
  std::vector<float>& ctx = s.ctx;  // [T, W]
  std::vector<float>& mlp = s.mlp;  // [T, mlp_dim]
  h.resize(TW);
  qkv.resize(3 * TW);
  ctx.resize(TW);
  mlp.resize(static_cast<size_t>(T) * M);

  // h = x + proj(attn(norm1(x)))
  layernorm(h.data(), x, w.norm1_w.data(), w.norm1_b.data(), T, W, cfg.ln_eps);
  linear(qkv.data(), h.data(), w.qkv_w, w.qkv_b.data(), T);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));  // q * head_dim^-0.5, applied to q . k
  attention(ctx.data(), W, qkv.data(), 3 * W, qkv.data() + W, qkv.data() + 2 * W, 3 * W, T, T, heads, hd, scale,
            /*causal=*/false, 0);
  linear(h.data(), ctx.data(), w.proj_w, w.proj_b.data(), T);
  add(x, x, h.data(), TW);

  // x = h + fc2(gelu(fc1(norm2(h))))
  layernorm(h.data(), x, w.norm2_w.data(), w.norm2_b.data(), T, W, cfg.ln_eps);
  linear(mlp.data(), h.data(), w.fc1_w, w.fc1_b.data(), T);
  gelu_erf(mlp.data(), mlp.size());
  linear(h.data(), mlp.data(), w.fc2_w, w.fc2_b.data(), T);
  add(x, x, h.data(), TW);
}

}  // namespace tgv
