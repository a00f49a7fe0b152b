// DEFLATE decompression (RFC 1951) and the zlib wrapper (RFC 1950).
// See include/tinygptv/inflate.h for the contract.
//
// Bits are read LSB-first from a 64-bit buffer. Huffman codes are decoded with a
// 2^10-entry lookup table indexed by the next 10 (bit-reversed) input bits; the
// rare longer codes (up to 15 bits) fall back to the canonical count/symbol walk
// of RFC 1951 3.2.2. Code-set validity follows zlib: over-subscribed sets are
// errors, incomplete sets too, except a set whose only code has length 1 (and
// the empty set, which fails if it is ever used).
//
// Untrusted input: the bit reader pads past the end with zeros and throws
// `Truncated` as soon as a padded bit is consumed; output never exceeds its cap.
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "compress/deflate_tables.h"
#include "tinygptv/error.h"
#include "tinygptv/inflate.h"

namespace tgv {

namespace {

using namespace deflate;  // kLenBase, kLenExtra, kDistBase, kDistExtra

struct Truncated {};  // input ended inside the stream; turned into tgv::Error by the callers

constexpr int kFastBits = 10;
constexpr int kMaxBits = 15;


uint64_t byteswap64(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 8; i++, v >>= 8) r = (r << 8) | (v & 0xFF);
  return r;
}

class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  void refill() {
    if (cnt_ > 56) return;
    if (pos_ + 8 <= size_) {  // fast path: 8 bytes at once, little-endian
      uint64_t w;
      std::memcpy(&w, data_ + pos_, 8);
      if constexpr (std::endian::native == std::endian::big) w = byteswap64(w);
      buf_ |= w << cnt_;
      pos_ += static_cast<size_t>((63 - cnt_) >> 3);
      cnt_ |= 56;
      return;
    }
    while (cnt_ <= 56) {
      buf_ |= static_cast<uint64_t>(pos_ < size_ ? data_[pos_] : 0) << cnt_;
      pos_++;
      cnt_ += 8;
    }
  }
  uint64_t peek() const { return buf_; }  // after refill(): at least 57 valid-or-padded bits
  void drop(int n) {
    buf_ >>= n;
    cnt_ -= n;
    if (pos_ > size_ && bits_consumed() > size_ * 8) ran_out();
  }
  [[noreturn, gnu::noinline]] static void ran_out() { throw Truncated{}; }
  uint32_t bits(int n) {  // n <= 32
    refill();
    uint32_t v = static_cast<uint32_t>(buf_ & ((uint64_t{1} << n) - 1));
    drop(n);
    return v;
  }
  size_t bits_consumed() const { return pos_ * 8 - static_cast<size_t>(cnt_); }
  size_t bits_left() const { return size_ * 8 > bits_consumed() ? size_ * 8 - bits_consumed() : 0; }

  // Drops the bits up to the next byte boundary and hands back the byte position,
  // so stored blocks and the zlib trailer can be read as whole bytes.
  size_t align_to_byte() {
    drop(cnt_ % 8);
    size_t p = pos_ - static_cast<size_t>(cnt_ / 8);
    buf_ = 0;
    cnt_ = 0;
    pos_ = p;
    return p;
  }
  void skip_bytes(size_t n) { pos_ += n; }  // only after align_to_byte, n already bounds-checked
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  uint64_t buf_ = 0;
  int cnt_ = 0;
};

struct Huffman {
  uint16_t fast[1 << kFastBits];   // next 10 bits -> (symbol << 4) | length; 0: longer code or unused
  uint16_t count[kMaxBits + 1];    // number of codes of each length
  uint16_t symbol[288];            // symbols in canonical-code order
};

uint32_t reverse_bits(uint32_t code, int n) {
  uint32_t r = 0;
  for (int i = 0; i < n; i++, code >>= 1) r = (r << 1) | (code & 1);
  return r;
}

// Builds the decoding table for code lengths `lengths[0..n)`. `code_lengths_set`
// is the code-length alphabet, which zlib never allows to be incomplete.
void build_huffman(Huffman& h, const uint8_t* lengths, int n, bool code_lengths_set) {
  std::memset(&h, 0, sizeof h);
  for (int s = 0; s < n; s++) h.count[lengths[s]]++;
  h.count[0] = 0;
  int max_len = 0, codes = 0;
  int left = 1;
  for (int len = 1; len <= kMaxBits; len++) {
    left = (left << 1) - h.count[len];
    if (left < 0) fail("inflate: over-subscribed Huffman code lengths");
    if (h.count[len]) max_len = len;
    codes += h.count[len];
  }
  if (codes > 0 && left > 0 && (code_lengths_set || max_len != 1)) fail("inflate: incomplete Huffman code lengths");

  uint16_t offset[kMaxBits + 2] = {};
  uint32_t next_code[kMaxBits + 1] = {};
  for (int len = 1, code = 0; len <= kMaxBits; len++) {
    offset[len + 1] = static_cast<uint16_t>(offset[len] + h.count[len]);
    code = (code + h.count[len - 1]) << 1;
    next_code[len] = static_cast<uint32_t>(code);
  }
  for (int s = 0; s < n; s++) {
    int len = lengths[s];
    if (!len) continue;
    h.symbol[offset[len]++] = static_cast<uint16_t>(s);
    uint32_t code = next_code[len]++;
    if (len <= kFastBits) {
      uint16_t entry = static_cast<uint16_t>((s << 4) | len);
      for (uint32_t r = reverse_bits(code, len); r < (1u << kFastBits); r += 1u << len) h.fast[r] = entry;
    }
  }
}

// Codes longer than kFastBits: the canonical walk (RFC 1951 3.2.2), in which the
// codes of one length are consecutive integers. Returns {symbol, length}, or
// length 0 if `bits` starts no code. Out of line (rare), and it does not touch
// the reader, so the hot loop can keep the reader in registers.
struct LongCode {
  int symbol, length;
};
[[gnu::noinline]] LongCode decode_long_symbol(const Huffman& h, uint64_t bits) {
  int code = 0, first = 0, index = 0;
  for (int len = 1; len <= kMaxBits; len++) {
    code |= static_cast<int>((bits >> (len - 1)) & 1);
    int count = h.count[len];
    if (code - count < first) return {h.symbol[index + (code - first)], len};
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return {0, 0};
}

[[noreturn, gnu::noinline]] void bad_code(size_t bits_left) {
  if (bits_left < kMaxBits) throw Truncated{};
  fail("inflate: invalid Huffman code");
}

[[gnu::always_inline]] inline int decode_symbol(BitReader& in, const Huffman& h) {
  in.refill();
  uint64_t bits = in.peek();
  uint16_t e = h.fast[bits & ((1u << kFastBits) - 1)];
  if (e) {
    in.drop(e & 15);
    return e >> 4;
  }
  LongCode c = decode_long_symbol(h, bits);
  if (c.length == 0) bad_code(in.bits_left());
  in.drop(c.length);
  return c.symbol;
}

const Huffman& fixed_litlen() {
  static const Huffman h = [] {
    uint8_t len[288];
    for (int i = 0; i < 288; i++) len[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
    Huffman t;
    build_huffman(t, len, 288, false);
    return t;
  }();
  return h;
}

const Huffman& fixed_dist() {
  static const Huffman h = [] {
    uint8_t len[32];
    std::fill(len, len + 32, uint8_t{5});
    Huffman t;
    build_huffman(t, len, 32, false);
    return t;
  }();
  return h;
}

// Decompresses DEFLATE blocks into `out`.
//  - kCapped: more than `limit` bytes of output is an error (bomb protection).
//  - kPrefix: stop once `limit` bytes exist. Like zlib with a full output buffer,
//    keep reading only what produces no output (end-of-block codes, block headers,
//    the zlib trailer if `zlib_trailer`), checking it; input running out there is fine.
class Inflater {
 public:
  enum Mode { kCapped, kPrefix };
  Inflater(const uint8_t* data, size_t size, size_t limit, Mode mode) : in_(data, size), limit_(limit), mode_(mode) {}

  // Returns true when the final block ended (then `consumed` is the byte count
  // used), false when kPrefix stopped at the limit.
  bool run(std::vector<uint8_t>& out, size_t* consumed) {
    out_ = &out;
    // kPrefix knows the exact size it wants. DEFLATE expands at most ~1032:1, so
    // when the input could hold it, allocate it once instead of doubling (a tiny
    // hostile input still cannot make us allocate much). kCapped grows as it goes.
    if (mode_ == kPrefix && limit_ / 1032 <= in_.bits_left() / 8 + 1) out.resize(limit_);
    bool final_block = false;
    while (!final_block) {
      final_block = in_.bits(1);
      int type = static_cast<int>(in_.bits(2));
      bool stopped = false;
      if (type == 0) stopped = !stored_block();
      else if (type == 1) stopped = !huffman_block(fixed_litlen(), fixed_dist());
      else if (type == 2) stopped = !dynamic_block();
      else fail("inflate: invalid block type 3");
      if (stopped) {
        out.resize(n_);
        return false;
      }
    }
    out.resize(n_);
    if (consumed) *consumed = in_.align_to_byte();
    return true;
  }
  bool at_limit() const { return n_ == limit_; }
  BitReader& input() { return in_; }

 private:
  // Room for k more bytes; false when kPrefix is at its limit.
  bool room(size_t k) {
    if (n_ + k <= out_->size()) return true;
    if (n_ + k > limit_) {
      if (mode_ == kPrefix) return false;
      fail("inflate: output exceeds the limit of " + std::to_string(limit_) + " bytes");
    }
    size_t grow = std::max<size_t>({n_ + k, out_->size() * 2, size_t{1} << 16});
    out_->resize(std::min(grow, limit_));
    return true;
  }

  bool stored_block() {
    size_t p = in_.align_to_byte();
    const uint8_t* d = in_.data();
    if (in_.size() - p < 4) throw Truncated{};
    size_t len = d[p] | (d[p + 1] << 8);
    size_t nlen = d[p + 2] | (d[p + 3] << 8);
    if (len != (~nlen & 0xFFFF)) fail("inflate: stored block length does not match its complement");
    p += 4;
    in_.skip_bytes(4);
    size_t avail = in_.size() - p;
    size_t take = std::min(len, avail);
    if (mode_ == kPrefix && len > 0 && n_ == limit_) return false;
    if (mode_ == kPrefix) take = std::min(take, limit_ - n_);
    room(take);
    if (take) std::memcpy(out_->data() + n_, d + p, take);
    n_ += take;
    in_.skip_bytes(take);
    if (take < len) {
      if (mode_ == kPrefix && n_ == limit_) return false;
      throw Truncated{};
    }
    return true;
  }

  bool dynamic_block() {
    int nlen = static_cast<int>(in_.bits(5)) + 257;
    int ndist = static_cast<int>(in_.bits(5)) + 1;
    int ncode = static_cast<int>(in_.bits(4)) + 4;
    if (nlen > 286 || ndist > 30) fail("inflate: too many length or distance symbols");
    static constexpr uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    uint8_t cl[19] = {};
    for (int i = 0; i < ncode; i++) cl[kOrder[i]] = static_cast<uint8_t>(in_.bits(3));
    build_huffman(code_lengths_, cl, 19, true);

    uint8_t len[286 + 30] = {};
    int total = nlen + ndist;
    for (int i = 0; i < total;) {
      int sym = decode_symbol(in_, code_lengths_);
      if (sym < 16) {
        len[i++] = static_cast<uint8_t>(sym);
        continue;
      }
      int rep = 0;
      uint8_t value = 0;
      if (sym == 16) {
        if (i == 0) fail("inflate: repeated code length with no previous length");
        value = len[i - 1];
        rep = 3 + static_cast<int>(in_.bits(2));
      } else if (sym == 17) {
        rep = 3 + static_cast<int>(in_.bits(3));
      } else {
        rep = 11 + static_cast<int>(in_.bits(7));
      }
      if (i + rep > total) fail("inflate: code lengths run past the end of the table");
      while (rep--) len[i++] = value;
    }
    if (len[256] == 0) fail("inflate: missing end-of-block code");
    build_huffman(litlen_, len, nlen, false);
    build_huffman(dist_, len + nlen, ndist, false);
    return huffman_block(litlen_, dist_);
  }

  bool huffman_block(const Huffman& lit, const Huffman& dist) {
    // The hot loop works on local copies of the reader and the output cursor:
    // byte stores through `o` may alias any memory, which would otherwise force
    // the compiler to reload the members after every byte.
    BitReader in = in_;
    uint8_t* o = out_->data();
    size_t n = n_, cap = out_->size();
    auto sync = [&] {
      in_ = in;
      n_ = n;
    };
    auto grow = [&](size_t k) {  // false when kPrefix is at its limit
      n_ = n;
      bool ok = room(k);
      o = out_->data();
      cap = out_->size();
      return ok;
    };
    try {
      for (;;) {
        int sym = decode_symbol(in, lit);
        if (sym < 256) {
          if (n >= cap && !grow(1)) return sync(), false;
          o[n++] = static_cast<uint8_t>(sym);
          continue;
        }
        if (sym == 256) return sync(), true;
        sym -= 257;
        if (sym >= 29) fail("inflate: invalid literal/length code");
        size_t length = kLenBase[sym] + in.bits(kLenExtra[sym]);
        int dsym = decode_symbol(in, dist);
        if (dsym >= 30) fail("inflate: invalid distance code");
        size_t distance = kDistBase[dsym] + in.bits(kDistExtra[dsym]);
        if (distance > n) fail("inflate: distance too far back");
        bool partial = false;
        if (n + length > cap && !grow(length)) {
          if (n == limit_) return sync(), false;
          length = limit_ - n;  // kPrefix: fill up to the limit, then stop
          partial = true;
          grow(length);
        }
        size_t from = n - distance;
        if (distance >= length) {
          std::memcpy(o + n, o + from, length);
        } else {
          for (size_t k = 0; k < length; k++) o[n + k] = o[from + k];  // overlapping: a repeating pattern
        }
        n += length;
        if (partial) return sync(), false;
      }
    } catch (...) {
      sync();  // callers look at how much output exists when the input ran out
      throw;
    }
  }

  BitReader in_;
  size_t limit_;
  Mode mode_;
  std::vector<uint8_t>* out_ = nullptr;
  size_t n_ = 0;
  Huffman code_lengths_, litlen_, dist_;
};

void check_zlib_header(const uint8_t* data, size_t size) {
  if (size < 2) fail("zlib: truncated header");
  int cmf = data[0], flg = data[1];
  if ((cmf & 15) != 8) fail("zlib: compression method is not DEFLATE");
  if ((cmf >> 4) > 7) fail("zlib: window size too large");
  if ((cmf * 256 + flg) % 31 != 0) fail("zlib: header check failed");
  if (flg & 0x20) fail("zlib: preset dictionary not supported");
}

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, size_t max_out, size_t* consumed) {
  std::vector<uint8_t> out;
  Inflater inf(data, size, max_out, Inflater::kCapped);
  try {
    inf.run(out, consumed);
  } catch (const Truncated&) {
    fail("inflate: truncated data");
  }
  return out;
}

std::vector<uint8_t> zlib_decompress(const uint8_t* data, size_t size, size_t max_out) {
  check_zlib_header(data, size);
  size_t used = 0;
  std::vector<uint8_t> out = inflate_raw(data + 2, size - 2, max_out, &used);
  if (size - 2 - used < 4) fail("zlib: truncated Adler-32 checksum");
  if (read_be32(data + 2 + used) != adler32(1, out.data(), out.size())) fail("zlib: Adler-32 checksum mismatch");
  return out;
}

std::vector<uint8_t> zlib_decompress_prefix(const uint8_t* data, size_t size, size_t want) {
  check_zlib_header(data, size);
  std::vector<uint8_t> out;
  Inflater inf(data + 2, size - 2, want, Inflater::kPrefix);
  bool ended = false;
  size_t used = 0;
  try {
    ended = inf.run(out, &used);
  } catch (const Truncated&) {
    if (!inf.at_limit()) fail("zlib: truncated data");
    return out;  // all wanted bytes exist; zlib would simply wait for more input
  }
  if (!ended) return out;
  if (out.size() < want) fail("zlib: stream ends before the expected " + std::to_string(want) + " bytes");
  if (size - 2 - used >= 4 && read_be32(data + 2 + used) != adler32(1, out.data(), out.size()))
    fail("zlib: Adler-32 checksum mismatch");
  return out;
}

}  // namespace tgv
