// The character classes of the GPT-2 pre-tokenizer pattern (model.md section 6):
//   \s    = the 25 Unicode White_Space code points (PropList.txt), not C's isspace
//   \p{L} = general category Lu|Ll|Lt|Lm|Lo, Unicode 15.0
//   \p{N} = general category Nd|Nl|No, Unicode 15.0
// Everything else (marks, punctuation, symbols, controls, unassigned) is Other.
// The letter/number ranges are generated: unicode_tables.cpp, by gen_unicode_tables.py.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tgv {

enum class CharClass : uint8_t { Other, Letter, Number, Space };

struct UnicodeRange {
  uint32_t first, last;  // inclusive
  CharClass cls;
};

extern const UnicodeRange kUnicodeClassRanges[];  // sorted, disjoint (unicode_tables.cpp)
extern const size_t kUnicodeClassRangeCount;

CharClass char_class(uint32_t cp);

}  // namespace tgv
