// Fuzz target: the JSON reader (src/core/json.cpp) that every header, config and
// vocabulary goes through, and the UTF-8 helpers it shares with the tokenizer.
// Any input must parse or throw tgv::Error; what parses must survive its own dump:
//   parse(dump(parse(x))) dumps to the same text (dump is a fixed point after one round),
//   every string it holds is valid UTF-8, and utf8_valid agrees with utf8_decode.
// and any valid UTF-8 text, quoted with json_quote, reads back as itself.
// A broken invariant traps (libFuzzer reports it as a crash).
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_json -dict=tests/fuzz/json.dict tests/fuzz/corpus/json
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tinygptv/error.h"
#include "tinygptv/json.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Walks the value the way the loaders do: typed accessors on every member, find/at
// on objects. Strings must be valid UTF-8 (the reader's contract).
void walk(const tgv::Json& j) {
  switch (j.type()) {
    case tgv::Json::Type::String: check(tgv::utf8_valid(j.as_string())); break;
    case tgv::Json::Type::Number:
      if (j.is_integer()) check(static_cast<double>(j.as_int()) == j.as_number());
      break;
    case tgv::Json::Type::Array:
      for (const tgv::Json& v : j.as_array()) walk(v);
      break;
    case tgv::Json::Type::Object:
      for (const auto& [k, v] : j.as_object()) {
        check(tgv::utf8_valid(k));
        check(j.find(k) != nullptr);
        walk(v);
      }
      break;
    default: break;
  }
}

// utf8_valid(s) must be exactly "utf8_decode steps through s" and re-encoding what
// it decodes gives the same bytes.
void utf8_agrees(std::string_view s) {
  std::string again;
  bool valid = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const int n = tgv::utf8_decode(s, i, &cp);
    if (n == 0) { valid = false; break; }
    check(n >= 1 && n <= 4 && i + static_cast<size_t>(n) <= s.size());
    tgv::utf8_append(again, cp);
    i += static_cast<size_t>(n);
  }
  check(valid == tgv::utf8_valid(s));
  if (valid) check(again == s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  utf8_agrees(text);
  if (tgv::utf8_valid(text)) {  // any valid text, quoted, reads back as itself
    try {
      check(tgv::Json::parse(tgv::json_quote(text)).as_string() == text);
    } catch (const tgv::Error&) {
      check(false);
    }
  }
  tgv::Json j;
  try {
    j = tgv::Json::parse(text);
  } catch (const tgv::Error&) {
    return 0;
  }
  walk(j);
  const std::string once = j.dump();
  tgv::Json again;
  try {
    again = tgv::Json::parse(once);
  } catch (const tgv::Error&) {
    check(false);  // our own output must read back
  }
  check(again.size() == j.size());  // (a number too large for a double is written as null)
  check(again.dump() == once);
  return 0;
}
