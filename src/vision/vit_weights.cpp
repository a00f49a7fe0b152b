// Loading the EVA ViT weights from a model file (names and shapes: interface.md,
// include/tinygptv/vision.h). Every shape is checked against the config; a wrong
// or missing tensor is a tgv::Error naming it. Two things happen at load time:
//  - the key bias of the fused qkv is zero upstream (q_bias, zeros, v_bias), so
//    the three pieces are joined into one [3W] bias here;
//  - a position table made for another grid is interpolated to the model's grid
//    once (pos_embed.cpp), as upstream EVA does when it loads the checkpoint.
#include <algorithm>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/vision.h"

namespace tgv {

VitWeights load_vit(const ModelFile& mf, const VisionConfig& cfg) {
  const int64_t W = cfg.width, P = cfg.patch_size, M = cfg.mlp_dim;
  const int g = cfg.image_size / cfg.patch_size;
  const std::string e = "visual_encoder.";
  VitWeights w;
  w.patch_w = mf.matrix(e + "patch_embed.proj.weight", {W, 3, P, P});
  w.patch_w.shape = {W, 3 * P * P};  // the conv as a Linear over flattened patches
  w.patch_b = mf.floats(e + "patch_embed.proj.bias", {W});
  w.cls_token = mf.floats(e + "cls_token", {1, 1, W});
  w.pos_embed = position_table(mf.unquantized(e + "pos_embed"), g, cfg.width);

  for (int i = 0; i < cfg.layers; i++) {
    const std::string b = e + "blocks." + std::to_string(i) + ".";
    VitBlockWeights blk;
    blk.norm1_w = mf.floats(b + "norm1.weight", {W});
    blk.norm1_b = mf.floats(b + "norm1.bias", {W});
    blk.qkv_w = mf.matrix(b + "attn.qkv.weight", {3 * W, W});
    const std::vector<float> q_bias = mf.floats(b + "attn.q_bias", {W});
    const std::vector<float> v_bias = mf.floats(b + "attn.v_bias", {W});
    blk.qkv_b.assign(static_cast<size_t>(3 * W), 0.0f);
    std::copy(q_bias.begin(), q_bias.end(), blk.qkv_b.begin());
    std::copy(v_bias.begin(), v_bias.end(), blk.qkv_b.begin() + 2 * W);
    blk.proj_w = mf.matrix(b + "attn.proj.weight", {W, W});
    blk.proj_b = mf.floats(b + "attn.proj.bias", {W});
    blk.norm2_w = mf.floats(b + "norm2.weight", {W});
    blk.norm2_b = mf.floats(b + "norm2.bias", {W});
    blk.fc1_w = mf.matrix(b + "mlp.fc1.weight", {M, W});
    blk.fc1_b = mf.floats(b + "mlp.fc1.bias", {M});
    blk.fc2_w = mf.matrix(b + "mlp.fc2.weight", {W, M});
    blk.fc2_b = mf.floats(b + "mlp.fc2.bias", {W});
    w.blocks.push_back(std::move(blk));
  }
  w.ln_vision_w = mf.floats("ln_vision.weight", {W});
  w.ln_vision_b = mf.floats("ln_vision.bias", {W});
  return w;
}

}  // namespace tgv
