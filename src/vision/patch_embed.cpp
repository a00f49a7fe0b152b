// Patch embedding: EVA's Conv2d(3, W, kernel P, stride P) with bias is a Linear over
// each flattened 3 x P x P patch. Flatten order (c, ky, kx) is the conv weight's own
// [W, 3, P, P] layout, so the weight is used as [W, 3*P*P] unchanged.
//
//   x = self.proj(x).flatten(2).transpose(1, 2)      # upstream PatchEmbed.forward
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/layers.h"
#include "tinygptv/vision.h"

namespace tgv {

void patch_embed(float* out, const float* pixels, const Tensor& w, const float* b, int S, int P) {
  const int g = S / P;                    // patches per side
  const int N = g * g, K = 3 * P * P;     // patches, features per patch
  TGV_ASSERT(w.shape.size() == 2 && w.shape[1] == K, "patch_embed wants the weight viewed as [W, 3*P*P]");
  std::vector<float> patches(static_cast<size_t>(N) * K);  // [N, 3*P*P]
  for (int py = 0; py < g; py++)
    for (int px = 0; px < g; px++) {
      float* row = patches.data() + static_cast<size_t>(py * g + px) * K;
      for (int c = 0; c < 3; c++)
        for (int ky = 0; ky < P; ky++) {
          const float* src = pixels + (static_cast<size_t>(c) * S + py * P + ky) * S + px * P;
          for (int kx = 0; kx < P; kx++) *row++ = src[kx];
        }
    }
  linear(out, patches.data(), w, b, N);  // [N, W]
}

}  // namespace tgv
