// The safetensors reader and ModelFile on good and corrupt files, made byte by byte
// here: every problem must be a one-line tgv::Error that names it, never a crash.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/model_file.h"
#include "tinygptv/safetensors.h"

using namespace tgv;
namespace fs = std::filesystem;

namespace {

std::string temp_path() {
  static int n = 0;
  return (fs::temp_directory_path() / ("tgv_test_st_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".safetensors")).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
  std::fclose(f);
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; i++) s[static_cast<size_t>(i)] = static_cast<char>(n >> (8 * i));
  return s;
}

// A safetensors file: header length, header, data.
std::string st(const std::string& header, const std::string& data = std::string(64, '\0')) {
  return le64(header.size()) + header + data;
}

// The error message opening `bytes` as a SafetensorsFile ("" when it opens).
std::string error_of(const std::string& bytes, bool model_file = false) {
  const std::string path = temp_path();
  write_bytes(path, bytes);
  std::string msg;
  try {
    if (model_file) ModelFile m(path);
    else SafetensorsFile f(path);
  } catch (const Error& e) {
    msg = e.what();
  }
  fs::remove(path);
  return msg;
}

// Checks that opening `bytes` fails with a one-line message containing `want`.
void check_rejected(const std::string& bytes, const std::string& want, bool model_file = false) {
  const std::string msg = error_of(bytes, model_file);
  CAPTURE(msg);
  CHECK(!msg.empty());
  CHECK(msg.find(want) != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
}

const char* kConfig =
    R"({"vision":{"image_size":28,"patch_size":14,"width":16,"layers":1,"heads":2,"mlp_dim":32,"ln_eps":1e-6,"ln_vision_eps":1e-5},)"
    R"("qformer":{"hidden":16,"layers":1,"heads":2,"intermediate":32,"cross_attention_freq":2,"query_tokens":4,"ln_eps":1e-12},)"
    R"("projector":{"mid":24},)"
    R"("llm":{"vocab_size":97,"hidden":32,"layers":2,"heads":2,"intermediate":128,"rotary_dim":8,"rope_theta":10000.0,"ln_eps":1e-5,"rms_eps":1e-6,"max_positions":2048}})";

// A __metadata__ entry holding `config` as a JSON string.
std::string meta(const std::string& config) { return R"("__metadata__":{"config":)" + json_quote(config) + "}"; }

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("safetensors: a good file loads, every dtype converts") {
  // F32 [2] = {1, -2}; F16 [2] = {1, -2}; BF16 [1] = {1}; an F32 at a misaligned offset; an empty tensor.
  std::string data(std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8));  // F32 1.0, -2.0 (little-endian)
  data += std::string("\x00\x3c\x00\xc0", 4);  // F16 1.0, -2.0 (little-endian)
  data += std::string("\x80\x3f", 2);          // BF16 1.0
  data += std::string("\x00\x00\x80\x3f", 4);  // F32 1.0 at offset 14 (not 4-aligned)
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("h":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},)"
                             R"("b":{"dtype":"BF16","shape":[1,1],"data_offsets":[12,14]},)"
                             R"("m":{"dtype":"F32","shape":[],"data_offsets":[14,18]},)"
                             R"("e":{"dtype":"F32","shape":[0,3],"data_offsets":[18,18]},)"
                             R"("__metadata__":{"note":"x"}})";
  const std::string path = temp_path();
  write_bytes(path, st(header, data));
  SafetensorsFile file(path);
  REQUIRE(file.tensors().size() == 5);
  CHECK(file.tensors()[0].name == "a");  // header order
  CHECK(tensor_f32(file.get("a", {2})) == std::vector<float>{1.0f, -2.0f});
  CHECK(tensor_f32(file.get("h", {2})) == std::vector<float>{1.0f, -2.0f});
  CHECK(tensor_f32(file.get("b", {1, 1})) == std::vector<float>{1.0f});
  CHECK(tensor_f32(file.get("m", {})) == std::vector<float>{1.0f});
  CHECK(reinterpret_cast<uintptr_t>(file.get("m").data) % 4 == 0);  // realigned copy
  CHECK(file.get("e").numel() == 0);
  CHECK(file.metadata().at("note") == "x");
  CHECK(file.find("zzz") == nullptr);
  fs::remove(path);
}

TEST_CASE("safetensors: corrupt files are one-line errors naming the problem") {
  const std::string ok_tensor = R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
  SUBCASE("empty / shorter than the length field") {
    check_rejected("", "shorter than the 8-byte header length");
    check_rejected("abc", "shorter than the 8-byte header length");
  }
  SUBCASE("header length longer than the file") {
    check_rejected(le64(1000) + "{}", "header length 1000 is longer than the file");
    check_rejected(le64(~uint64_t{0}) + "{}", "is longer than the file");
    check_rejected(le64(9), "header length 9 is longer than the file");
  }
  SUBCASE("malformed JSON header") {
    check_rejected(st("{\"w\":"), "malformed header");
    check_rejected(st("{\"w\":{}}}"), "malformed header");
    check_rejected(st("[1, 2]"), "malformed header: not a JSON object");
    check_rejected(st(std::string("{\"a\xff\":1}")), "malformed header");
  }
  SUBCASE("bad entries") {
    check_rejected(st(R"({"w":5})"), "tensor 'w': entry is not an object");
    check_rejected(st(R"({"w":{"shape":[1],"data_offsets":[0,4]}})"), "tensor 'w': missing dtype");
    check_rejected(st(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})"), "tensor 'w': missing shape");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[1]}})"), "tensor 'w': missing data_offsets");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})"), "tensor 'w': missing data_offsets");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})"), "negative dimension");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})"), "non-integer");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}})"), "tensor 'w'");
    check_rejected(st(R"({"__metadata__":{"config":1}})"), "__metadata__ value 'config' is not a string");
    check_rejected(st(R"({"__metadata__":[1]})"), "__metadata__ is not an object");
  }
  SUBCASE("unknown dtype") {
    check_rejected(st(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})"), "tensor 'w': unknown dtype 'F64'");
    check_rejected(st(R"({"w":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}})"), "unknown dtype 'I8'");
    check_rejected(st(R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,1]}})"), "tensor 'w': missing dtype");
  }
  SUBCASE("truncated file: data shorter than the offsets say") {
    check_rejected(st("{" + ok_tensor + "}", std::string(10, '\0')),
                   "tensor 'w': data_offsets [0, 16) run past the end of the file (data size 10)");
  }
  SUBCASE("out-of-range offsets") {
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[100,104]}})"), "run past the end of the file");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})"), "tensor 'w': bad data_offsets");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})"), "data_offsets begin after they end");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}})"), "tensor 'w': bad data_offsets");
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})"), "tensor 'w': bad data_offsets");
  }
  SUBCASE("byte count does not match dtype x shape") {
    check_rejected(st(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})"), "tensor 'w': holds 12 bytes but F32 [2, 2] needs 16");
    check_rejected(st(R"({"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}})"), "holds 8 bytes but BF16 [3] needs 6");
  }
  SUBCASE("overlapping offsets") {
    check_rejected(st("{" + ok_tensor + R"(,"v":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})"),
                   "tensors 'w' and 'v' overlap (data_offsets [0, 16) and [8, 16))");
    check_rejected(st(R"({"v":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},)" + ok_tensor + "}"), "overlap");
  }
  SUBCASE("duplicate names") {
    check_rejected(st("{" + ok_tensor + R"(,"w":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}})"), "tensor 'w': appears twice");
  }
  SUBCASE("the error names the file") {
    const std::string msg = error_of(st("{"));
    CHECK(msg.find("tgv_test_st_") != std::string::npos);
  }
}

TEST_CASE("model file: config and tensors are checked") {
  const std::string tensors =
      R"("llama_model.lm_head.bias":{"dtype":"F32","shape":[97],"data_offsets":[0,388]},)"
      R"("llama_model.model.final_layernorm.weight":{"dtype":"BF16","shape":[32],"data_offsets":[388,452]})";
  const std::string data(512, '\0');
  SUBCASE("a good model file") {
    const std::string path = temp_path();
    write_bytes(path, st("{" + meta(kConfig) + "," + tensors + "}", data));
    ModelFile m(path);
    CHECK(m.config().llm.hidden == 32);
    CHECK(m.config().llm.rotary_dim == 8);
    CHECK(m.config().llm.rms_eps == 1e-6f);
    CHECK(m.config().vision.width == 16);
    CHECK(ModelConfig::from_json(m.config().to_json()).llm.max_positions == 2048);  // round trip
    CHECK(m.has("llama_model.lm_head.bias"));
    CHECK(m.floats("llama_model.model.final_layernorm.weight", {32}) == std::vector<float>(32, 0.0f));
    // missing tensor / wrong shape: the message names the tensor (and both shapes)
    CHECK_THROWS_WITH_AS(m.tensor("llama_model.lm_head.weight", {97, 32}), (path + ": missing tensor 'llama_model.lm_head.weight'").c_str(), Error);
    CHECK_THROWS_WITH_AS(m.tensor("llama_model.lm_head.bias", {96}),
                         (path + ": tensor 'llama_model.lm_head.bias' has wrong shape; expected [96], got [97]").c_str(), Error);
    CHECK_THROWS_WITH_AS(m.floats("llama_model.model.final_layernorm.weight", {1, 32}),
                         (path + ": tensor 'llama_model.model.final_layernorm.weight' has wrong shape; expected [1, 32], got [32]").c_str(),
                         Error);
    fs::remove(path);
  }
  SUBCASE("missing config") {
    check_rejected(st("{" + tensors + "}", data), "no __metadata__ \"config\"", true);
    check_rejected(st(R"({"__metadata__":{"other":"1"},)" + tensors + "}", data), "no __metadata__ \"config\"", true);
  }
  SUBCASE("config that is not JSON") {
    check_rejected(st("{" + meta("{\"llm\":") + "}"), "json:", true);
    check_rejected(st("{" + meta("[]") + "}"), "config: not a JSON object", true);
  }
  SUBCASE("bad config keys") {
    const std::string c = kConfig;
    check_rejected(st("{" + meta(replace(c, R"("hidden":32,)", "")) + "}"), "config: llm.hidden is missing", true);
    check_rejected(st("{" + meta(replace(c, R"("projector":{"mid":24},)", "")) + "}"), "config: missing section 'projector'", true);
    check_rejected(st("{" + meta(replace(c, R"("hidden":32)", R"("hidden":"32")")) + "}"), "config: llm.hidden must be an integer", true);
    check_rejected(st("{" + meta(replace(c, R"("hidden":32)", R"("hidden":32.5)")) + "}"), "config: llm.hidden must be an integer", true);
    check_rejected(st("{" + meta(replace(c, R"("hidden":32)", R"("hidden":0)")) + "}"), "config: llm.hidden = 0 is out of range", true);
    check_rejected(st("{" + meta(replace(c, R"("vocab_size":97)", R"("vocab_size":99999999999)")) + "}"), "llm.vocab_size", true);
    check_rejected(st("{" + meta(replace(c, R"("rms_eps":1e-6)", R"("rms_eps":-1)")) + "}"), "config: llm.rms_eps is out of range", true);
    check_rejected(st("{" + meta(replace(c, R"("rms_eps":1e-6)", R"("rms_eps":null)")) + "}"), "config: llm.rms_eps must be a number", true);
    check_rejected(st("{" + meta(replace(c, R"("heads":2,"intermediate":128)", R"("heads":3,"intermediate":128)")) + "}"),
                   "config: llm.hidden is not a multiple of llm.heads", true);
    check_rejected(st("{" + meta(replace(c, R"("rotary_dim":8)", R"("rotary_dim":7)")) + "}"), "llm.rotary_dim must be even", true);
    check_rejected(st("{" + meta(replace(c, R"("rotary_dim":8)", R"("rotary_dim":18)")) + "}"), "at most the head dim", true);
  }
}

// Offsets past 4 GiB (a sparse file, no disk used): on a 64-bit host the tensor is
// found where the 64-bit offset says; where size_t is 32 bits the file cannot be
// mapped and says so, instead of wrapping the offset to a small one.
TEST_CASE("safetensors: data_offsets past 4 GiB are read as 64-bit, or refused on 32-bit") {
  const uint64_t begin = (uint64_t{1} << 32) + 64, end = begin + 16;
  const std::string header = R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[)" + std::to_string(begin) + "," +
                             std::to_string(end) + "]}}";
  const std::string path = temp_path();
  write_bytes(path, le64(header.size()) + header);
  const uint64_t data_start = 8 + header.size();
  std::error_code ec;
  fs::resize_file(path, data_start + end, ec);
  if (ec) {
    MESSAGE("no sparse 4 GiB file possible here (" << ec.message() << "); skipped");
    fs::remove(path);
    return;
  }
  {  // the tensor's 4 floats: 1, 2, 3, 4, little-endian, at data_start + begin
    FILE* f = std::fopen(path.c_str(), "r+b");
    REQUIRE(f);
    const uint8_t v[16] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40};
    REQUIRE(fseeko(f, static_cast<off_t>(data_start + begin), SEEK_SET) == 0);
    REQUIRE(std::fwrite(v, 1, 16, f) == 16);
    std::fclose(f);
  }
  if (sizeof(size_t) >= 8) {
    const SafetensorsFile file(path);
    CHECK(tensor_f32(file.get("t", {4})) == std::vector<float>{1, 2, 3, 4});
  } else {
    std::string msg;
    try {
      SafetensorsFile file(path);
    } catch (const Error& e) {
      msg = e.what();
    }
    CHECK(msg.find("cannot map") != std::string::npos);
    CHECK(msg.find(std::to_string(data_start + end) + " bytes") != std::string::npos);
  }
  fs::remove(path);
}
