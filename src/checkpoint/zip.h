// The zip container that torch.save (since PyTorch 1.6) writes: read-only, lazy.
//
//   ZipArchive zip(bytes, size, "eva_vit_g.pth");   // parses the central directory only
//   const ZipEntry* e = zip.find("archive/data.pkl");
//   ZipBytes b = zip.read(*e);                        // stored: a view of `bytes`; deflated: inflated
//
// Layout (PKWARE APPNOTE 6.3): local headers + data, then the central directory,
// then the End Of Central Directory record (EOCD, 22 bytes + comment of up to 64 KiB).
// Zip64 (sizes or offsets >= 4 GiB) adds a zip64 EOCD record + locator before the
// EOCD and a 0x0001 "extra field" per entry holding the 8-byte values.
// torch.save writes every entry stored (method 0) and 64-byte aligned; re-packed
// archives may use deflate (method 8). Nothing in the file is trusted: every offset
// and size is checked against the buffer, local headers are re-validated against
// the central directory, and CRC-32 is verified the first time an entry is read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace tgv {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;             // 0 stored, 8 deflated
  uint32_t crc = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;               // uncompressed
  uint64_t data_offset = 0;        // of the (compressed) data, after the local header
};

// The bytes of one entry: a view into the archive (stored) or an owned buffer (deflated).
struct ZipBytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::shared_ptr<std::vector<uint8_t>> owned;  // keeps inflated bytes alive
};

class ZipArchive {
 public:
  // `data` must outlive the archive. `label` names the file in error messages.
  ZipArchive(const uint8_t* data, size_t size, std::string label);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;  // nullptr when absent
  ZipBytes read(const ZipEntry& e) const;                // throws on bad CRC / corrupt deflate
  uint64_t bytes_read() const { return bytes_read_; }    // uncompressed bytes handed out so far

 private:
  void parse_central_directory();

  const uint8_t* data_;
  size_t size_;
  std::string label_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
  mutable std::vector<bool> crc_checked_;
  mutable uint64_t bytes_read_ = 0;
};

}  // namespace tgv
