// The ViT position table for the model's patch grid. The published table is for 224 px
// (16 x 16 grid + cls); for another size upstream EVA (interpolate_pos_embed) resizes
// the grid part with
//   F.interpolate(pos_tokens, size=(g, g), mode='bicubic', align_corners=False)
// in float32 and keeps the cls row. This file repeats PyTorch's CPU kernel
// (aten UpSampleKernel.cpp, HelperInterpCubic) step by step in float32:
//   scale = G / g;  src = scale * (dst + 0.5) - 0.5;  i = floor(src);  t = src - i
//   taps i-1 .. i+2, clamped to [0, G-1], with the cubic-convolution weights (a = -0.75)
//     w0 = cc2(t + 1), w1 = cc1(t), w2 = cc1(1 - t), w3 = cc2(2 - t)
//     cc1(x) = ((a + 2) x - (a + 3)) x^2 + 1          for |x| <= 1
//     cc2(x) = ((a x - 5a) x + 8a) x - 4a             for 1 < |x| < 2
//   out = sum_jy wy[jy] * (sum_jx wx[jx] * in[y_jy, x_jx])   (rows outer, as PyTorch)
// The result agrees with PyTorch 1.13 to a few float32 ulps, not bit for bit (its
// build evaluates some of these float expressions with different rounding): measured
// relative error <= 6.3e-7 on tests/data/pipeline/interp (tests/vision/test_vision.cpp).
#include <cmath>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/vision.h"

namespace tgv {

namespace {

struct CubicTaps {
  int index[4];    // clamped source indices
  float weight[4];
};

CubicTaps cubic_taps(int dst, int in_size, int out_size) {
  const float a = -0.75f;
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const float src = scale * (static_cast<float>(dst) + 0.5f) - 0.5f;  // no clamp at 0 for cubic
  const int i = static_cast<int>(std::floor(src));
  const float t = src - static_cast<float>(i);
  auto cc1 = [a](float x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
  auto cc2 = [a](float x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
  CubicTaps taps;
  taps.weight[0] = cc2(t + 1.0f);
  taps.weight[1] = cc1(t);
  taps.weight[2] = cc1(1.0f - t);
  taps.weight[3] = cc2((1.0f - t) + 1.0f);
  for (int j = 0; j < 4; j++) {
    int k = i - 1 + j;
    k = k < 0 ? 0 : (k > in_size - 1 ? in_size - 1 : k);
    taps.index[j] = k;
  }
  return taps;
}

}  // namespace

void interpolate_pos_grid(float* out, const float* in, int G, int G2, int C) {
  for (int oy = 0; oy < G2; oy++) {
    const CubicTaps ty = cubic_taps(oy, G, G2);
    for (int ox = 0; ox < G2; ox++) {
      const CubicTaps tx = cubic_taps(ox, G, G2);
      float* o = out + (static_cast<size_t>(oy) * G2 + ox) * C;
      for (int c = 0; c < C; c++) {
        float acc = 0;
        for (int jy = 0; jy < 4; jy++) {
          const float* row = in + static_cast<size_t>(ty.index[jy]) * G * C + c;
          float r = row[static_cast<size_t>(tx.index[0]) * C] * tx.weight[0];
          for (int jx = 1; jx < 4; jx++) r += row[static_cast<size_t>(tx.index[jx]) * C] * tx.weight[jx];
          acc = jy == 0 ? r * ty.weight[0] : acc + r * ty.weight[jy];
        }
        o[c] = acc;
      }
    }
  }
}

std::vector<float> position_table(const Tensor& pos_embed, int g, int W) {
  const auto& s = pos_embed.shape;
  if (s.size() != 3 || s[0] != 1 || s[2] != W || s[1] < 2)
    fail("tensor '" + pos_embed.name + "' has wrong shape; expected [1, G*G+1, " + std::to_string(W) + "], got " +
         shape_str(s));
  const int64_t cells = s[1] - 1;
  int64_t G = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(cells))));
  if (G * G != cells)
    fail("tensor '" + pos_embed.name + "': " + std::to_string(cells) + " grid positions is not a square grid");
  std::vector<float> table = tensor_f32(pos_embed);  // [1 + G*G, W], upstream interpolates float32
  if (G == g) return table;
  std::vector<float> out(static_cast<size_t>(g) * g * W + W);
  for (int c = 0; c < W; c++) out[static_cast<size_t>(c)] = table[static_cast<size_t>(c)];  // cls row kept
  interpolate_pos_grid(out.data() + W, table.data() + W, static_cast<int>(G), g, W);
  return out;
}

}  // namespace tgv
