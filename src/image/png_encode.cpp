// encode_png: RGB8 -> a minimal valid PNG (see include/tinygptv/image.h).
//   signature | IHDR (8-bit RGB, no interlace) | one IDAT | IEND
// Every row gets filter type 0 ("none"); the zlib stream is zlib_compress's
// fixed-Huffman block. Meant for annotated output images, not for small files.
#include <cstring>

#include "tinygptv/error.h"
#include "tinygptv/image.h"
#include "tinygptv/inflate.h"

namespace tgv {

namespace {

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

void put_chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& body) {
  put_be32(out, static_cast<uint32_t>(body.size()));
  size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), body.begin(), body.end());
  put_be32(out, crc32(0, out.data() + start, out.size() - start));  // CRC over type + data
}

}  // namespace

std::vector<uint8_t> encode_png(const ImageRGB8& img) {
  TGV_ASSERT(img.width > 0 && img.height > 0 && img.pixels.size() == size_t(img.width) * img.height * 3,
             "encode_png: bad image");
  const size_t stride = size_t(img.width) * 3;
  std::vector<uint8_t> raw;  // [height, 1 + stride]: filter byte 0, then the row
  raw.reserve(img.height * (stride + 1));
  for (int y = 0; y < img.height; y++) {
    raw.push_back(0);
    raw.insert(raw.end(), img.pixels.begin() + y * stride, img.pixels.begin() + (y + 1) * stride);
  }
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, static_cast<uint32_t>(img.width));
  put_be32(ihdr, static_cast<uint32_t>(img.height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", zlib_compress(raw.data(), raw.size()));
  put_chunk(out, "IEND", {});
  return out;
}

}  // namespace tgv
