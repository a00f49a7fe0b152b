// Encoding: the committed fixture (ids from js-tiktoken + the added-token rule, see
// tests/reference/tokenizer/make_fixtures.mjs) and rules of model.md section 6
// checked by hand, with expected tokens named by their text and looked up in the
// vocabulary (tokenizer_fixture.h: id_of), never taken from encode() itself.
#include <doctest/doctest.h>

#include <thread>

#include "tinygptv/error.h"
#include "tinygptv/thread_pool.h"
#include "tokenizer_fixture.h"

using tgv_test::gpt2;
using tgv_test::id_of;
using tgv_test::ids_of;

TEST_CASE("the GPT-2 vocabulary and the 38 added tokens have the ids of model.md") {
  const auto& tok = gpt2();
  CHECK(tok.size() == 50295);
  CHECK(tok.merge_count() == 50000);
  CHECK(tok.eos_id() == 50256);
  CHECK(tok.token_bytes(50256) == "<|endoftext|>");
  CHECK(tok.token_bytes(50257) == std::string(31, ' '));
  CHECK(tok.token_bytes(50286) == std::string(2, ' '));
  CHECK(tok.token_bytes(50287) == std::string(9, '\t'));
  CHECK(tok.token_bytes(50294) == std::string(2, '\t'));
  CHECK(tok.token_bytes(0) == "!");
  CHECK(tok.token_bytes(220) == " ");   // byte 0x20 is U+0120 'Ġ' in vocab.json
  CHECK(tok.token_bytes(198) == "\n");  // byte 0x0A is U+010A 'Ċ'
}

TEST_CASE("encode matches the js-tiktoken fixture, and decode(encode(s)) == s") {
  const tgv::Json doc = tgv::Json::parse(tgv_test::read_file(tgv_test::data_path("cases.json")));
  const auto& cases = doc.at("cases").as_array();
  REQUIRE(cases.size() >= 200);
  int checked = 0, long_ones = 0;
  for (const auto& c : cases) {
    const std::string& text = c.at("text").as_string();
    CAPTURE(c.at("kind").as_string());
    CAPTURE(text.substr(0, 120));
    const std::vector<int> ids = gpt2().encode(text);
    CHECK(ids == tgv_test::int_list(c.at("ids")));
    CHECK(gpt2().decode(ids) == text);
    checked++;
    if (text.size() >= 20000) long_ones++;
  }
  CHECK(checked == static_cast<int>(cases.size()));
  CHECK(long_ones == 1);  // the 20 KB paragraph is there
}

TEST_CASE("added tokens are split first: leftmost, longest, text between encoded alone") {
  const std::string sp31(31, ' ');
  // 33 spaces: the 31-space token, then the 2-space token; "b" without a space.
  CHECK(gpt2().encode("a" + std::string(33, ' ') + "b") == ids_of({"a", sp31, "  ", "b"}));
  // 32 spaces: one space is left over and goes to BPE with the following word.
  CHECK(gpt2().encode(std::string(32, ' ') + "x") == ids_of({sp31, " x"}));
  CHECK(gpt2().encode(std::string(62, ' ')) == ids_of({sp31, sp31}));
  CHECK(gpt2().encode(std::string(63, ' ')) == ids_of({sp31, sp31, " "}));
  CHECK(gpt2().encode("  x") == ids_of({"  ", "x"}));
  CHECK(gpt2().encode(" x") == ids_of({" x"}));
  CHECK(gpt2().encode(std::string(10, '\t') + "x") == ids_of({std::string(9, '\t'), "\t", "x"}));  // "\tx": \s then a letter
  CHECK(gpt2().encode("\t") == ids_of({"\t"}));
  // <|endoftext|> inside text is the single id 50256, with nothing merged across it.
  CHECK(gpt2().encode("a<|endoftext|>b") == std::vector<int>{id_of("a"), 50256, id_of("b")});
  CHECK(gpt2().encode("<|endoftext|><|endoftext|>") == std::vector<int>{50256, 50256});
  CHECK(gpt2().encode("<|endoftext|").size() > 1);
  // A piece between added tokens ends there: " " before <|endoftext|> stays alone.
  CHECK(gpt2().encode("x <|endoftext|>") == std::vector<int>{id_of("x"), id_of(" "), 50256});
  CHECK(gpt2().encode("").empty());
}

TEST_CASE("invalid UTF-8 is rejected with one line naming the byte") {
  const char* bad[] = {"\xff", "a\x80", "\xc3", "abc\xe2\x82", "\xc0\xaf" /* overlong '/' */,
                       "\xe0\x80\xaf" /* overlong */, "\xed\xa0\x80" /* surrogate D800 */,
                       "\xed\xbf\xbf" /* surrogate DFFF */, "\xf4\x90\x80\x80" /* > U+10FFFF */,
                       "\xf8\x88\x80\x80\x80", "ok\xfe"};
  for (const char* s : bad) {
    CAPTURE(s);
    try {
      (void)gpt2().encode(s);
      FAIL("accepted invalid UTF-8");
    } catch (const tgv::Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find("not valid UTF-8") != std::string::npos);
      CHECK(msg.find('\n') == std::string::npos);
    }
  }
  CHECK(gpt2().encode(std::string("a\0b", 3)).size() == 3);  // NUL is valid UTF-8
}

TEST_CASE("text that starts with '-' is text") {
  CHECK(gpt2().encode("-x") == ids_of({"-", "x"}));
  CHECK(gpt2().encode("--tokenizer") == ids_of({"--", "token", "izer"}));
}

TEST_CASE("tokenize_segments splits on <ImageHere> and encodes each segment alone") {
  const std::string before = "###Human: <Img>", after = "</Img> What is this?###Assistant: ";
  auto segs = tgv::tokenize_segments(gpt2(), before + "<ImageHere>" + after);
  REQUIRE(segs.size() == 2);
  CHECK(segs[0] == gpt2().encode(before));
  CHECK(segs[1] == gpt2().encode(after));
  segs = tgv::tokenize_segments(gpt2(), "no image here");
  REQUIRE(segs.size() == 1);
  CHECK(segs[0] == gpt2().encode("no image here"));
  segs = tgv::tokenize_segments(gpt2(), "<ImageHere>");
  REQUIRE(segs.size() == 2);
  CHECK(segs[0].empty());
  CHECK(segs[1].empty());
  // A segment boundary stops merges: "a " + image + " b" keeps the space tokens apart.
  segs = tgv::tokenize_segments(gpt2(), "a <ImageHere> b");
  CHECK(segs[0] == ids_of({"a", " "}));
  CHECK(segs[1] == ids_of({" b"}));
  CHECK(tgv::tokenize_segments(gpt2(), "x<ImageHere>y<ImageHere>z").size() == 3);
}

TEST_CASE("encode is stable across calls (the BPE cache changes nothing)") {
  const std::string s = "The cache must not change ids: cache caches cached caching.";
  const auto first = gpt2().encode(s);
  CHECK(gpt2().encode(s) == first);
  CHECK(gpt2().encode(s + s) == [&] { auto v = first; auto w = gpt2().encode(s); v.insert(v.end(), w.begin(), w.end()); return v; }() );
}

TEST_CASE("encode can be called from several threads at once") {
  if (!tgv::threads_supported()) {
    MESSAGE("a build without threads (WebAssembly): skipped");
    return;
  }
  const tgv::Json doc = tgv::Json::parse(tgv_test::read_file(tgv_test::data_path("cases.json")));
  std::vector<std::string> texts;
  std::vector<std::vector<int>> want;
  for (const auto& c : doc.at("cases").as_array()) {
    texts.push_back(c.at("text").as_string());
    want.push_back(tgv_test::int_list(c.at("ids")));
  }
  const tgv::Tokenizer tok = tgv::Tokenizer::load(tgv_test::gpt2_dir());  // a fresh, empty cache
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++)
    threads.emplace_back([&, t] {
      for (size_t k = 0; k < texts.size(); k++) {
        const size_t i = (k * 8 + static_cast<size_t>(t) * 31) % texts.size();  // each its own order (315 cases)
        if (tok.encode(texts[i]) != want[i]) wrong[t]++;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong == std::vector<int>(4, 0));
}
