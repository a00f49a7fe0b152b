// zlib_compress: a small DEFLATE encoder for the PNG writer (include/tinygptv/inflate.h).
//
// One fixed-Huffman block (RFC 1951 3.2.6) with greedy LZ77 matching: a hash of
// the next 3 bytes remembers the last position they occurred at, and a match is
// taken if it is at least 3 bytes long and at most 32768 bytes back. Simple and
// fast rather than small: no dynamic tables, no lazy matching.
#include <algorithm>
#include <cstring>

#include "compress/deflate_tables.h"
#include "tinygptv/inflate.h"

namespace tgv {

namespace {

using namespace deflate;  // kLenBase, kLenExtra, kDistBase, kDistExtra

class BitWriter {
 public:
  explicit BitWriter(std::vector<uint8_t>& out) : out_(out) {}
  void put(uint32_t bits, int n) {  // LSB-first, n <= 24
    buf_ |= static_cast<uint64_t>(bits) << cnt_;
    cnt_ += n;
    while (cnt_ >= 8) {
      out_.push_back(static_cast<uint8_t>(buf_));
      buf_ >>= 8;
      cnt_ -= 8;
    }
  }
  // Huffman codes are defined MSB-first; DEFLATE packs them starting from the MSB.
  void put_code(uint32_t code, int n) {
    uint32_t r = 0;
    for (int i = 0; i < n; i++, code >>= 1) r = (r << 1) | (code & 1);
    put(r, n);
  }
  void flush() {
    if (cnt_ > 0) out_.push_back(static_cast<uint8_t>(buf_));
    buf_ = 0;
    cnt_ = 0;
  }

 private:
  std::vector<uint8_t>& out_;
  uint64_t buf_ = 0;
  int cnt_ = 0;
};

// Fixed literal/length code of symbol s (0..287).
void put_litlen(BitWriter& w, int s) {
  if (s < 144) w.put_code(0x30 + s, 8);
  else if (s < 256) w.put_code(0x190 + (s - 144), 9);
  else if (s < 280) w.put_code(s - 256, 7);
  else w.put_code(0xC0 + (s - 280), 8);
}


void put_match(BitWriter& w, size_t length, size_t distance) {
  int ls = 28;
  while (kLenBase[ls] > length) ls--;
  put_litlen(w, 257 + ls);
  w.put(static_cast<uint32_t>(length - kLenBase[ls]), kLenExtra[ls]);
  int ds = 29;
  while (kDistBase[ds] > distance) ds--;
  w.put_code(static_cast<uint32_t>(ds), 5);
  w.put(static_cast<uint32_t>(distance - kDistBase[ds]), kDistExtra[ds]);
}

}  // namespace

std::vector<uint8_t> zlib_compress(const uint8_t* data, size_t size) {
  std::vector<uint8_t> out = {0x78, 0x01};  // CM 8, 32K window, fastest; (0x78*256 + 1) % 31 == 0
  BitWriter w(out);
  w.put(1, 1);  // BFINAL
  w.put(1, 2);  // BTYPE 01: fixed Huffman
  constexpr int kHashBits = 15;
  constexpr size_t kWindow = 32768, kMaxMatch = 258;
  std::vector<int64_t> last(size_t{1} << kHashBits, -1);
  auto hash = [&](size_t i) {
    uint32_t v = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16);
    return (v * 2654435761u) >> (32 - kHashBits);
  };
  size_t i = 0;
  while (i < size) {
    size_t best = 0;
    size_t dist = 0;
    if (i + 3 <= size) {
      uint32_t h = hash(i);
      int64_t cand = last[h];
      last[h] = static_cast<int64_t>(i);
      if (cand >= 0 && i - static_cast<size_t>(cand) <= kWindow) {
        size_t c = static_cast<size_t>(cand);
        size_t limit = std::min(kMaxMatch, size - i);
        size_t n = 0;
        while (n < limit && data[c + n] == data[i + n]) n++;
        if (n >= 3) {
          best = n;
          dist = i - c;
        }
      }
    }
    if (best) {
      put_match(w, best, dist);
      for (size_t k = 1; k < best && i + k + 3 <= size; k++) last[hash(i + k)] = static_cast<int64_t>(i + k);
      i += best;
    } else {
      put_litlen(w, data[i]);
      i++;
    }
  }
  put_litlen(w, 256);
  w.flush();
  uint32_t a = adler32(1, data, size);
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(a >> s));
  return out;
}

}  // namespace tgv
