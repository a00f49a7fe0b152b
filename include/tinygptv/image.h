// Decoded images and the decoders' shared contract.
//
// Every decoder returns 8-bit RGB exactly as PIL's Image.open(f).convert("RGB")
// (model.md section 1), faces untrusted bytes (throws tgv::Error with a one-line
// message; never crashes, hangs or over-allocates) and refuses images larger than
// PIL's decompression-bomb limit before allocating the pixels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tgv {

constexpr uint64_t kMaxImagePixels = 178956970;  // PIL Image.MAX_IMAGE_PIXELS * 2

struct ImageRGB8 {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3], row-major, RGB
};

ImageRGB8 decode_png(const uint8_t* data, size_t size);   // src/image/png.cpp
ImageRGB8 decode_jpeg(const uint8_t* data, size_t size);  // src/jpeg/
// Picks the decoder from the leading bytes (not the file name).
ImageRGB8 decode_image(const uint8_t* data, size_t size);
ImageRGB8 load_image(const std::string& path);            // reads the file, then decode_image

// A valid PNG (8-bit RGB, not interlaced, filter "none", one fixed-Huffman zlib
// stream) that decode_png and PIL read back exactly (src/image/png_encode.cpp).
std::vector<uint8_t> encode_png(const ImageRGB8& img);

}  // namespace tgv
