// Image preprocessing as upstream's "blip2_image_eval" (model.md section 1, steps 2-3):
// PIL's BICUBIC resize to S x S (aspect ratio ignored), then torchvision's ToTensor
// and Normalize with the CLIP mean/std.
#pragma once
#include <vector>

#include "tinygptv/image.h"

namespace tgv {

// PIL Image.resize((out_w, out_h), Image.BICUBIC), bit-exact (src/image/resize.cpp).
ImageRGB8 resize_bicubic(const ImageRGB8& in, int out_w, int out_h);

// resize_bicubic to size x size, then (v / 255 - mean[c]) / std[c] in float32.
// Returns [3, size, size], channel-major (src/image/preprocess.cpp).
std::vector<float> preprocess_image(const ImageRGB8& img, int size);

}  // namespace tgv
