// resize_bicubic: PIL's Image.resize(size, BICUBIC) on an RGB image, bit-exact
// (Pillow 9.4 libImaging/Resample.c; model.md section 1 step 2).
//
// Separable: a horizontal pass (rows: in_w -> out_w) then a vertical pass
// (columns: in_h -> out_h); a pass is skipped when its dimension is unchanged.
// For one pass over n input samples producing m outputs:
//   scale   = n / m;  fscale = max(scale, 1)         (antialias: widen on downscale)
//   support = 2 * fscale                             (cubic kernel, a = -0.5)
//   output i: center = (i + 0.5) * scale
//             window [xmin, xmax) = [int(center - support + 0.5), int(center + support + 0.5)) clipped to [0, n)
//             w_k = cubic((xmin + k - center + 0.5) / fscale), normalised to sum 1
//             fixed-point weight = trunc(w_k * 2^22 +- 0.5)   (round half away from zero)
//             out = clip8((2^21 + sum_k in[xmin + k] * weight_k) >> 22)
// All weight arithmetic is double, evaluated in PIL's order (no FMA contraction).
#include <algorithm>
#include <cmath>

#include "tinygptv/error.h"
#include "tinygptv/preprocess.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#endif

namespace tgv {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // 22: two bits of headroom for negative lobes and overshoot

double cubic(double x) {  // Keys cubic convolution, a = -0.5, written exactly as PIL evaluates it
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Per-output window start/length and fixed-point weights ([m][ksize]).
struct Coeffs {
  int ksize = 0;
  std::vector<int> xmin, count;
  std::vector<int32_t> weight;
};

Coeffs make_coeffs(int n, int m) {
  Coeffs c;
  const double scale = static_cast<double>(n) / m;
  const double fscale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * fscale;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.xmin.resize(m);
  c.count.resize(m);
  c.weight.assign(size_t(m) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  const double ss = 1.0 / fscale;
  for (int i = 0; i < m; i++) {
    const double center = (i + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > n) xmax = n;
    xmax -= xmin;  // now the window length
    double total = 0.0;
    for (int k = 0; k < xmax; k++) {
      w[k] = cubic((k + xmin - center + 0.5) * ss);
      total += w[k];
    }
    for (int k = 0; k < xmax; k++) {
      double v = total != 0.0 ? w[k] / total : w[k];
      v *= (1 << kPrecisionBits);
      c.weight[size_t(i) * c.ksize + k] = static_cast<int32_t>(v >= 0.0 ? v + 0.5 : v - 0.5);
    }
    c.xmin[i] = xmin;
    c.count[i] = xmax;
  }
  return c;
}

uint8_t clip8(int32_t acc) {
  int32_t v = acc >> kPrecisionBits;  // arithmetic shift: floor
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// out: [rows, out_w, 3] <- in rows [row0, row0 + rows) of [*, in_w, 3].
void resample_horizontal(uint8_t* out, const uint8_t* in, int in_w, int row0, int rows, int out_w, const Coeffs& c) {
  for (int y = 0; y < rows; y++) {
    const uint8_t* src = in + size_t(row0 + y) * in_w * 3;
    uint8_t* dst = out + size_t(y) * out_w * 3;
    for (int x = 0; x < out_w; x++) {
      const int32_t* k = &c.weight[size_t(x) * c.ksize];
      const uint8_t* s = src + size_t(c.xmin[x]) * 3;
      int32_t r = 1 << (kPrecisionBits - 1), g = r, b = r;
      for (int j = 0; j < c.count[x]; j++) {
        r += s[j * 3] * k[j];
        g += s[j * 3 + 1] * k[j];
        b += s[j * 3 + 2] * k[j];
      }
      dst[x * 3] = clip8(r);
      dst[x * 3 + 1] = clip8(g);
      dst[x * 3 + 2] = clip8(b);
    }
  }
}

// out: [out_h, w, 3] <- in [*, w, 3]; window starts are relative to row `row0` of in.
void resample_vertical(uint8_t* out, const uint8_t* in, int w, int row0, int out_h, const Coeffs& c) {
  const size_t stride = size_t(w) * 3;
  std::vector<int32_t> acc(stride);
  for (int y = 0; y < out_h; y++) {
    const int32_t* k = &c.weight[size_t(y) * c.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int j = 0; j < c.count[y]; j++) {
      const uint8_t* src = in + size_t(c.xmin[y] - row0 + j) * stride;
      for (size_t i = 0; i < stride; i++) acc[i] += src[i] * k[j];
    }
    uint8_t* dst = out + size_t(y) * stride;
    for (size_t i = 0; i < stride; i++) dst[i] = clip8(acc[i]);
  }
}

}  // namespace

ImageRGB8 resize_bicubic(const ImageRGB8& in, int out_w, int out_h) {
  TGV_ASSERT(in.width > 0 && in.height > 0 && in.pixels.size() == size_t(in.width) * in.height * 3, "resize: bad input image");
  TGV_ASSERT(out_w > 0 && out_h > 0, "resize: output size must be positive");
  const bool horizontal = out_w != in.width, vertical = out_h != in.height;
  ImageRGB8 out;
  out.width = out_w;
  out.height = out_h;
  if (!horizontal && !vertical) {
    out.pixels = in.pixels;
    return out;
  }
  Coeffs cv;
  int row0 = 0, row_end = in.height;  // the input rows the vertical pass reads
  if (vertical) {
    cv = make_coeffs(in.height, out_h);
    row0 = cv.xmin[0];
    row_end = cv.xmin[out_h - 1] + cv.count[out_h - 1];
  }
  std::vector<uint8_t> tmp;
  const uint8_t* rows = in.pixels.data();
  if (horizontal) {
    Coeffs ch = make_coeffs(in.width, out_w);
    tmp.resize(size_t(row_end - row0) * out_w * 3);
    resample_horizontal(tmp.data(), in.pixels.data(), in.width, row0, row_end - row0, out_w, ch);
    if (!vertical) {
      out.pixels = std::move(tmp);
      return out;
    }
    rows = tmp.data();
  } else {
    row0 = 0;  // vertical only: read the input directly
  }
  out.pixels.resize(size_t(out_w) * out_h * 3);
  resample_vertical(out.pixels.data(), rows, out_w, row0, out_h, cv);
  return out;
}

}  // namespace tgv
