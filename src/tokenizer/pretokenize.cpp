// See pretokenize.h. How each alternative of the pattern is decided at position i,
// with c the code point there and next the one after it:
//   1. 's 't 're 've 'm 'll 'd   ASCII apostrophe + these lowercase letters
//   2-4. ` ?X+` for X = letter, number, other: if c is U+0020 and next is in X, the
//        space and the longest run of X; else if c is in X, the longest run of X
//        (a space is never "other": ` ?[^\s...]+` cannot start a run with it)
//   5. `\s+(?!\S)`: c is whitespace; the whole run if it reaches the end of the
//        text, else the run minus its last character (the regex backs off one
//        character so that the lookahead sees whitespace), if that is not empty
//   6. `\s+`: otherwise the run, which is then one character
#include "tokenizer/pretokenize.h"

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tokenizer/unicode_classes.h"

namespace tgv {

namespace {

struct Cursor {
  std::string_view s;

  // The code point at byte i (i < s.size()) and its length in bytes.
  uint32_t at(size_t i, size_t* len) const {
    uint8_t b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) { *len = 1; return b; }
    uint32_t cp = 0;
    int n = utf8_decode(s, i, &cp);
    TGV_ASSERT(n > 0, "pretokenize() needs valid UTF-8: validate the text first");
    *len = static_cast<size_t>(n);
    return cp;
  }
  CharClass cls(size_t i, size_t* len) const { return char_class(at(i, len)); }

  // End of the longest run of class k starting at i; *last = start of its last character.
  size_t run_end(size_t i, CharClass k, size_t* last) const {
    size_t len = 0;
    *last = i;
    while (i < s.size() && cls(i, &len) == k) {
      *last = i;
      i += len;
    }
    return i;
  }
};

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
size_t contraction_length(std::string_view s, size_t i) {
  std::string_view rest = s.substr(i);
  for (std::string_view c : {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"})
    if (rest.substr(0, c.size()) == c) return c.size();
  return 0;
}

}  // namespace

void pretokenize(std::vector<std::string_view>& pieces, std::string_view text) {
  const Cursor cur{text};
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t len = 0, last = 0;
    const uint32_t c = cur.at(i, &len);
    size_t end = 0;
    if (c == '\'' && (end = contraction_length(text, i)) != 0) {  // 1
      end += i;
    } else if (char_class(c) != CharClass::Space) {  // 2-4 without the space
      end = cur.run_end(i, char_class(c), &last);
    } else {
      size_t next_len = 0;
      CharClass next = i + len < n ? cur.cls(i + len, &next_len) : CharClass::Space;
      if (c == ' ' && i + len < n && next != CharClass::Space) {  // 2-4 with the space
        end = cur.run_end(i + len, next, &last);
      } else {
        end = cur.run_end(i, CharClass::Space, &last);
        if (end < n && last > i) end = last;  // 5 backs off one character; else 5 or 6 whole
      }
    }
    pieces.push_back(text.substr(i, end - i));
    i = end;
  }
}

}  // namespace tgv
