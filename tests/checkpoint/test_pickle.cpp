// The allow-listed pickle machine (src/checkpoint/pickle.cpp): plain values as
// Python's pickle writes them (fixtures from tests/reference/make_checkpoint.py),
// and hostile pickles that must be refused with a tgv::Error, never run or crash.
#include <doctest/doctest.h>

#include <string>

#include "checkpoint/pickle.h"
#include "checkpoint/zip_writer.h"
#include "tinygptv/byte_order.h"
#include "tinygptv/checkpoint.h"
#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"

using namespace tgv;
using namespace std::string_literals;

namespace {

// Pickle bytes, spelled with the opcodes' names.
std::string binunicode(const std::string& s) {
  std::string o = "X";
  for (int i = 0; i < 4; i++) o += static_cast<char>((s.size() >> (8 * i)) & 0xff);
  return o + s;
}
std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
const std::string kProto2 = "\x80\x02";

Pickle run(const std::string& bytes) { return unpickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()); }

std::string error_of(const std::string& bytes) {
  try {
    run(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A tensor: _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), offset, size, stride, False, OrderedDict())
std::string tensor_pickle(int numel, int offset, int rows, int cols, int s0, int s1) {
  auto k = [](int v) { return std::string("K") + static_cast<char>(v); };
  return global("torch._utils", "_rebuild_tensor_v2") + "(" + "(" + binunicode("storage") + global("torch", "FloatStorage") +
         binunicode("0") + binunicode("cpu") + k(numel) + "tQ" + k(offset) + k(rows) + k(cols) + "\x86" + k(s0) + k(s1) +
         "\x86" + "\x89" + global("collections", "OrderedDict") + ")R" + "tR";
}

std::string float_storage(int n) {
  std::string s;
  for (int i = 0; i < n; i++) {
    uint8_t le[4];  // storages are little-endian, whatever the host
    tgv::store_le_f32(le, static_cast<float>(i));
    s.append(reinterpret_cast<const char*>(le), 4);
  }
  return s;
}

}  // namespace

TEST_CASE("pickle: plain values written by Python (protocols 2 and 4) read back as JSON") {
  const std::vector<uint8_t> want_bytes = read_file_bytes(TGV_TEST_DATA "/checkpoint/values.json");
  const Json want = Json::parse(std::string(want_bytes.begin(), want_bytes.end()));
  for (const char* f : {"/checkpoint/values_p2.pth", "/checkpoint/values_p4.pth"}) {
    CAPTURE(f);
    TorchFile t(std::string(TGV_TEST_DATA) + f);
    Json got = t.value_json({});
    for (const auto& kv : want.as_object()) {
      const std::string& key = kv.first;
      CAPTURE(key);
      REQUIRE(got.find(key));
      CHECK(got.at(key).dump() == kv.second.dump());
    }
    CHECK(got.at("tensor").is_null());            // tensors are not values
    REQUIRE(t.state_dict().size() == 1);          // ... but are the state dict
    CHECK(t.state_dict()[0].load() == std::vector<float>{1, 1});
  }
}

TEST_CASE("pickle: a global outside the allow-list is refused, never called") {
  // pickle.dumps(os.system("ls")) spelled by hand, protocols 2 and 4
  const std::string p2 = kProto2 + global("os", "system") + binunicode("ls") + "\x85R.";
  CHECK(error_of(p2).find("global 'os.system' is not allowed") != std::string::npos);
  const std::string p4 = "\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x8c\x02ls\x85R.";
  CHECK(error_of(p4).find("global 'os.system' is not allowed") != std::string::npos);
  CHECK(error_of(kProto2 + global("builtins", "eval") + ".").find("'builtins.eval' is not allowed") != std::string::npos);
  CHECK(error_of(kProto2 + global("torch", "load") + ".").find("not allowed") != std::string::npos);
  // An allowed name used the wrong way.
  CHECK(error_of(kProto2 + global("torch", "FloatStorage") + ")R.").find("cannot be called") != std::string::npos);
  CHECK(error_of(kProto2 + global("collections", "OrderedDict") + "K\x01\x85R.").find("OrderedDict") != std::string::npos);
}

TEST_CASE("pickle: malformed streams are errors") {
  CHECK(error_of("").find("truncated") != std::string::npos);
  CHECK(error_of(kProto2 + "\xff").find("unsupported opcode 0xff") != std::string::npos);
  CHECK(error_of(kProto2 + "I1\n.").find("unsupported opcode 0x49") != std::string::npos);  // text INT (protocol 0)
  CHECK(error_of("\x80\x09.").find("protocol 9") != std::string::npos);
  CHECK(error_of(kProto2 + "X\xff\xff\xff\x7f" + "ab.").find("truncated") != std::string::npos);
  CHECK(error_of(kProto2 + "\x8d\xff\xff\xff\xff\xff\xff\xff\x7f" + ".").find("truncated") != std::string::npos);  // BINUNICODE8, 2^63
  CHECK(error_of(kProto2 + "\x8b\x00\x00\x01\x00"s + ".").find("wider than 64 bits") != std::string::npos);        // LONG4, 65536 bytes
  CHECK(error_of(kProto2 + ".").find("stack underflow") != std::string::npos);
  CHECK(error_of(kProto2 + "h\x05.").find("memo key 5") != std::string::npos);
  CHECK(error_of(kProto2 + "e.").find("MARK") != std::string::npos);
  CHECK(error_of(kProto2 + "K\x01K\x02" "a.").find("not a list") != std::string::npos);
  CHECK(error_of(kProto2 + "X\x02\x00\x00\x00\xc3\x28."s).find("UTF-8") != std::string::npos);
  CHECK(error_of(kProto2 + "cos\nsys").find("unterminated") != std::string::npos);
  CHECK(error_of(kProto2 + "K\x01Q.").find("persistent id") != std::string::npos);
  CHECK(error_of(kProto2 + "(" + binunicode("storage") + global("torch", "FloatStorage") + binunicode("../x") + binunicode("cpu") + "K\x01tQ.")
            .find("bad storage key") != std::string::npos);
  CHECK(error_of(kProto2 + global("torch._utils", "_rebuild_tensor_v2") + "(K\x01K\x00)))\x89NtR."s).find("not a storage") != std::string::npos);
  CHECK(error_of(kProto2 + "\x95\xff\xff\xff\xff\x00\x00\x00\x00."s).find("FRAME") != std::string::npos);
}

TEST_CASE("pickle: recursion bombs cost no recursion") {
  // 200000 nested lists: ] x N then APPEND x (N-1) -> [[[[...]]]]
  const int n = 200000;
  std::string deep = kProto2 + std::string(n, ']') + std::string(n - 1, 'a') + ".";
  Pickle p = run(deep);
  CHECK(p.objects.size() == static_cast<size_t>(n));
  // Read as a value, the depth cap answers.
  TorchFile t(test::torch_zip(std::string(kProto2) + "}X\x01\x00\x00\x00k"s + std::string(n, ']') + std::string(n - 1, 'a') + "s."), "deep.pth");
  CHECK_THROWS_WITH_AS(t.value_json({"k"}), doctest::Contains("nested deeper"), Error);
  CHECK(t.state_dict().empty());
  // A list that contains itself.
  TorchFile cyc(test::torch_zip(kProto2 + "}X\x01\x00\x00\x00k]q\x00h\x00"s "as."), "cycle.pth");
  CHECK_THROWS_AS(cyc.value_json({"k"}), Error);
  // A DAG whose unfolding is exponential: L(i+1) = [L(i), L(i)], 30 levels.
  std::string dag = kProto2 + "}X\x01\x00\x00\x00k]"s;
  for (int i = 0; i < 30; i++) dag += "2\x86";  // DUP, TUPLE2
  TorchFile big(test::torch_zip(dag + "s."), "dag.pth");
  CHECK_THROWS_AS(big.value_json({"k"}), Error);
  // MARK bombs and long stacks are bounded by the input size and fine.
  CHECK(error_of(kProto2 + std::string(100000, '(') + ".").find("stack underflow") != std::string::npos);
}

TEST_CASE("pickle: tensors, views and their bounds") {
  // {'w': tensor [2, 2] at offset 1, strides (2, 1)} over a storage of 5 floats 0..4
  const std::string pk = kProto2 + "}" + binunicode("w") + tensor_pickle(5, 1, 2, 2, 2, 1) + "s.";
  TorchFile ok(test::torch_zip(pk, {float_storage(5)}), "view.pth");
  REQUIRE(ok.state_dict().size() == 1);
  CHECK(ok.state_dict()[0].load() == std::vector<float>{1, 2, 3, 4});
  // transposed: strides (1, 2) -> [[1, 3], [2, 4]]
  TorchFile tr(test::torch_zip(kProto2 + "}" + binunicode("w") + tensor_pickle(5, 1, 2, 2, 1, 2) + "s.", {float_storage(5)}), "t.pth");
  CHECK(tr.state_dict()[0].load() == std::vector<float>{1, 3, 2, 4});
  // a view past the end of its storage
  TorchFile past(test::torch_zip(kProto2 + "}" + binunicode("w") + tensor_pickle(5, 2, 2, 2, 2, 1) + "s.", {float_storage(5)}), "past.pth");
  CHECK_THROWS_WITH_AS(past.state_dict(), doctest::Contains("reaches element 5 of a storage of 5"), Error);
  // a broadcast (stride 0) view, as torch.save writes expand()ed buffers: [[0, 1], [0, 1]]
  TorchFile bc(test::torch_zip(kProto2 + "}" + binunicode("w") + tensor_pickle(2, 0, 2, 2, 0, 1) + "s.", {float_storage(2)}), "bc.pth");
  CHECK(bc.state_dict()[0].load() == std::vector<float>{0, 1, 0, 1});
  // ... but not 255 x 255 elements out of one
  TorchFile bomb(test::torch_zip(kProto2 + "}" + binunicode("w") + tensor_pickle(1, 0, 255, 255, 0, 0) + "s.", {float_storage(1)}), "bomb.pth");
  CHECK_THROWS_WITH_AS(bomb.state_dict(), doctest::Contains("far more elements than its storage"), Error);
  // a storage larger than its zip entry
  TorchFile small(test::torch_zip(pk, {float_storage(4)}), "small.pth");
  CHECK_THROWS_WITH_AS(small.state_dict(), doctest::Contains("needs 20 bytes, its entry holds 16"), Error);
  // a storage with no entry
  TorchFile none(test::torch_zip(pk), "none.pth");
  CHECK_THROWS_WITH_AS(none.state_dict(), doctest::Contains("has no entry archive/data/0"), Error);
  // absurd sizes: 2^62 elements
  const std::string huge = kProto2 + "}" + binunicode("w") + global("torch._utils", "_rebuild_tensor_v2") + "((" +
                           binunicode("storage") + global("torch", "FloatStorage") + binunicode("0") + binunicode("cpu") +
                           "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40"s + "tQK\x00\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40\x85K\x01\x85\x89)tRs."s;
  TorchFile h(test::torch_zip(huge, {float_storage(4)}), "huge.pth");
  CHECK_THROWS_AS(h.state_dict(), Error);
}

TEST_CASE("pickle: not a checkpoint") {
  CHECK_THROWS_WITH_AS(TorchFile(std::vector<uint8_t>{0x80, 0x02, 0x8a, 0x0a}, "old.pth"), doctest::Contains("legacy torch.save format"), Error);
  CHECK_THROWS_WITH_AS(TorchFile(std::vector<uint8_t>{'h', 'i'}, "hi.pth"), doctest::Contains("not a PyTorch checkpoint"), Error);
  CHECK_THROWS_WITH_AS(TorchFile(test::make_zip({{"a/b.txt", "x"}}), "z.pth"), doctest::Contains("no PREFIX/data.pkl"), Error);
  CHECK_THROWS_WITH_AS(TorchFile(test::make_zip({{"a/data.pkl", kProto2 + "N."}, {"a/byteorder", "big"}}), "be.pth"),
                       doctest::Contains("big-endian"), Error);
  TorchFile list(test::torch_zip(kProto2 + "]."), "list.pth");
  CHECK_THROWS_WITH_AS(list.state_dict(), doctest::Contains("not a dict of tensors"), Error);
}
