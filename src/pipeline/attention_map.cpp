// Cross-attention heatmaps: see include/tinygptv/attention_map.h.
#include "tinygptv/attention_map.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "tinygptv/error.h"

namespace tgv {

std::vector<float> attention_patch_weights(const QFormerCrossAttention& a, int grid, int query, float* cls_share) {
  const int n = grid * grid;
  if (a.probs.empty()) fail("attention map: the Q-Former recorded no cross-attention");
  if (a.keys != n + 1) fail("attention map: " + std::to_string(a.keys) + " image tokens do not make a " + std::to_string(grid) + "x" + std::to_string(grid) + " grid plus cls");
  if (query >= a.queries) fail("attention map: query " + std::to_string(query) + " does not exist (the model has " + std::to_string(a.queries) + " queries, 0.." + std::to_string(a.queries - 1) + ")");
  std::vector<double> sum(static_cast<size_t>(n) + 1, 0.0);  // [cls, patches...]
  int rows = 0;
  for (const std::vector<float>& p : a.probs)  // [heads, Q, keys]
    for (int h = 0; h < a.heads; h++)
      for (int q = 0; q < a.queries; q++) {
        if (query >= 0 && q != query) continue;
        const float* row = p.data() + (static_cast<size_t>(h) * a.queries + q) * a.keys;
        for (int j = 0; j <= n; j++) sum[static_cast<size_t>(j)] += row[j];
        rows++;
      }
  if (cls_share) *cls_share = static_cast<float>(sum[0] / rows);
  std::vector<float> w(static_cast<size_t>(n));
  for (int j = 0; j < n; j++) w[static_cast<size_t>(j)] = static_cast<float>(sum[static_cast<size_t>(j) + 1] / rows);
  return w;
}

namespace {

// t in [0, 1] -> RGB on a dark purple -> red -> orange -> pale yellow ramp.
void heat_colour(float t, float rgb[3]) {
  static const float kStops[4][3] = {{20, 10, 60}, {150, 30, 100}, {240, 110, 30}, {252, 250, 160}};
  const float x = std::clamp(t, 0.0f, 1.0f) * 3.0f;
  const int i = std::min(static_cast<int>(x), 2);
  const float f = x - static_cast<float>(i);
  for (int c = 0; c < 3; c++) rgb[c] = kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c]);
}

}  // namespace

ImageRGB8 attention_overlay(const ImageRGB8& image, const std::vector<float>& weights, int grid) {
  if (grid < 1 || weights.size() != static_cast<size_t>(grid) * grid) fail("attention map: weights are not a grid x grid table");
  const int scale = std::max(1, (336 + std::max(image.width, image.height) - 1) / std::max(image.width, image.height));
  const float top = std::max(*std::max_element(weights.begin(), weights.end()), 1e-30f);
  ImageRGB8 out;
  out.width = image.width * scale;
  out.height = image.height * scale;
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * 3);
  auto cell = [&](int gy, int gx) { return weights[static_cast<size_t>(std::clamp(gy, 0, grid - 1)) * grid + std::clamp(gx, 0, grid - 1)] / top; };
  for (int y = 0; y < out.height; y++)
    for (int x = 0; x < out.width; x++) {
      // position in patch units, patch centres at integers
      const float u = (static_cast<float>(x) + 0.5f) / static_cast<float>(out.width) * grid - 0.5f;
      const float v = (static_cast<float>(y) + 0.5f) / static_cast<float>(out.height) * grid - 0.5f;
      const int gx = static_cast<int>(std::floor(u)), gy = static_cast<int>(std::floor(v));
      const float fx = u - static_cast<float>(gx), fy = v - static_cast<float>(gy);
      const float t = (1 - fy) * ((1 - fx) * cell(gy, gx) + fx * cell(gy, gx + 1)) + fy * ((1 - fx) * cell(gy + 1, gx) + fx * cell(gy + 1, gx + 1));
      float heat[3];
      heat_colour(t, heat);
      const uint8_t* src = image.pixels.data() + (static_cast<size_t>(y / scale) * image.width + x / scale) * 3;
      uint8_t* dst = out.pixels.data() + (static_cast<size_t>(y) * out.width + x) * 3;
      const float alpha = 0.2f + 0.55f * t;  // hot patches cover the image more
      for (int c = 0; c < 3; c++) dst[c] = static_cast<uint8_t>(std::lround((1 - alpha) * src[c] + alpha * heat[c]));
    }
  return out;
}

}  // namespace tgv
