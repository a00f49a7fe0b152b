// A real model file (the committed tiny model) cut short at many points must fail to
// open with one line naming the file and, when the cut is in the tensor data, the
// first tensor (in header order) whose bytes are gone: every tensor's byte range is
// checked against the file's size before anything is read. The expected tensor is
// found here from the header itself (read with the JSON reader, not the loader).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/model_file.h"

using namespace tgv;
namespace fs = std::filesystem;

namespace {

const std::string kModel = std::string(TGV_TEST_DATA) + "/models/tiny-pipeline.safetensors";

std::string open_error(const std::string& path) {
  try {
    ModelFile m(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a model file cut short: one line naming the file and the first tensor past the end") {
  const std::vector<uint8_t> bytes = read_file_bytes(kModel);
  REQUIRE(bytes.size() > 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | bytes[static_cast<size_t>(i)];
  const Json header = Json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()) + 8, static_cast<size_t>(n)));
  const size_t data_start = 8 + static_cast<size_t>(n), size = bytes.size();

  const fs::path path = fs::temp_directory_path() / ("tgv_test_truncated_" + std::to_string(::getpid()) + ".safetensors");
  const std::vector<size_t> cuts = {0, 5, 8, data_start / 2, data_start - 1, data_start, data_start + 1, data_start + 1000,
                                    (data_start + size) / 2, size - 4096, size - 1};
  for (const size_t cut : cuts) {
    {
      std::ofstream f(path, std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(cut));
    }
    std::string want;
    if (cut < 8) {
      want = "not a safetensors file (shorter than the 8-byte header length)";
    } else if (cut < data_start) {
      want = "header length " + std::to_string(n) + " is longer than the file";
    } else {
      const uint64_t data_size = cut - data_start;
      for (const auto& [name, info] : header.as_object()) {
        if (name == "__metadata__") continue;
        const auto& off = info.at("data_offsets").as_array();
        if (static_cast<uint64_t>(off[1].as_int()) <= data_size) continue;
        want = "tensor '" + name + "': data_offsets [" + std::to_string(off[0].as_int()) + ", " + std::to_string(off[1].as_int()) +
               ") run past the end of the file (data size " + std::to_string(data_size) + ")";
        break;
      }
    }
    CAPTURE(cut);
    REQUIRE(!want.empty());
    CHECK(open_error(path.string()) == path.string() + ": " + want);
  }
  fs::remove(path);
  CHECK(open_error(kModel).empty());
}
