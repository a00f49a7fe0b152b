// The pieces of the hand-written GPT-2 pattern, derived by hand from the regex
// (model.md section 6), with the cases where JavaScript's or C's classes would
// differ; and the generated Unicode 15.0 table against a second source of the
// UCD (tests/data/tokenizer/unicode15_classes.txt, from the npm package
// @unicode/unicode-15.0.0; the table itself comes from Debian's UnicodeData.txt).
#include <doctest/doctest.h>

#include <sstream>

#include "tokenizer/byte_unicode.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode_classes.h"
#include "tokenizer_fixture.h"

namespace {

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string_view> v;
  tgv::pretokenize(v, text);
  return std::vector<std::string>(v.begin(), v.end());
}

using P = std::vector<std::string>;

}  // namespace

TEST_CASE("pre-tokenizer: contractions, optional space, classes") {
  CHECK(pieces("Hello world") == P{"Hello", " world"});
  CHECK(pieces("it's we'll I'M") == P{"it", "'s", " we", "'ll", " I", "'", "M"});  // lowercase only
  CHECK(pieces("it\xe2\x80\x99s") == P{"it", "\xe2\x80\x99", "s"});                  // U+2019 is not '
  CHECK(pieces("'s's") == P{"'s", "'s"});
  CHECK(pieces(" 's") == P{" '", "s"});          // a space then "other": ` ?[^\s\p{L}\p{N}]+`
  CHECK(pieces("abc123def") == P{"abc", "123", "def"});
  CHECK(pieces(" 42 x") == P{" 42", " x"});
  CHECK(pieces("a, b!?") == P{"a", ",", " b", "!?"});
  CHECK(pieces("x\xc2\xb2") == P{"x", "\xc2\xb2"});    // U+00B2 superscript two is No: a number
  CHECK(pieces("\xe2\x85\xab" "a") == P{"\xe2\x85\xab", "a"});  // U+216B ROMAN NUMERAL TWELVE is Nl
  CHECK(pieces("cafe\xcc\x81") == P{"cafe", "\xcc\x81"});  // U+0301 is Mn: neither letter nor number
  CHECK(pieces("").empty());
}

TEST_CASE("pre-tokenizer: whitespace runs back off one character before non-space") {
  CHECK(pieces("a  b") == P{"a", " ", " b"});
  CHECK(pieces("a   ") == P{"a", "   "});          // at the end the whole run
  CHECK(pieces("a \n") == P{"a", " \n"});
  CHECK(pieces("a\nb") == P{"a", "\n", "b"});      // one whitespace char before a letter: `\s+`
  CHECK(pieces("a\n\n b") == P{"a", "\n\n", " b"});
  CHECK(pieces("a \n\nb") == P{"a", " \n", "\n", "b"});
  CHECK(pieces(" ") == P{" "});
  CHECK(pieces("\t\tx") == P{"\t", "\t", "x"});
}

TEST_CASE("pre-tokenizer: \\s is exactly Unicode White_Space") {
  // U+0085 NEL is White_Space (JavaScript's \s lacks it).
  CHECK(pieces("a\xc2\x85" "b") == P{"a", "\xc2\x85", "b"});
  CHECK(pieces("a\xc2\x85") == P{"a", "\xc2\x85"});
  CHECK(pieces("a \xc2\x85" "b") == P{"a", " ", "\xc2\x85", "b"});
  // U+FEFF is Cf, not White_Space (JavaScript's \s has it): it is "other".
  CHECK(pieces("a\xef\xbb\xbf" "b") == P{"a", "\xef\xbb\xbf", "b"});
  CHECK(pieces("a \xef\xbb\xbf" "b") == P{"a", " \xef\xbb\xbf", "b"});
  // U+00A0 NBSP and U+3000 are White_Space; only U+0020 is the optional leading space.
  CHECK(pieces("a\xc2\xa0" "b") == P{"a", "\xc2\xa0", "b"});
  CHECK(pieces("a\xe3\x80\x80\xe3\x80\x80" "b") == P{"a", "\xe3\x80\x80", "\xe3\x80\x80", "b"});
  // U+2028 LINE SEPARATOR, U+200B ZERO WIDTH SPACE (Cf, not White_Space).
  CHECK(pieces("a\xe2\x80\xa8" "b") == P{"a", "\xe2\x80\xa8", "b"});
  CHECK(pieces("a\xe2\x80\x8b" "b") == P{"a", "\xe2\x80\x8b", "b"});
  // CR LF and VT FF are White_Space; C's isspace would agree here, but not on NEL.
  CHECK(pieces("a\r\nb") == P{"a", "\r", "\n", "b"});
  CHECK(pieces("a\v\fb") == P{"a", "\v", "\f", "b"});
}

TEST_CASE("pre-tokenizer: letters are Unicode 15.0's (later letters are 'other')") {
  // U+2EBF0 (CJK Extension I) is a letter only since Unicode 15.1.
  CHECK(pieces("x\xf0\xae\xaf\xb0y") == P{"x", "\xf0\xae\xaf\xb0", "y"});
  // U+1C89 CYRILLIC CAPITAL LETTER TJE: Unicode 16.0.
  CHECK(pieces("x\xe1\xb2\x89y") == P{"x", "\xe1\xb2\x89", "y"});
  // U+4E2D (CJK) and U+D55C (Hangul) are Lo; U+0661 ARABIC-INDIC ONE is Nd.
  CHECK(pieces("\xe4\xb8\xad\xed\x95\x9c \xd9\xa1") == P{"\xe4\xb8\xad\xed\x95\x9c", " \xd9\xa1"});
}

TEST_CASE("the generated Unicode 15.0 table agrees with @unicode/unicode-15.0.0 everywhere") {
  std::vector<tgv::CharClass> expect(0x110000, tgv::CharClass::Other);
  std::istringstream in(tgv_test::read_file(tgv_test::data_path("unicode15_classes.txt")));
  std::string line;
  size_t n_ranges = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    char kind = 0;
    unsigned first = 0, last = 0;
    REQUIRE(std::sscanf(line.c_str(), "%c %x %x", &kind, &first, &last) == 3);
    REQUIRE(last < 0x110000);
    const tgv::CharClass k = kind == 'L' ? tgv::CharClass::Letter : kind == 'N' ? tgv::CharClass::Number : tgv::CharClass::Space;
    for (unsigned cp = first; cp <= last; cp++) expect[cp] = k;
    n_ranges++;
  }
  CHECK(n_ranges > 700);
  size_t mismatches = 0, spaces = 0;
  for (uint32_t cp = 0; cp < 0x110000; cp++) {
    if (tgv::char_class(cp) != expect[cp] && ++mismatches <= 5) CHECK_MESSAGE(false, "code point " << cp);
    spaces += expect[cp] == tgv::CharClass::Space;
  }
  CHECK(mismatches == 0);
  CHECK(spaces == 25);
}

TEST_CASE("byte alphabet: GPT-2's bytes_to_unicode") {
  CHECK(tgv::byte_to_unicode('!') == '!');
  CHECK(tgv::byte_to_unicode(' ') == 0x120);  // 'Ġ'
  CHECK(tgv::byte_to_unicode('\n') == 0x10A);  // 'Ċ'
  CHECK(tgv::byte_to_unicode(0) == 0x100);
  CHECK(tgv::byte_to_unicode(0xAD) == 0x143);  // the last of the 68 remapped bytes
  CHECK(tgv::byte_to_unicode(0xFF) == 0xFF);
  for (int b = 0; b < 256; b++) CHECK(tgv::unicode_to_byte(tgv::byte_to_unicode(static_cast<uint8_t>(b))) == b);
  CHECK(tgv::unicode_to_byte(' ') == -1);
  CHECK(tgv::unicode_to_byte(0x144) == -1);
  CHECK(tgv::unicode_to_byte(0x4E2D) == -1);
}
