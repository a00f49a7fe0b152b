// Decoding: random ids (vocabulary and added tokens) against the bytes the
// reference rank table gives (tests/data/tokenizer/decode_cases.json), ids out of
// range, and the streaming decoder that never cuts a UTF-8 character.
#include <doctest/doctest.h>

#include "tinygptv/error.h"
#include "tokenizer_fixture.h"

using tgv_test::gpt2;
using tgv_test::id_of;

namespace {

std::string from_hex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

std::string stream_all(const std::vector<int>& ids, std::vector<std::string>* chunks = nullptr) {
  tgv::StreamDecoder dec(gpt2());
  std::string out;
  for (int id : ids) {
    std::string c = dec.push(id);
    if (chunks) chunks->push_back(c);
    out += c;
  }
  std::string rest = dec.finish();
  if (chunks) chunks->push_back(rest);
  return out + rest;
}

}  // namespace

TEST_CASE("decode matches the reference bytes, streaming gives the same bytes") {
  const tgv::Json doc = tgv::Json::parse(tgv_test::read_file(tgv_test::data_path("decode_cases.json")));
  const auto& cases = doc.at("cases").as_array();
  REQUIRE(cases.size() >= 20);
  for (const auto& c : cases) {
    const std::vector<int> ids = tgv_test::int_list(c.at("ids"));
    const std::string want = from_hex(c.at("hex").as_string());
    CHECK(gpt2().decode(ids) == want);
    CHECK(stream_all(ids) == want);
  }
}

TEST_CASE("decode is the exact inverse: no spaces added, no clean-up") {
  CHECK(gpt2().decode(std::vector<int>{id_of("Hello"), id_of(" ."), 50256, id_of(" world")}) == "Hello .<|endoftext|> world");
  CHECK(gpt2().decode(std::vector<int>{50257, 50294}) == std::string(31, ' ') + "\t\t");
  CHECK(gpt2().decode(std::vector<int>{}).empty());
}

TEST_CASE("ids out of range are a one-line error") {
  for (int bad : {-1, 50295, 1 << 30, INT32_MIN}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(gpt2().decode(std::vector<int>{15496, bad}), tgv::Error);
    CHECK_THROWS_AS(gpt2().token_bytes(bad), tgv::Error);
    tgv::StreamDecoder dec(gpt2());
    CHECK_THROWS_AS(dec.push(bad), tgv::Error);
  }
}

TEST_CASE("the streaming decoder holds back an incomplete UTF-8 sequence") {
  // U+1F600 (4 bytes) as four one-byte tokens: nothing is printed until the last one.
  const std::string smile = "\xf0\x9f\x98\x80";
  std::vector<int> ids;
  for (char b : smile) ids.push_back(id_of(std::string(1, b)));
  ids.push_back(id_of("!"));
  std::vector<std::string> chunks;
  CHECK(stream_all(ids, &chunks) == smile + "!");
  REQUIRE(chunks.size() == 6);
  CHECK(chunks[0].empty());
  CHECK(chunks[1].empty());
  CHECK(chunks[2].empty());
  CHECK(chunks[3] == smile);
  CHECK(chunks[4] == "!");
  CHECK(chunks[5].empty());

  // Text before an incomplete character is printed at once: "a" + first byte of "é".
  tgv::StreamDecoder dec(gpt2());
  CHECK(dec.push(id_of("a")) == "a");
  CHECK(dec.push(id_of("\xc3")) == "");
  CHECK(dec.push(id_of("\xa9")) == "\xc3\xa9");

  // Bytes that can never be valid are passed through, not held forever.
  tgv::StreamDecoder d2(gpt2());
  CHECK(d2.push(id_of("\xff")) == "\xff");
  CHECK(d2.push(id_of("\x80")) == "\x80");                 // a stray continuation byte
  CHECK(d2.push(id_of("\xe0")) == "");                     // could start U+0800..U+0FFF
  CHECK(d2.push(id_of("\x80")) == "\xe0\x80");             // E0 80 is overlong: given up
  CHECK(d2.push(id_of("\xed")) == "");
  CHECK(d2.push(id_of("\xa0")) == "\xed\xa0");             // a surrogate: given up
  CHECK(d2.push(id_of("\xf4")) == "");
  CHECK(d2.push(id_of("\x90")) == "\xf4\x90");             // above U+10FFFF: given up
  CHECK(d2.push(id_of("\xc3")) == "");
  CHECK(d2.finish() == "\xc3");                            // what is left at the end
  CHECK(d2.finish().empty());
}

TEST_CASE("streaming the fixture strings gives back the text, never splitting a character") {
  const tgv::Json doc = tgv::Json::parse(tgv_test::read_file(tgv_test::data_path("cases.json")));
  for (const auto& c : doc.at("cases").as_array()) {
    const std::string& text = c.at("text").as_string();
    std::vector<std::string> chunks;
    CHECK(stream_all(gpt2().encode(text), &chunks) == text);
    for (const auto& ch : chunks) CHECK(tgv::utf8_valid(ch));
  }
}
