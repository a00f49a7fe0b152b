// Zip reading for PyTorch checkpoints: see zip.h for the layout and the contract.
#include "checkpoint/zip.h"

#include <algorithm>
#include <cstring>

#include "tinygptv/byte_order.h"
#include "tinygptv/error.h"
#include "tinygptv/inflate.h"

namespace tgv {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr size_t kEocdSize = 22, kCentralSize = 46, kLocalSize = 30;
constexpr size_t kLocatorSize = 20, kZip64EocdSize = 56;
constexpr uint64_t kMaxDeflateRatio = 1032;  // DEFLATE cannot expand 1 byte into more than ~1032


}  // namespace

ZipArchive::ZipArchive(const uint8_t* data, size_t size, std::string label)
    : data_(data), size_(size), label_(std::move(label)) {
  parse_central_directory();
  crc_checked_.assign(entries_.size(), false);
}

void ZipArchive::parse_central_directory() {
  const std::string where = label_ + ": zip: ";
  if (size_ < kEocdSize) fail(where + "file too short to be a zip archive (" + std::to_string(size_) + " bytes)");
  // 1. The EOCD: the last record with its signature whose comment fits the file.
  size_t eocd = SIZE_MAX;
  const size_t lowest = size_ - kEocdSize > 65535 ? size_ - kEocdSize - 65535 : 0;
  for (size_t p = size_ - kEocdSize + 1; p-- > lowest;) {
    if (load_le32(data_ + p) == kEocdSig && p + kEocdSize + load_le16(data_ + p + 20) <= size_) { eocd = p; break; }
  }
  if (eocd == SIZE_MAX) fail(where + "no end-of-central-directory record (not a zip file, or truncated)");
  const uint8_t* e = data_ + eocd;
  if (load_le16(e + 4) != 0 || load_le16(e + 6) != 0) fail(where + "multi-disk archives are not supported");
  uint64_t count = load_le16(e + 10), cd_size = load_le32(e + 12), cd_offset = load_le32(e + 16);

  // 2. Zip64: a locator right before the EOCD points at the zip64 EOCD record.
  if (eocd >= kLocatorSize && load_le32(data_ + eocd - kLocatorSize) == kZip64LocatorSig) {
    const uint64_t rec = load_le64(data_ + eocd - kLocatorSize + 8);
    if (rec > size_ || size_ - rec < kZip64EocdSize || load_le32(data_ + rec) != kZip64EocdSig)
      fail(where + "zip64 locator points at no zip64 end-of-central-directory record");
    const uint8_t* z = data_ + rec;
    count = load_le64(z + 32);
    cd_size = load_le64(z + 40);
    cd_offset = load_le64(z + 48);
  } else if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    fail(where + "sizes need zip64 but the zip64 locator is missing (truncated file?)");
  }
  if (cd_offset > size_ || cd_size > size_ - cd_offset) fail(where + "central directory lies outside the file (truncated?)");
  if (count > cd_size / kCentralSize) fail(where + "central directory claims " + std::to_string(count) + " entries in " + std::to_string(cd_size) + " bytes");

  // 3. The central directory entries, each re-checked against its local header.
  const uint8_t* p = data_ + cd_offset;
  const uint8_t* end = p + cd_size;
  entries_.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; i++) {
    if (end - p < static_cast<ptrdiff_t>(kCentralSize) || load_le32(p) != kCentralSig) fail(where + "bad central directory entry " + std::to_string(i));
    const uint16_t flags = load_le16(p + 8);
    ZipEntry ent;
    ent.method = load_le16(p + 10);
    ent.crc = load_le32(p + 16);
    ent.compressed_size = load_le32(p + 20);
    ent.size = load_le32(p + 24);
    const size_t name_len = load_le16(p + 28), extra_len = load_le16(p + 30), comment_len = load_le16(p + 32);
    uint64_t local = load_le32(p + 42);
    if (static_cast<size_t>(end - p) < kCentralSize + name_len + extra_len + comment_len) fail(where + "central directory entry " + std::to_string(i) + " runs past its end");
    ent.name.assign(reinterpret_cast<const char*>(p + kCentralSize), name_len);
    // Zip64 extra field: 8-byte values for exactly the fields that hold 0xFFFFFFFF.
    const uint8_t* x = p + kCentralSize + name_len;
    const uint8_t* xend = x + extra_len;
    while (xend - x >= 4) {
      const uint16_t id = load_le16(x), len = load_le16(x + 2);
      if (xend - x - 4 < len) fail(where + "entry '" + ent.name + "': extra field runs past its end");
      if (id == 0x0001) {
        const uint8_t* v = x + 4;
        const uint8_t* vend = v + len;
        auto take = [&](uint64_t& field) {
          if (field != 0xFFFFFFFF) return;
          if (vend - v < 8) fail(where + "entry '" + ent.name + "': zip64 extra field too short");
          field = load_le64(v);
          v += 8;
        };
        take(ent.size);
        take(ent.compressed_size);
        take(local);
      }
      x += 4 + len;
    }
    p += kCentralSize + name_len + extra_len + comment_len;

    const std::string what = where + "entry '" + ent.name + "': ";
    if (flags & 1) fail(what + "encrypted entries are not supported");
    if (ent.method != 0 && ent.method != 8) fail(what + "compression method " + std::to_string(ent.method) + " is not supported (only stored and deflate)");
    if (ent.method == 0 && ent.compressed_size != ent.size) fail(what + "stored entry with different compressed and uncompressed sizes");
    if (ent.method == 8 && ent.size / kMaxDeflateRatio > ent.compressed_size + 1) fail(what + "uncompressed size " + std::to_string(ent.size) + " is impossible for its compressed size");
    if (local > size_ || size_ - local < kLocalSize || load_le32(data_ + local) != kLocalSig) fail(what + "no local header at offset " + std::to_string(local));
    const uint8_t* l = data_ + local;
    const size_t lname = load_le16(l + 26), lextra = load_le16(l + 28);
    if (load_le16(l + 8) != ent.method) fail(what + "local header disagrees with the central directory about the method");
    if (lname != name_len || size_ - local - kLocalSize < lname || std::memcmp(l + kLocalSize, ent.name.data(), lname) != 0)
      fail(what + "local header names a different file");
    ent.data_offset = local + kLocalSize + lname + lextra;
    if (ent.data_offset > size_ || ent.compressed_size > size_ - ent.data_offset)
      fail(what + std::to_string(ent.compressed_size) + " data bytes at offset " + std::to_string(ent.data_offset) + " run past the end of the file (truncated?)");
    if (index_.count(ent.name)) fail(what + "appears twice");
    index_[ent.name] = entries_.size();
    entries_.push_back(std::move(ent));
  }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

ZipBytes ZipArchive::read(const ZipEntry& e) const {
  const size_t i = static_cast<size_t>(&e - entries_.data());
  TGV_ASSERT(i < entries_.size(), "ZipArchive::read: entry from another archive");
  const std::string what = label_ + ": zip: entry '" + e.name + "': ";
  ZipBytes out;
  if (e.method == 0) {
    out.data = data_ + e.data_offset;
    out.size = static_cast<size_t>(e.size);
  } else {
    size_t used = 0;
    std::vector<uint8_t> bytes;
    try {
      // e.size is 64-bit (zip64): checked, not cut, where size_t is 32-bit
      bytes = inflate_raw(data_ + e.data_offset, static_cast<size_t>(e.compressed_size), checked_size(e.size, "uncompressed size"), &used);
    } catch (const Error& err) {
      fail(what + err.what());
    }
    if (bytes.size() != e.size) fail(what + "inflates to " + std::to_string(bytes.size()) + " bytes, the directory says " + std::to_string(e.size));
    out.owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    out.data = out.owned->data();
    out.size = out.owned->size();
    crc_checked_[i] = false;  // inflated afresh: check again
  }
  if (!crc_checked_[i]) {
    if (crc32(0, out.data, out.size) != e.crc) fail(what + "CRC-32 mismatch (corrupt file)");
    crc_checked_[i] = true;
  }
  bytes_read_ += out.size;
  return out;
}

}  // namespace tgv
