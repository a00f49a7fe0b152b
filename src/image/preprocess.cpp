// preprocess_image: upstream's "blip2_image_eval" transform (model.md section 1):
//   transforms.Resize((S, S), interpolation=BICUBIC)   -> resize_bicubic (PIL, bit-exact)
//   transforms.ToTensor()                              -> v / 255 in float32, HWC -> CHW
//   transforms.Normalize(mean, std)                    -> (x - mean[c]) / std[c] in float32
// Each step rounds to float32 exactly as torch does, so the result matches
// torchvision to the last bit when the resized 8-bit image is the same.
#include "tinygptv/error.h"
#include "tinygptv/preprocess.h"

namespace tgv {

std::vector<float> preprocess_image(const ImageRGB8& img, int size) {
  TGV_ASSERT(size > 0, "preprocess: size must be positive");
  static constexpr float kMean[3] = {0.48145466f, 0.4578275f, 0.40821073f};  // CLIP
  static constexpr float kStd[3] = {0.26862954f, 0.26130258f, 0.27577711f};
  ImageRGB8 r = resize_bicubic(img, size, size);
  const size_t plane = size_t(size) * size;
  std::vector<float> out(3 * plane);  // [3, S, S]
  for (size_t i = 0; i < plane; i++) {
    for (int c = 0; c < 3; c++) {
      float x = static_cast<float>(r.pixels[i * 3 + c]) / 255.0f;
      out[c * plane + i] = (x - kMean[c]) / kStd[c];
    }
  }
  return out;
}

}  // namespace tgv
