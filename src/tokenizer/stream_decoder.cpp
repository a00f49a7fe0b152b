// StreamDecoder (include/tinygptv/tokenizer.h): prints tokens as they come without
// ever cutting a UTF-8 character in two. One token may end in the middle of a
// character (GPT-2 BPE works on bytes: "é" can be two tokens), so push() holds back
// a trailing *proper prefix of a valid UTF-8 sequence* (1-3 bytes) until the next
// token completes it. Bytes that no continuation can make valid (0xFF, a stray
// continuation byte, 0xE0 0x80 ...) are passed through as they are.
#include "tinygptv/tokenizer.h"

namespace tgv {

namespace {

// Number of trailing bytes of `s` that form an incomplete but still valid UTF-8
// sequence (0 if the end is complete or cannot be completed).
size_t incomplete_tail(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; back++) {
    const uint8_t c = static_cast<uint8_t>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for the lead
    const size_t need = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (need == 0 || back >= need) return 0;
    if (back >= 2) {  // the second byte has a narrower range after some leads
      const uint8_t c1 = static_cast<uint8_t>(s[n - back + 1]);
      const uint8_t lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;   // no overlong forms
      const uint8_t hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;   // no surrogates, <= U+10FFFF
      if (c1 < lo || c1 > hi) return 0;
    }
    return back;
  }
  return 0;
}

}  // namespace

std::string StreamDecoder::push(int id) {
  held_ += tok_.token_bytes(id);
  const size_t keep = incomplete_tail(held_);
  std::string ready = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return ready;
}

std::string StreamDecoder::finish() {
  std::string rest;
  rest.swap(held_);
  return rest;
}

}  // namespace tgv
