// JSON reader: valid documents, and every malformed input is a tgv::Error.
#include <doctest/doctest.h>

#include <cmath>

#include "tinygptv/error.h"
#include "tinygptv/json.h"

using tgv::Json;

TEST_CASE("json parses objects, arrays, numbers and escapes") {
  Json j = Json::parse(R"({"a": [1, -2.5e3, true, null], "s": "x\u00e9\ud83d\ude00\n", "big": 9007199254740993})");
  CHECK(j.at("a").size() == 4);
  CHECK(j.at("a").as_array()[0].as_int() == 1);
  CHECK(j.at("a").as_array()[1].as_number() == -2500.0);
  CHECK(j.at("a").as_array()[2].as_bool());
  CHECK(j.at("a").as_array()[3].is_null());
  CHECK(j.at("s").as_string() == "x\xc3\xa9\xf0\x9f\x98\x80\n");
  CHECK(j.at("big").as_int() == 9007199254740993LL);  // exact, not rounded through double
  CHECK(j.find("missing") == nullptr);
  CHECK(Json::parse(j.dump()).dump() == j.dump());
}

TEST_CASE("json rejects malformed input with an error, never a crash") {
  const char* bad[] = {"", "{", "[1,", "[1,]", "{\"a\" 1}", "\"abc", "\"\\x\"", "\"\\ud800\"", "01", "1.", "-",
                       "tru", "{\"a\":1}x", "\"\x01\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "[1e]"};
  for (const char* s : bad) {
    CAPTURE(s);
    CHECK_THROWS_AS(Json::parse(s), tgv::Error);
  }
  std::string deep(100000, '[');
  CHECK_THROWS_AS(Json::parse(deep), tgv::Error);
  CHECK_THROWS_AS(Json::parse("1.5").as_int(), tgv::Error);
  CHECK_THROWS_AS(Json::parse("[]").at("k"), tgv::Error);
}

TEST_CASE("json dump reads back as the same value (fuzz_json findings)") {
  // "-0e3" is the double -0.0; it was written as "-0", which reads back as the integer 0
  const Json z = Json::parse("[-0e3,-0,0.0]");
  CHECK(z.dump() == "[-0.0,0,0]");
  CHECK(Json::parse(z.dump()).dump() == z.dump());
  CHECK(std::signbit(Json::parse(z.dump()).as_array()[0].as_number()));
  CHECK(Json::number(-0.0).dump() == "-0.0");
}
