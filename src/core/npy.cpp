// .npy reader/writer: see include/tinygptv/npy.h. Header layout:
//   "\x93NUMPY" major minor  header_len (u16 for v1, u32 for v2)  "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"
// padded with spaces and a final '\n' so the data starts at a multiple of 64.
#include "tinygptv/npy.h"

#include <cstdio>
#include <cstring>
#include <memory>

#include "tinygptv/byte_order.h"
#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"

namespace tgv {

namespace {

void write_npy_bytes(const std::string& path, const char* descr, const void* data, size_t elem_size,
                     const std::vector<int64_t>& shape) {
  std::string dims;
  size_t count = 1;
  for (int64_t d : shape) {
    TGV_ASSERT(d >= 0, "negative dimension in write_npy");
    dims += std::to_string(d) + ", ";
    count = checked_mul(count, static_cast<size_t>(d), "npy");
  }
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // "(3, 4)" but "(3,)"
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) fail("cannot write " + path);
  size_t nbytes = checked_mul(count, elem_size, "npy");
  if (std::fwrite(out.data(), 1, out.size(), f.get()) != out.size() ||
      (nbytes && std::fwrite(data, 1, nbytes, f.get()) != nbytes))
    fail("write failed: " + path);
}

}  // namespace

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  static_assert(sizeof(float) == 4);
  if (kLittleEndianHost) return write_npy_bytes(path, "<f4", data, 4, shape);
  size_t count = 1;
  for (int64_t d : shape) count = checked_mul(count, static_cast<size_t>(d), "npy");
  std::vector<uint8_t> le(checked_mul(count, 4, "npy"));  // '<f4' is little-endian whatever the host
  for (size_t i = 0; i < count; i++) store_le_f32(le.data() + 4 * i, data[i]);
  write_npy_bytes(path, "<f4", le.data(), 4, shape);
}

void write_npy(const std::string& path, const uint8_t* data, const std::vector<int64_t>& shape) {
  write_npy_bytes(path, "|u1", data, 1, shape);
}

NpyArray parse_npy(const uint8_t* data, size_t size) {
  if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0) fail("npy: not a .npy file (bad magic)");
  const int major = data[6];
  size_t header_len, offset;
  if (major == 1) {
    header_len = load_le16(data + 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) fail("npy: truncated header");
    header_len = load_le32(data + 8);
    offset = 12;
  } else {
    fail("npy: unsupported format version " + std::to_string(major));
  }
  if (header_len > size - offset) fail("npy: header longer than the file");
  std::string h(reinterpret_cast<const char*>(data + offset), header_len);

  auto field = [&](const char* key) -> size_t {
    size_t p = h.find(key);
    if (p == std::string::npos) fail(std::string("npy: header has no ") + key);
    p = h.find(':', p);
    if (p == std::string::npos) fail("npy: malformed header");
    p++;
    while (p < h.size() && h[p] == ' ') p++;
    return p;
  };
  NpyArray a;
  size_t p = field("'descr'");
  if (p >= h.size() || h[p] != '\'') fail("npy: malformed descr");
  size_t e = h.find('\'', p + 1);
  if (e == std::string::npos) fail("npy: malformed descr");
  a.dtype = h.substr(p + 1, e - p - 1);
  p = field("'fortran_order'");
  if (h.compare(p, 5, "False") != 0) fail("npy: Fortran-order arrays are not supported");
  p = field("'shape'");
  if (p >= h.size() || h[p] != '(') fail("npy: malformed shape");
  e = h.find(')', p);
  if (e == std::string::npos) fail("npy: malformed shape");
  size_t count = 1;
  for (size_t i = p + 1; i < e;) {
    while (i < e && (h[i] == ' ' || h[i] == ',')) i++;
    if (i >= e) break;
    int64_t d = 0;
    size_t digits = 0;
    while (i < e && h[i] >= '0' && h[i] <= '9') {
      if (d > (int64_t{1} << 40)) fail("npy: dimension too large");
      d = d * 10 + (h[i] - '0');
      i++;
      digits++;
    }
    if (digits == 0) fail("npy: malformed shape");
    if (i < e && h[i] == 'L') i++;
    a.shape.push_back(d);
    count = checked_mul(count, static_cast<size_t>(d), "npy shape");
    if (a.shape.size() > 16) fail("npy: too many dimensions");
  }
  size_t elem;
  if (a.dtype == "<f4" || a.dtype == "<i4" || a.dtype == "<u4") elem = 4;
  else if (a.dtype == "<f8" || a.dtype == "<i8") elem = 8;
  else if (a.dtype == "|u1" || a.dtype == "|i1" || a.dtype == "|b1") elem = 1;
  else if (a.dtype == "<f2" || a.dtype == "<u2") elem = 2;
  else fail("npy: unsupported dtype '" + a.dtype + "'");
  size_t nbytes = checked_mul(count, elem, "npy data");
  if (nbytes != size - offset - header_len) fail("npy: data size does not match the shape");
  a.bytes.assign(data + offset + header_len, data + size);
  return a;
}

NpyArray read_npy(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  try {
    return parse_npy(bytes.data(), bytes.size());
  } catch (const Error& e) {
    fail(path + ": " + e.what());
  }
}

std::vector<float> NpyArray::to_f32() const {
  std::vector<float> out;
  if (dtype == "<f4") {
    out.resize(bytes.size() / 4);
    for (size_t i = 0; i < out.size(); i++) out[i] = load_le_f32(bytes.data() + 4 * i);
  } else if (dtype == "<f8") {
    out.resize(bytes.size() / 8);
    for (size_t i = 0; i < out.size(); i++) out[i] = static_cast<float>(load_le_f64(bytes.data() + 8 * i));
  } else if (dtype == "|u1") {
    out.assign(bytes.begin(), bytes.end());
  } else {
    fail("npy: cannot read dtype '" + dtype + "' as float32");
  }
  return out;
}

}  // namespace tgv
