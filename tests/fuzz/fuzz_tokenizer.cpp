// Fuzz target for the tokenizer. The first byte picks what the rest is:
//   0  text for the GPT-2 tokenizer: valid UTF-8 must round-trip exactly
//      (decode(encode(s)) == s, streamed too); anything else must be refused
//   1  a vocab.json (with a two-line merges.txt)
//   2  a merges.txt (with a small vocabulary)
//   3  an added_tokens.json (with the small vocabulary)
//   4  token ids (2 bytes each, little-endian) to decode and stream-decode
// tgv::Error is the expected refusal; a broken invariant traps.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/tokenizer.h"
#include "tokenizer/byte_unicode.h"

namespace {

// The GPT-2 tokenizer from weights/tokenizer/ (found like the CLI does), or a small
// one if it is not there.
const tgv::Tokenizer& tokenizer();

std::string small_vocab() {
  std::string v = "{";
  for (int b = 0; b < 256; b++) {
    std::string k;
    tgv::utf8_append(k, tgv::byte_to_unicode(static_cast<uint8_t>(b)));
    v += tgv::json_quote(k) + ":" + std::to_string(b) + ",";
  }
  return v + "\"ab\":256,\"abc\":257,\"<|endoftext|>\":258}";
}
const char* kSmallMerges = "#version: 0.2\na b\nab c\n";

const tgv::Tokenizer& tokenizer() {
  static const tgv::Tokenizer tok = [] {
    try {
      return tgv::Tokenizer::load(tgv::default_tokenizer_dir());
    } catch (const tgv::Error&) {
      return tgv::Tokenizer::from_files(small_vocab(), kSmallMerges);
    }
  }();
  return tok;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void round_trip(const tgv::Tokenizer& tok, const std::string& text) {
  const bool valid = tgv::utf8_valid(text);
  std::vector<int> ids;
  try {
    ids = tok.encode(text);
  } catch (const tgv::Error&) {
    check(!valid);
    return;
  }
  check(valid);
  check(tok.decode(ids) == text);
  tgv::StreamDecoder dec(tok);
  std::string streamed;
  for (int id : ids) streamed += dec.push(id);
  check(streamed + dec.finish() == text);
}

}  // namespace

// libFuzzer calls this once before the first input: loading the 50,295-token
// tokenizer under the sanitizers takes seconds, which must not count against the
// per-input timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 5) {
      case 0:
        round_trip(tokenizer(), rest);
        break;
      case 1:
        round_trip(tgv::Tokenizer::from_files(rest, "a b\n"), "abc ab  a\tb");
        break;
      case 2:
        round_trip(tgv::Tokenizer::from_files(small_vocab(), rest), "abc ab  a\tb<|endoftext|>");
        break;
      case 3:
        round_trip(tgv::Tokenizer::from_files(small_vocab(), kSmallMerges, rest), "abc ab  a\tb<|endoftext|>");
        break;
      case 4: {
        std::vector<int> ids;
        for (size_t i = 0; i + 1 < rest.size(); i += 2)
          ids.push_back(static_cast<uint8_t>(rest[i]) | static_cast<uint8_t>(rest[i + 1]) << 8);
        const tgv::Tokenizer& tok = tokenizer();
        std::string all;
        try {
          all = tok.decode(ids);
        } catch (const tgv::Error&) {  // only an id out of range may be refused
          bool out_of_range = false;
          for (int id : ids) out_of_range |= id >= tok.size();
          check(out_of_range);
          return 0;
        }
        tgv::StreamDecoder dec(tok);
        std::string streamed;
        for (int id : ids) streamed += dec.push(id);
        check(streamed + dec.finish() == all);
        break;
      }
    }
  } catch (const tgv::Error&) {
  }
  return 0;
}
