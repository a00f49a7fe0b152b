// See unicode_classes.h. ASCII and Latin-1 come from a 256-entry table built once;
// the rest is a binary search over the generated ranges (~800 of them).
#include "tokenizer/unicode_classes.h"

#include <array>

namespace tgv {

namespace {

// PropList.txt (UCD 15.0) White_Space: exactly these 25 code points. The set has
// not changed since Unicode 6.3; gen_unicode_tables.py checks it against the file.
bool is_white_space(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:     // TAB LF VT FF CR
    case 0x20: case 0x85: case 0xA0:                           // SPACE, NEL, NBSP
    case 0x1680:                                               // OGHAM SPACE MARK
    case 0x2000: case 0x2001: case 0x2002: case 0x2003: case 0x2004: case 0x2005:
    case 0x2006: case 0x2007: case 0x2008: case 0x2009: case 0x200A:  // EN QUAD..HAIR SPACE
    case 0x2028: case 0x2029:                                  // LINE/PARAGRAPH SEPARATOR
    case 0x202F: case 0x205F: case 0x3000:                     // NNBSP, MMSP, IDEOGRAPHIC SPACE
      return true;
    default:
      return false;
  }
}

CharClass search_ranges(uint32_t cp) {
  size_t lo = 0, hi = kUnicodeClassRangeCount;  // first range with last >= cp
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (kUnicodeClassRanges[mid].last < cp) lo = mid + 1; else hi = mid;
  }
  if (lo < kUnicodeClassRangeCount && kUnicodeClassRanges[lo].first <= cp) return kUnicodeClassRanges[lo].cls;
  return CharClass::Other;
}

CharClass classify(uint32_t cp) { return is_white_space(cp) ? CharClass::Space : search_ranges(cp); }

}  // namespace

CharClass char_class(uint32_t cp) {
  static const std::array<CharClass, 256> latin1 = [] {
    std::array<CharClass, 256> t{};
    for (uint32_t c = 0; c < 256; c++) t[c] = classify(c);
    return t;
  }();
  return cp < 256 ? latin1[cp] : classify(cp);
}

}  // namespace tgv
