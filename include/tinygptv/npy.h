// NumPy .npy files (format version 1.0/2.0): the dump format of every activation
// (float32, little-endian, C order) and the pixel input of `dump --image x.npy`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tgv {

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);    // '<f4'
void write_npy(const std::string& path, const uint8_t* data, const std::vector<int64_t>& shape);  // '|u1'

struct NpyArray {
  std::string dtype;            // "<f4", "|u1", ... as in the header's 'descr'
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;   // raw data, C order
  std::vector<float> to_f32() const;  // for "<f4" (and "<f8", "|u1"); throws otherwise
};

// Reads a .npy file: bounds-checked header parse, C order only, size checked
// against the file. Throws tgv::Error on anything malformed.
NpyArray read_npy(const std::string& path);
NpyArray parse_npy(const uint8_t* data, size_t size);

}  // namespace tgv
