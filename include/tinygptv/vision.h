// EVA ViT-g/14 + ln_vision (model.md section 2): pixels [3, S, S] -> image tokens
// [N+1, W], N = (S/P)^2 patches plus the cls token. Implementations: src/vision/.
//
//   x = concat(cls_token, patch_embed(pixels)) + pos_embed        "vision.embed"
//   for each block (pre-norm):                                      "vision.block.{i}"
//     h = x + proj(attn(norm1(x)))
//     x = h + fc2(gelu(fc1(norm2(h))))
//   out = ln_vision(x)                                              "vision.ln"
#pragma once
#include <vector>

#include "tinygptv/dump.h"
#include "tinygptv/model_file.h"
#include "tinygptv/tensor.h"

namespace tgv {

struct VitBlockWeights {
  std::vector<float> norm1_w;   // visual_encoder.blocks.{i}.norm1.weight        [W]
  std::vector<float> norm1_b;   // visual_encoder.blocks.{i}.norm1.bias          [W]
  Tensor qkv_w;                 // visual_encoder.blocks.{i}.attn.qkv.weight     [3*W, W]
  std::vector<float> qkv_b;     // concat(attn.q_bias [W], zeros [W], attn.v_bias [W])  [3*W]
                                //   (the key has no bias; built at load time)
  Tensor proj_w;                // visual_encoder.blocks.{i}.attn.proj.weight    [W, W]
  std::vector<float> proj_b;    // visual_encoder.blocks.{i}.attn.proj.bias      [W]
  std::vector<float> norm2_w;   // visual_encoder.blocks.{i}.norm2.weight        [W]
  std::vector<float> norm2_b;   // visual_encoder.blocks.{i}.norm2.bias          [W]
  Tensor fc1_w;                 // visual_encoder.blocks.{i}.mlp.fc1.weight      [mlp_dim, W]
  std::vector<float> fc1_b;     // visual_encoder.blocks.{i}.mlp.fc1.bias        [mlp_dim]
  Tensor fc2_w;                 // visual_encoder.blocks.{i}.mlp.fc2.weight      [W, mlp_dim]
  std::vector<float> fc2_b;     // visual_encoder.blocks.{i}.mlp.fc2.bias        [W]
};

struct VitWeights {
  Tensor patch_w;               // visual_encoder.patch_embed.proj.weight [W, 3, P, P], viewed as [W, 3*P*P]
  std::vector<float> patch_b;   // visual_encoder.patch_embed.proj.bias   [W]
  std::vector<float> cls_token; // visual_encoder.cls_token               [1, 1, W]
  std::vector<float> pos_embed; // visual_encoder.pos_embed               [1, N+1, W] for the model's image_size
                                //   (a table for another G x G grid is interpolated at load time)
  std::vector<VitBlockWeights> blocks;  // config vision.layers of them
  std::vector<float> ln_vision_w;  // ln_vision.weight                    [W]
  std::vector<float> ln_vision_b;  // ln_vision.bias                      [W]
};

// Loads and shape-checks every vision tensor (throws tgv::Error naming the tensor).
VitWeights load_vit(const ModelFile& mf, const VisionConfig& cfg);

// The whole encoder: out [N+1, W] = ln_vision(ViT(pixels [3, S, S])).     vit.cpp
void vit_forward(float* out, const float* pixels, const VitWeights& w, const VisionConfig& cfg, const DumpFn& dump);

// Conv2d(3, W, kernel P, stride P) as a Linear over each flattened patch
// (flatten order c, ky, kx; patches row-major): out [N, W].                patch_embed.cpp
void patch_embed(float* out, const float* pixels, const Tensor& w, const float* b, int S, int P);

// A block's intermediate activations. vit_forward keeps one for all its blocks, so
// the ~14 MB a ViT-g block needs at 224 px is allocated (and paged in) once per
// image instead of once per block; each buffer is resized to the block's T first.
struct VitBlockScratch {
  std::vector<float> h;    // [T, W]   norm1 / norm2 output, then proj / fc2 output
  std::vector<float> qkv;  // [T, 3W]  q | k | v, each [heads, head_dim]
  std::vector<float> ctx;  // [T, W]   attention output
  std::vector<float> mlp;  // [T, mlp_dim]
};

// One pre-norm block, in place on x [T, W].                                vit_block.cpp
void vit_block_forward(float* x, const VitBlockWeights& w, const VisionConfig& cfg, int T, VitBlockScratch& s);

// Bicubic resize of a position grid, as PyTorch's F.interpolate(mode="bicubic",
// align_corners=False) (a = -0.75, borders clamped), in float32:
// out [G2*G2, C] from in [G*G, C] (rows are grid cells, row-major).        pos_embed.cpp
void interpolate_pos_grid(float* out, const float* in, int G, int G2, int C);

// The position table for a model running on a g x g patch grid, from a table
// [1, G*G + 1, W] (cls first) made for any G: copied when G == g, else the grid
// part is interpolated and the cls row kept. Throws when the table is not 1 + G*G rows.
std::vector<float> position_table(const Tensor& pos_embed, int g, int W);

}  // namespace tgv
