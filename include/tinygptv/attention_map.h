// Pictures of what the Q-Former's queries looked at (`tinygptv ask --attention-map`):
// the cross-attention probabilities over the image patches, drawn as a heatmap on
// the image. Implementation: src/pipeline/attention_map.cpp.
//
//   QFormerCrossAttention a;
//   chat.set_image(pixels, {}, &a);                                   // the encoder fills it
//   float cls = 0;
//   std::vector<float> w = attention_patch_weights(a, grid, -1, &cls); // [grid * grid]
//   ImageRGB8 picture = attention_overlay(load_image("scene.png"), w, grid);
#pragma once
#include <vector>

#include "tinygptv/image.h"
#include "tinygptv/qformer.h"

namespace tgv {

// The mean cross-attention probability of each image patch [grid * grid] (row-major, as
// the ViT numbers its patches): averaged over every cross-attention layer and head, and
// over all queries (query < 0) or for one query. The probability the queries gave the
// cls token is left out of the map and returned in *cls_share when given.
std::vector<float> attention_patch_weights(const QFormerCrossAttention& a, int grid, int query, float* cls_share);

// The image with the weights on top as a heatmap: weight / max weight through a dark
// purple -> red -> yellow ramp, interpolated bilinearly between patch centres and
// blended over the image (20 % where the weight is 0, 75 % at the maximum). Images under 336 px are enlarged (nearest neighbour)
// so the patches can be seen.
ImageRGB8 attention_overlay(const ImageRGB8& image, const std::vector<float>& weights, int grid);

}  // namespace tgv
