// Component planes -> RGB: chroma upsampling (libjpeg-turbo jdsample.c with
// do_fancy_upsampling on, as PIL leaves it) and colour conversion (jdcolor.c), then
// PIL's CMYK -> RGB for 4-component files.
//
// Upsampling, per component with ratio (max_h/h) x (max_v/v):
//   1x1                 copy
//   2x1, plane > 2 wide "fancy": out[2i]   = (3*in[i] + in[i-1] + 1) >> 2
//                                out[2i+1] = (3*in[i] + in[i+1] + 2) >> 2
//   1x2                 "fancy": out = (3*nearer row + farther row + bias) >> 2,
//                       bias 1 for the upper output row, 2 for the lower
//   2x2, plane > 2 wide "fancy": colsum = 3*nearer row + farther row, then
//                       out[2i] = (3*cs[i] + cs[i-1] + 8) >> 4, out[2i+1] = (3*cs[i] + cs[i+1] + 7) >> 4
//   anything else       replication (also 2x1 / 2x2 when the plane is <= 2 samples wide)
// Neighbours past the plane's edge are the edge sample itself (libjpeg replicates the
// last real column and row: downsampled_width/height, not the padded block size).
// A non-integer ratio (e.g. 3 over 2) was refused by read_sof, as libjpeg refuses it.
//
// YCbCr -> RGB in 16-bit fixed point (SCALEBITS 16, FIX(x) = round(x * 65536)):
//   R = Y + ((FIX(1.40200) * (Cr-128) + 2^15) >> 16)
//   G = Y + ((-FIX(0.34414) * (Cb-128) - FIX(0.71414) * (Cr-128) + 2^15) >> 16)
//   B = Y + ((FIX(1.77200) * (Cb-128) + 2^15) >> 16)
// each clamped to 0..255. YCCK -> CMYK is 255 - (those R,G,B), K passed through.
// CMYK (stored inverted, Adobe style; PIL opens it as "CMYK;I") -> RGB as PIL's
// cmyk2rgb: R = K - MULDIV255(255 - C, K), MULDIV255(a,b) = (t + (t >> 8)) >> 8 with
// t = a*b + 128.
#include <algorithm>

#include "jpeg/jpeg_internal.h"

namespace tgv::jpeg {

namespace {

// The four terms, exactly as libjpeg's tables (x = Cb-128 or Cr-128):
constexpr int kScaleBits = 16;
constexpr int32_t kHalf = 1 << (kScaleBits - 1);
constexpr int32_t fix(double x) { return static_cast<int32_t>(x * (1 << kScaleBits) + 0.5); }
inline int cr_to_r(int cr) { return (fix(1.40200) * (cr - 128) + kHalf) >> kScaleBits; }
inline int cb_to_b(int cb) { return (fix(1.77200) * (cb - 128) + kHalf) >> kScaleBits; }
inline int cbcr_to_g(int cb, int cr) {
  return (-fix(0.34414) * (cb - 128) + kHalf - fix(0.71414) * (cr - 128)) >> kScaleBits;
}

inline uint8_t clamp255(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

inline uint8_t muldiv255(int a, int b) {
  int t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

// One row of YCbCr -> interleaved RGB. Planar first (loops the compiler vectorizes),
// then interleaved. scratch: [3, n].
void ycc_to_rgb_row(uint8_t* rgb, const uint8_t* y, const uint8_t* cb, const uint8_t* cr, uint8_t* scratch,
                    int n) {
  uint8_t* r = scratch;
  uint8_t* g = scratch + n;
  uint8_t* b = scratch + 2 * n;
  for (int x = 0; x < n; x++) r[x] = clamp255(y[x] + cr_to_r(cr[x]));
  for (int x = 0; x < n; x++) g[x] = clamp255(y[x] + cbcr_to_g(cb[x], cr[x]));
  for (int x = 0; x < n; x++) b[x] = clamp255(y[x] + cb_to_b(cb[x]));
  for (int x = 0; x < n; x++) {
    rgb[3 * x] = r[x];
    rgb[3 * x + 1] = g[x];
    rgb[3 * x + 2] = b[x];
  }
}

enum class Method { Copy, FancyH2V1, FancyH1V2, FancyH2V2, Replicate };

struct Upsampler {
  const Component* c = nullptr;
  Method method = Method::Copy;
  int hr = 1, vr = 1;            // integer ratios max_h/h, max_v/v
  std::vector<int> colsum;       // [c.width] for FancyH2V2
  std::vector<uint8_t> row;      // [>= output width] the upsampled row
};

const uint8_t* plane_row(const Component& c, int r) {
  r = std::clamp(r, 0, c.height - 1);
  return c.plane.data() + static_cast<size_t>(r) * c.plane_stride();
}

// Returns a pointer to `width` upsampled samples of output row y.
const uint8_t* upsample_row(Upsampler& u, int y) {
  const Component& c = *u.c;
  const int n = c.width;
  uint8_t* out = u.row.data();
  switch (u.method) {
    case Method::Copy:
      return plane_row(c, y);
    case Method::FancyH2V1: {  // n > 2
      const uint8_t* in = plane_row(c, y);
      out[0] = in[0];
      out[1] = static_cast<uint8_t>((3 * in[0] + in[1] + 2) >> 2);
      for (int i = 1; i < n - 1; i++) {
        const int t = 3 * in[i];
        out[2 * i] = static_cast<uint8_t>((t + in[i - 1] + 1) >> 2);
        out[2 * i + 1] = static_cast<uint8_t>((t + in[i + 1] + 2) >> 2);
      }
      out[2 * n - 2] = static_cast<uint8_t>((3 * in[n - 1] + in[n - 2] + 1) >> 2);
      out[2 * n - 1] = in[n - 1];
      return out;
    }
    case Method::FancyH1V2: {
      const int r = y >> 1;
      const bool lower = y & 1;
      const uint8_t* near = plane_row(c, r);
      const uint8_t* far = plane_row(c, lower ? r + 1 : r - 1);
      const int bias = lower ? 2 : 1;
      for (int i = 0; i < n; i++) out[i] = static_cast<uint8_t>((3 * near[i] + far[i] + bias) >> 2);
      return out;
    }
    case Method::FancyH2V2: {  // n > 2
      const int r = y >> 1;
      const uint8_t* near = plane_row(c, r);
      const uint8_t* far = plane_row(c, (y & 1) ? r + 1 : r - 1);
      int* cs = u.colsum.data();
      for (int i = 0; i < n; i++) cs[i] = 3 * near[i] + far[i];
      out[0] = static_cast<uint8_t>((4 * cs[0] + 8) >> 4);
      out[1] = static_cast<uint8_t>((3 * cs[0] + cs[1] + 7) >> 4);
      for (int i = 1; i < n - 1; i++) {
        const int t = 3 * cs[i];
        out[2 * i] = static_cast<uint8_t>((t + cs[i - 1] + 8) >> 4);
        out[2 * i + 1] = static_cast<uint8_t>((t + cs[i + 1] + 7) >> 4);
      }
      out[2 * n - 2] = static_cast<uint8_t>((3 * cs[n - 1] + cs[n - 2] + 8) >> 4);
      out[2 * n - 1] = static_cast<uint8_t>((4 * cs[n - 1] + 7) >> 4);
      return out;
    }
    case Method::Replicate: {
      const uint8_t* in = plane_row(c, y / u.vr);
      const int w = n * u.hr;
      for (int x = 0; x < w; x++) out[x] = in[x / u.hr];
      return out;
    }
  }
  return out;
}

}  // namespace

ColorSpace color_space(const Decoder& d) {
  // libjpeg's default_decompress_parms (jdapimin.c)
  const Frame& f = d.frame;
  if (f.ncomp == 1) return ColorSpace::Gray;
  if (f.ncomp == 3) {
    if (d.saw_jfif) return ColorSpace::YCbCr;
    if (d.saw_adobe) return d.adobe_transform == 0 ? ColorSpace::RGB : ColorSpace::YCbCr;
    if (f.comp[0].id == 'R' && f.comp[1].id == 'G' && f.comp[2].id == 'B') return ColorSpace::RGB;
    return ColorSpace::YCbCr;
  }
  if (d.saw_adobe && d.adobe_transform != 0) return ColorSpace::YCCK;
  return ColorSpace::CMYK;
}

void planes_to_rgb(ImageRGB8& out, const Frame& f, ColorSpace cs) {
  const int W = f.width, H = f.height;
  std::vector<uint8_t> rgb_planes(3 * static_cast<size_t>(W));  // scratch for ycc_to_rgb_row
  Upsampler ups[kMaxComponents];
  for (int i = 0; i < f.ncomp; i++) {
    Upsampler& u = ups[i];
    const Component& c = f.comp[i];
    u.c = &c;
    TGV_ASSERT(f.max_h % c.h == 0 && f.max_v % c.v == 0, "read_sof refuses fractional ratios");
    u.hr = f.max_h / c.h;
    u.vr = f.max_v / c.v;
    if (u.hr == 1 && u.vr == 1) u.method = Method::Copy;
    else if (u.hr == 2 && u.vr == 1 && c.width > 2) u.method = Method::FancyH2V1;
    else if (u.hr == 1 && u.vr == 2) u.method = Method::FancyH1V2;
    else if (u.hr == 2 && u.vr == 2 && c.width > 2) u.method = Method::FancyH2V2;
    else u.method = Method::Replicate;
    u.colsum.resize(static_cast<size_t>(c.width));
    u.row.resize(std::max(static_cast<size_t>(c.width) * u.hr, static_cast<size_t>(W)));
  }

  out.width = W;
  out.height = H;
  out.pixels.assign(checked_mul(checked_mul(static_cast<size_t>(W), static_cast<size_t>(H), "jpeg image"), 3,
                                "jpeg image"),
                    0);
  for (int y = 0; y < H; y++) {
    const uint8_t* p[kMaxComponents] = {};
    for (int i = 0; i < f.ncomp; i++) p[i] = upsample_row(ups[i], y);
    uint8_t* o = out.pixels.data() + static_cast<size_t>(y) * W * 3;
    switch (cs) {
      case ColorSpace::Gray:
        for (int x = 0; x < W; x++) o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = p[0][x];
        break;
      case ColorSpace::RGB:
        for (int x = 0; x < W; x++) {
          o[3 * x] = p[0][x];
          o[3 * x + 1] = p[1][x];
          o[3 * x + 2] = p[2][x];
        }
        break;
      case ColorSpace::YCbCr:
        ycc_to_rgb_row(o, p[0], p[1], p[2], rgb_planes.data(), W);
        break;
      case ColorSpace::CMYK:
      case ColorSpace::YCCK:
        for (int x = 0; x < W; x++) {
          int c0 = p[0][x], c1 = p[1][x], c2 = p[2][x], k = p[3][x];
          if (cs == ColorSpace::YCCK) {  // libjpeg's ycck_cmyk_convert
            int yy = c0, cb = c1, cr = c2;
            c0 = clamp255(255 - (yy + cr_to_r(cr)));
            c1 = clamp255(255 - (yy + cbcr_to_g(cb, cr)));
            c2 = clamp255(255 - (yy + cb_to_b(cb)));
          }
          o[3 * x] = static_cast<uint8_t>(k - muldiv255(255 - c0, k));
          o[3 * x + 1] = static_cast<uint8_t>(k - muldiv255(255 - c1, k));
          o[3 * x + 2] = static_cast<uint8_t>(k - muldiv255(255 - c2, k));
        }
        break;
    }
  }
}

}  // namespace tgv::jpeg
