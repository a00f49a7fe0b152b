// Test helper: a minimal stored (method 0) zip writer, so tests can wrap hand-made
// pickles in the container torch.save uses ("archive/data.pkl", "archive/data/0", ...).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinygptv/inflate.h"

namespace tgv::test {

inline void put16(std::vector<uint8_t>& o, uint32_t v) { o.push_back(v & 0xff); o.push_back((v >> 8) & 0xff); }
inline void put32(std::vector<uint8_t>& o, uint32_t v) { put16(o, v & 0xffff); put16(o, v >> 16); }

inline std::vector<uint8_t> make_zip(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<uint8_t> out, central;
  for (const auto& [name, data] : files) {
    const uint32_t crc = crc32(0, reinterpret_cast<const uint8_t*>(data.data()), data.size());
    const uint32_t offset = static_cast<uint32_t>(out.size());
    put32(out, 0x04034b50); put16(out, 20); put16(out, 0); put16(out, 0); put32(out, 0);
    put32(out, crc); put32(out, static_cast<uint32_t>(data.size())); put32(out, static_cast<uint32_t>(data.size()));
    put16(out, static_cast<uint32_t>(name.size())); put16(out, 0);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), data.begin(), data.end());
    put32(central, 0x02014b50); put16(central, 20); put16(central, 20); put16(central, 0); put16(central, 0); put32(central, 0);
    put32(central, crc); put32(central, static_cast<uint32_t>(data.size())); put32(central, static_cast<uint32_t>(data.size()));
    put16(central, static_cast<uint32_t>(name.size())); put16(central, 0); put16(central, 0); put16(central, 0); put16(central, 0);
    put32(central, 0); put32(central, offset);
    central.insert(central.end(), name.begin(), name.end());
  }
  const uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out.insert(out.end(), central.begin(), central.end());
  put32(out, 0x06054b50); put16(out, 0); put16(out, 0);
  put16(out, static_cast<uint32_t>(files.size())); put16(out, static_cast<uint32_t>(files.size()));
  put32(out, static_cast<uint32_t>(central.size())); put32(out, cd_offset); put16(out, 0);
  return out;
}

// A torch.save-like archive around one pickle (and optional storages "0", "1", ...).
inline std::vector<uint8_t> torch_zip(const std::string& pickle, const std::vector<std::string>& storages = {}) {
  std::vector<std::pair<std::string, std::string>> files = {{"archive/data.pkl", pickle}};
  for (size_t i = 0; i < storages.size(); i++) files.push_back({"archive/data/" + std::to_string(i), storages[i]});
  files.push_back({"archive/version", "3\n"});
  return make_zip(files);
}

}  // namespace tgv::test
