// PNG decoder: bytes -> 8-bit RGB exactly as PIL's Image.open(f).convert("RGB")
// (Pillow 9.4; model.md section 1). See include/tinygptv/image.h.
//
//   signature | IHDR | ... PLTE tRNS ... | IDAT IDAT ... | (rest ignored, as PIL does)
//   concatenated IDAT payloads = zlib stream -> per row: filter byte + packed samples
//   (Adam7: 7 sub-images, each row-filtered on its own) -> unfilter -> RGB8
//
// What PIL does, and so what this does:
//  - CRCs are verified for the chunks before the first IDAT only; a file may end
//    anywhere once the image data is complete (no IEND needed).
//  - 1/2/4-bit grey scaled by 255/85/17; 16-bit grey clamped to 255 (PIL's mode
//    "I" -> "RGB"); every other 16-bit sample keeps its high byte.
//  - palette: entries missing from PLTE (or no PLTE at all) are the grey ramp
//    (i, i, i); more than 256 PLTE entries is an error. Alpha and tRNS are dropped
//    (tRNS shorter than one grey/RGB sample is an error, as in PIL).
//  - any non-zero interlace method means Adam7; the compression method byte is
//    not checked; a filter method other than 0 is an error.
//  - APNG: the IDAT image is the first frame; acTL/fcTL before it are checked as
//    PIL checks them (an fcTL that covers only part of the image is refused).
#include <algorithm>
#include <cstring>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/image.h"
#include "tinygptv/inflate.h"

namespace tgv {

namespace {

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

uint32_t be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }

struct Header {
  uint32_t width = 0, height = 0;
  int depth = 0;       // bits per sample: 1, 2, 4, 8, 16
  int color_type = 0;  // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
  int channels = 0;    // samples per pixel
  bool interlaced = false;
};

Header parse_ihdr(const uint8_t* d) {
  Header h;
  h.width = be32(d);
  h.height = be32(d + 4);
  h.depth = d[8];
  h.color_type = d[9];
  if (d[11] != 0) fail("png: unknown filter method " + std::to_string(d[11]));
  h.interlaced = d[12] != 0;
  if (h.width == 0 || h.height == 0) fail("png: zero image size");
  if (h.width > 0x7FFFFFFFu || h.height > 0x7FFFFFFFu) fail("png: image size too large");
  bool ok = false;
  switch (h.color_type) {
    case 0: ok = h.depth == 1 || h.depth == 2 || h.depth == 4 || h.depth == 8 || h.depth == 16; h.channels = 1; break;
    case 3: ok = h.depth == 1 || h.depth == 2 || h.depth == 4 || h.depth == 8; h.channels = 1; break;
    case 2: ok = h.depth == 8 || h.depth == 16; h.channels = 3; break;
    case 4: ok = h.depth == 8 || h.depth == 16; h.channels = 2; break;
    case 6: ok = h.depth == 8 || h.depth == 16; h.channels = 4; break;
    default: break;
  }
  if (!ok) fail("png: unsupported colour type " + std::to_string(h.color_type) + " with bit depth " + std::to_string(h.depth));
  uint64_t pixels = uint64_t{h.width} * h.height;
  if (pixels > kMaxImagePixels)
    fail("png: image of " + std::to_string(pixels) + " pixels exceeds the limit of " + std::to_string(kMaxImagePixels));
  return h;
}

struct Pass {
  uint32_t x0, y0, dx, dy;
};
constexpr Pass kAdam7[7] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
constexpr Pass kWhole = {0, 0, 1, 1};

uint32_t pass_extent(uint32_t size, uint32_t start, uint32_t step) { return size > start ? (size - start + step - 1) / step : 0; }

size_t row_bytes(const Header& h, uint32_t width) {
  size_t bits = checked_mul(checked_mul(width, static_cast<size_t>(h.channels), "png row"), static_cast<size_t>(h.depth), "png row");
  return bits / 8 + (bits % 8 != 0);
}

uint8_t paeth(int a, int b, int c) {
  int p = a + b - c;
  int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return static_cast<uint8_t>(a);
  return static_cast<uint8_t>(pb <= pc ? b : c);
}

// Undoes the row filter in place. row: [n] bytes, prior: the unfiltered row above
// (zeros for the first row of a pass), bpp: bytes per complete pixel (at least 1).
void unfilter_row(uint8_t* row, const uint8_t* prior, size_t n, size_t bpp, int filter) {
  switch (filter) {
    case 0: break;
    case 1: for (size_t i = bpp; i < n; i++) row[i] = static_cast<uint8_t>(row[i] + row[i - bpp]); break;
    case 2: for (size_t i = 0; i < n; i++) row[i] = static_cast<uint8_t>(row[i] + prior[i]); break;
    case 3:
      for (size_t i = 0; i < n; i++) {
        int left = i >= bpp ? row[i - bpp] : 0;
        row[i] = static_cast<uint8_t>(row[i] + ((left + prior[i]) >> 1));
      }
      break;
    case 4:
      for (size_t i = 0; i < n; i++) {
        int left = i >= bpp ? row[i - bpp] : 0, upleft = i >= bpp ? prior[i - bpp] : 0;
        row[i] = static_cast<uint8_t>(row[i] + paeth(left, prior[i], upleft));
      }
      break;
    default: fail("png: unknown row filter type " + std::to_string(filter));
  }
}

// Converts one unfiltered row of `count` pixels to RGB, writing pixel i at
// out[(x0 + i*dx) * 3]. palette: [256][3], the grey ramp where PLTE says nothing.
void row_to_rgb(uint8_t* out, const uint8_t* row, uint32_t count, uint32_t x0, uint32_t dx, const Header& h,
                const uint8_t* palette) {
  auto put = [&](uint32_t i, uint8_t r, uint8_t g, uint8_t b) {
    uint8_t* o = out + size_t{x0 + i * dx} * 3;
    o[0] = r;
    o[1] = g;
    o[2] = b;
  };
  if (h.depth < 8) {
    const int d = h.depth, mask = (1 << d) - 1, scale = 255 / mask;
    for (uint32_t i = 0; i < count; i++) {
      size_t bit = size_t{i} * d;
      int v = (row[bit / 8] >> (8 - d - bit % 8)) & mask;
      if (h.color_type == 3) put(i, palette[v * 3], palette[v * 3 + 1], palette[v * 3 + 2]);
      else put(i, static_cast<uint8_t>(v * scale), static_cast<uint8_t>(v * scale), static_cast<uint8_t>(v * scale));
    }
    return;
  }
  const size_t step = size_t(h.channels) * (h.depth / 8);  // bytes per pixel
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t* p = row + i * step;
    if (h.depth == 16) {
      if (h.color_type == 0) {  // PIL mode "I": clamped, not the high byte
        uint8_t v = static_cast<uint8_t>(std::min(255, (p[0] << 8) | p[1]));
        put(i, v, v, v);
      } else if (h.color_type == 4) {
        put(i, p[0], p[0], p[0]);
      } else {
        put(i, p[0], p[2], p[4]);
      }
    } else if (h.color_type == 0 || h.color_type == 4) {
      put(i, p[0], p[0], p[0]);
    } else if (h.color_type == 3) {
      put(i, palette[p[0] * 3], palette[p[0] * 3 + 1], palette[p[0] * 3 + 2]);
    } else {
      put(i, p[0], p[1], p[2]);
    }
  }
}

// PIL's palette before PLTE fills it: entry i is (i, i, i).
void grey_ramp(uint8_t* palette) {
  for (int i = 0; i < 256; i++) palette[i * 3] = palette[i * 3 + 1] = palette[i * 3 + 2] = static_cast<uint8_t>(i);
}

}  // namespace

ImageRGB8 decode_png(const uint8_t* data, size_t size) {
  if (size < 8 || std::memcmp(data, kSignature, 8) != 0) fail("png: not a PNG file (bad signature)");
  Header h;
  bool have_header = false;
  uint8_t palette[256 * 3];
  grey_ramp(palette);

  // Walk the chunks up to the end of the first run of IDAT chunks.
  std::vector<uint8_t> idat;
  bool in_idat = false;
  uint32_t fctl_seen = 0;  // APNG frame-control chunks before IDAT (sequence numbers start at 0)
  size_t pos = 8;
  for (;;) {
    if (size - pos < 8) {
      if (in_idat) break;  // the file ends inside the image data: decode what is there
      fail("png: truncated file (no image data)");
    }
    uint32_t length = be32(data + pos);
    const uint8_t* type = data + pos + 4;
    std::string name(reinterpret_cast<const char*>(type), 4);
    for (char c : name)
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
        fail("png: broken chunk structure (invalid chunk type)");
    if (length > 0x7FFFFFFFu) fail("png: chunk " + name + " has an invalid length");
    const uint8_t* body = data + pos + 8;
    size_t avail = size - pos - 8;
    bool is_idat = name == "IDAT";
    if (in_idat && !is_idat) break;  // the image data ends at the first other chunk
    if (is_idat) {
      if (!have_header) fail("png: IDAT before IHDR");
      in_idat = true;
      size_t take = std::min<size_t>(length, avail);
      idat.insert(idat.end(), body, body + take);
      if (take < length || avail - take < 4) break;  // truncated: decode what is there
      pos += size_t{length} + 12;
      continue;
    }
    if (avail < size_t{length} + 4) fail("png: truncated chunk " + name);
    if (crc32(crc32(0, type, 4), body, length) != be32(body + length)) fail("png: bad CRC in chunk " + name);
    if (!have_header && name != "IHDR") fail("png: first chunk is " + name + ", not IHDR");
    if (name == "IHDR") {
      if (have_header) fail("png: more than one IHDR chunk");
      if (length < 13) fail("png: IHDR chunk too short");
      h = parse_ihdr(body);
      have_header = true;
    } else if (name == "PLTE" && h.color_type == 3) {
      if (length / 3 > 256) fail("png: PLTE has more than 256 entries");
      grey_ramp(palette);  // a second PLTE replaces the first entirely, as in PIL
      std::memcpy(palette, body, length / 3 * 3);
    } else if (name == "tRNS") {
      if ((h.color_type == 0 && length < 2) || (h.color_type == 2 && length < 6)) fail("png: tRNS chunk too short");
    } else if (name == "acTL") {
      if (length < 8) fail("png: truncated acTL chunk");
    } else if (name == "fcTL") {  // APNG: a frame control before IDAT makes IDAT frame 0
      if (length < 26) fail("png: truncated fcTL chunk");
      if (be32(body) != fctl_seen) fail("png: APNG frame sequence error");
      fctl_seen++;
      uint64_t fw = be32(body + 4), fh = be32(body + 8), fx = be32(body + 12), fy = be32(body + 16);
      if (fx + fw > h.width || fy + fh > h.height) fail("png: APNG frame outside the image");
      if (fx != 0 || fy != 0 || fw != h.width || fh != h.height)
        fail("png: APNG first frame smaller than the image is not supported");
    } else if (name == "IEND") {
      fail("png: no image data (IEND before IDAT)");
    }
    pos += size_t{length} + 12;
  }

  // The size of the filtered image data: per pass, rows of (1 filter byte + samples).
  const Pass* passes = h.interlaced ? kAdam7 : &kWhole;
  const int npass = h.interlaced ? 7 : 1;
  size_t raw_size = 0;
  for (int p = 0; p < npass; p++) {
    uint32_t pw = pass_extent(h.width, passes[p].x0, passes[p].dx), ph = pass_extent(h.height, passes[p].y0, passes[p].dy);
    if (pw == 0 || ph == 0) continue;
    raw_size = checked_add(raw_size, checked_mul(ph, checked_add(row_bytes(h, pw), 1, "png row"), "png data"), "png data");
  }
  std::vector<uint8_t> raw;
  try {
    raw = zlib_decompress_prefix(idat.data(), idat.size(), raw_size);
  } catch (const Error& e) {
    fail(std::string("png: image data: ") + e.what());
  }

  ImageRGB8 img;
  img.width = static_cast<int>(h.width);
  img.height = static_cast<int>(h.height);
  img.pixels.resize(size_t{h.width} * h.height * 3);
  const size_t bpp = std::max<size_t>(1, size_t(h.channels) * h.depth / 8);
  uint8_t* r = raw.data();
  for (int p = 0; p < npass; p++) {
    const Pass& ps = passes[p];
    uint32_t pw = pass_extent(h.width, ps.x0, ps.dx), ph = pass_extent(h.height, ps.y0, ps.dy);
    if (pw == 0 || ph == 0) continue;
    size_t n = row_bytes(h, pw);
    std::vector<uint8_t> zeros(n, 0);
    const uint8_t* prior = zeros.data();
    for (uint32_t y = 0; y < ph; y++) {
      uint8_t* row = r + 1;
      unfilter_row(row, prior, n, bpp, r[0]);
      uint8_t* out = img.pixels.data() + size_t{ps.y0 + y * ps.dy} * h.width * 3;
      row_to_rgb(out, row, pw, ps.x0, ps.dx, h, palette);
      prior = row;
      r += n + 1;
    }
  }
  return img;
}

}  // namespace tgv
