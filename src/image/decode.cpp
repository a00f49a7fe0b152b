// decode_image / load_image: pick the decoder from the leading bytes, never the
// file name (PIL does the same). See include/tinygptv/image.h.
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tinygptv/error.h"
#include "tinygptv/image.h"

namespace tgv {

ImageRGB8 decode_image(const uint8_t* data, size_t size) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return decode_png(data, size);
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return decode_jpeg(data, size);
  fail("unrecognised image format (not PNG or JPEG)");
}

ImageRGB8 load_image(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail("cannot open image '" + path + "' (not a file)");
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail("cannot read image '" + path + "'");
  if (size > (uintmax_t{1} << 32)) fail("image file '" + path + "' is larger than 4 GiB");
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (!f || !f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    fail("cannot read image '" + path + "'");
  try {
    return decode_image(bytes.data(), bytes.size());
  } catch (const Error& e) {
    fail(path + ": " + e.what());  // the decoder's message, with the file it is about
  }
}

}  // namespace tgv
