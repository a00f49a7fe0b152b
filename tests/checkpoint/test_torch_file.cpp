// torch.save files as Debian's PyTorch writes them (tests/reference/make_checkpoint.py):
// the zip container (stored, deflated, zip64), storages of every float dtype, shared
// storages, strided views, training checkpoints with optimizer state, and corrupt
// or truncated archives.
#include <doctest/doctest.h>

#include <string>

#include "checkpoint/zip.h"
#include "checkpoint/zip_writer.h"
#include "tinygptv/checkpoint.h"
#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/safetensors.h"

using namespace tgv;

namespace {

const std::string kDir = TGV_TEST_DATA "/checkpoint/";

const CheckpointTensor& by_name(const std::vector<CheckpointTensor>& ts, const std::string& name) {
  for (const auto& t : ts)
    if (t.name == name) return t;
  FAIL("no tensor " << name);
  throw 0;
}

}  // namespace

TEST_CASE("torch file: eva_vit_g.pth layout (40 blocks, fp32, folder named after the file)") {
  TorchFile f(kDir + "eva_vit_g.pth");
  const auto sd = f.state_dict();
  CHECK(sd.size() == 4 + 40 * 13);
  const auto& pos = by_name(sd, "pos_embed");
  CHECK(pos.shape == std::vector<int64_t>{1, 257, 16});
  CHECK(pos.dtype == "F32");
  CHECK(f.bytes_read() < 100000);  // data.pkl only: no tensor read yet
  SafetensorsFile want(kDir + "expected_stage3.safetensors");
  CHECK(pos.load() == tensor_f32(want.get("visual_encoder.pos_embed")));
  CHECK(by_name(sd, "blocks.38.mlp.fc2.weight").load() == tensor_f32(want.get("visual_encoder.blocks.38.mlp.fc2.weight")));
  CHECK(by_name(sd, "blocks.39.mlp.fc2.weight").shape == std::vector<int64_t>{16, 32});
}

TEST_CASE("torch file: BLIP-2 {'model': ...} with buffers, a 0-dim tensor, folder 'archive'") {
  TorchFile f(kDir + "blip2_pretrained.pth");
  const auto sd = f.state_dict();
  const auto& ids = by_name(sd, "Qformer.bert.embeddings.position_ids");
  CHECK(ids.dtype == "I64");
  CHECK_FALSE(ids.is_float());
  const auto& temp = by_name(sd, "temp");
  CHECK(temp.shape.empty());
  REQUIRE(temp.load().size() == 1);
  CHECK(temp.load()[0] == doctest::Approx(0.07f).epsilon(1e-7));
}

TEST_CASE("torch file: stage checkpoint - fp16/bf16 storages, shared storage, transposed view, lazy optimizer") {
  SafetensorsFile raw(kDir + "stage3_raw.safetensors");  // torch.load's own view of the same tensors, as F32
  for (const char* file : {"stage3.pth", "stage3_bad_optimizer.pth"}) {
    CAPTURE(file);
    TorchFile f(kDir + file);
    const auto sd = f.state_dict();
    CHECK(sd.size() == raw.tensors().size());
    for (const Tensor& t : raw.tensors()) {
      CAPTURE(t.name);
      const auto& c = by_name(sd, t.name);
      CHECK(c.shape == t.shape);
      CHECK(c.load() == tensor_f32(t));  // exact: every conversion to float32 is exact
    }
    CHECK(by_name(sd, "llama_proj.weight").dtype == "F16");
    CHECK(by_name(sd, "llama_model.base_model.model.model.layers.1.self_attn.dense.lora_B.weight").dtype == "BF16");
    // Only data.pkl and the model's storages were read: the 256 KiB optimizer state was not.
    CHECK(f.bytes_read() < 64 * 1024);
    const Json cfg = f.value_json({"config", "model"});
    CHECK(cfg.at("lora_alpha").as_int() == 8);
    CHECK(cfg.at("image_size").as_int() == 224);
    CHECK(f.value_json({"epoch"}).as_int() == 3);
    CHECK(f.value_json({"scaler", "scale"}).as_number() == 65536.0);
    CHECK(f.value_json({"no such key"}).is_null());
    const Json opt = f.value_json({"optimizer", "param_groups"});
    CHECK(opt.as_array()[0].at("betas").dump() == "[0.9,0.999]");
  }
  // The corrupted optimizer entry does exist and is caught when read.
  MappedFile m(kDir + "stage3_bad_optimizer.pth");
  ZipArchive zip(m.data(), m.size(), "stage3_bad_optimizer.pth");
  int bad = 0;
  for (const ZipEntry& e : zip.entries()) {
    try {
      zip.read(e);
    } catch (const Error& err) {
      CHECK(std::string(err.what()).find("CRC-32 mismatch") != std::string::npos);
      bad++;
    }
  }
  CHECK(bad == 1);
}

TEST_CASE("torch file: deflated and zip64 re-packs read the same as the stored original") {
  TorchFile ref(kDir + "stage4.pth");
  const auto want = ref.state_dict();
  for (const char* file : {"stage4_deflated.pth", "stage4_zip64.pth"}) {
    CAPTURE(file);
    TorchFile f(kDir + file);
    const auto got = f.state_dict();
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); i++) {
      CHECK(got[i].name == want[i].name);
      CHECK(got[i].load() == want[i].load());
    }
    CHECK(f.value_json({"config", "model", "image_size"}).as_int() == 448);
  }
}

TEST_CASE("torch file: every truncation and many byte flips are clean errors") {
  const std::vector<uint8_t> full = read_file_bytes(kDir + "stage4_deflated.pth");
  auto try_all = [](std::vector<uint8_t> bytes) {
    TorchFile f(std::move(bytes), "mutated.pth");
    for (const auto& t : f.state_dict())
      if (t.is_float()) t.load();
    f.value_json({});
  };
  for (size_t n = 0; n < full.size(); n += (n + 300 < full.size() ? 37 : 1)) {
    CAPTURE(n);
    CHECK_THROWS_AS(try_all(std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(n))), Error);
  }
  // Byte flips: anything may happen except a crash; a flip inside compressed data or a
  // CRC must be caught by the CRC/inflate checks.
  size_t errors = 0;
  for (size_t pos = 0; pos < full.size(); pos += 13) {
    std::vector<uint8_t> b = full;
    b[pos] ^= 0x5a;
    try {
      try_all(std::move(b));
    } catch (const Error&) {
      errors++;
    }
  }
  CHECK(errors > 0);
}

TEST_CASE("zip: directory sanity checks") {
  // torch.save (miniz) always ends with a zip64 record + locator + EOCD.
  const std::vector<uint8_t> z = read_file_bytes(kDir + "values_p2.pth");
  ZipArchive ok(z.data(), z.size(), "values_p2.pth");
  REQUIRE(ok.find("values_p2/data.pkl"));
  CHECK(ok.find("values_p2/version"));
  const size_t rec = z.size() - 22 - 20 - 56;  // the zip64 end-of-central-directory record
  REQUIRE(z[rec] == 'P');
  REQUIRE(z[rec + 3] == 6);
  auto put64 = [](std::vector<uint8_t>& b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  // Entry count larger than the directory can hold.
  std::vector<uint8_t> b = z;
  put64(b, rec + 32, uint64_t{1} << 40);
  CHECK_THROWS_WITH_AS(ZipArchive(b.data(), b.size(), "x"), doctest::Contains("entries in"), Error);
  // Central directory offset past the end.
  b = z;
  put64(b, rec + 48, ~uint64_t{0} - 5);
  CHECK_THROWS_WITH_AS(ZipArchive(b.data(), b.size(), "x"), doctest::Contains("outside the file"), Error);
  // The locator pointing nowhere.
  b = z;
  put64(b, z.size() - 22 - 20 + 8, 3);
  CHECK_THROWS_WITH_AS(ZipArchive(b.data(), b.size(), "x"), doctest::Contains("zip64 locator"), Error);
  // A plain zip whose sizes say "see zip64" with no zip64 records.
  std::vector<uint8_t> plain = test::make_zip({{"a/data.pkl", "\x80\x02N."}});
  for (int i = 12; i < 20; i++) plain[plain.size() - 22 + i] = 0xff;
  CHECK_THROWS_WITH_AS(ZipArchive(plain.data(), plain.size(), "x"), doctest::Contains("zip64 locator is missing"), Error);
  CHECK_THROWS_WITH_AS(ZipArchive(z.data(), 10, "x"), doctest::Contains("too short"), Error);
  // A local header that names another file.
  plain = test::make_zip({{"a/data.pkl", "\x80\x02N."}});
  plain[30] = 'b';
  CHECK_THROWS_WITH_AS(ZipArchive(plain.data(), plain.size(), "x"), doctest::Contains("local header names a different file"), Error);
}
