// EVA ViT-g/14 forward and ln_vision (model.md section 2): pixels [3, S, S] ->
// image tokens [N+1, W]. Upstream VisionTransformer.forward_features, then
// Blip2Base's ln_vision:
//   x = self.patch_embed(x)                        # [N, W]
//   x = torch.cat((cls_tokens, x), dim=1)          # [N+1, W]
//   x = x + self.pos_embed                         # "vision.embed"
//   for blk in self.blocks: x = blk(x)             # "vision.block.{i}"
//   image_embeds = self.ln_vision(x)               # "vision.ln"  (eps 1e-5)
// There is no final norm inside the ViT itself.
#include <algorithm>
#include <string>
#include <vector>

#include "tinygptv/layers.h"
#include "tinygptv/vision.h"

namespace tgv {

void vit_forward(float* out, const float* pixels, const VitWeights& w, const VisionConfig& cfg, const DumpFn& dump) {
  const int S = cfg.image_size, P = cfg.patch_size, W = cfg.width;
  const int g = S / P, N = g * g, T = N + 1;
  const std::vector<int64_t> shape = {T, W};
  std::vector<float> x(static_cast<size_t>(T) * W);  // [N+1, W]: row 0 is cls, then the patches

  std::copy(w.cls_token.begin(), w.cls_token.end(), x.begin());
  patch_embed(x.data() + W, pixels, w.patch_w, w.patch_b.data(), S, P);
  add(x.data(), x.data(), w.pos_embed.data(), x.size());
  if (dump) dump("vision.embed", x.data(), shape);

  VitBlockScratch scratch;  // shared by the blocks
  for (int i = 0; i < cfg.layers; i++) {
    vit_block_forward(x.data(), w.blocks[static_cast<size_t>(i)], cfg, T, scratch);
    if (dump) dump("vision.block." + std::to_string(i), x.data(), shape);
  }

  layernorm(out, x.data(), w.ln_vision_w.data(), w.ln_vision_b.data(), T, W, cfg.ln_vision_eps);
  if (dump) dump("vision.ln", out, shape);
}

}  // namespace tgv
