// `tinygptv dump` as an outside check runs it (interface.md): the built executable
// (TGV_BINARY) writes llm.*.npy (and, with an image, vision.*, qformer.*, projector.*)
// and prompt_segments.json into a fresh directory; every file must match the PyTorch
// reference's, names and shapes exactly. Bad input: one line on stderr, non-zero status.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "compare.h"
#include "fixture.h"
#include "tinygptv/npy.h"
#include "tolerances.h"

using namespace tgv;
using namespace tgv::test;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& tag) {
  const fs::path d = fs::temp_directory_path() / ("tgv_test_llm_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

// Runs the CLI; returns its exit status, stderr in *err.
int run(const std::string& args, std::string* err) {
  const fs::path errf = fresh_dir("stderr");
  const std::string cmd = std::string("\"") + TGV_BINARY + "\" " + args + " >/dev/null 2>\"" + errf.string() + "\"";
  const int rc = std::system(cmd.c_str());
  *err = read_text(errf.string());
  fs::remove(errf);
  return rc;
}

std::string ids_arg(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) {
    if (!s.empty()) s += ',';
    s += std::to_string(id);
  }
  return s;
}

}  // namespace

TEST_CASE("dump --prompt-ids writes every llm.* file as the reference has it") {
  REQUIRE_MESSAGE(fs::exists(TGV_BINARY), "build the tinygptv executable first: " << TGV_BINARY);
  for (const std::string name : kLlmFixtures) {
    CAPTURE(name);
    const std::string fixture = std::string("llm/") + name;
    const fs::path out = fresh_dir(name);
    std::string err;
    const int rc = run("dump --model " + llm_dir(name) + "/model.safetensors --prompt-ids " + ids_arg(prompt_ids(name)) +
                           " --out " + out.string(),
                       &err);
    CHECK_MESSAGE(rc == 0, err);
    // Exactly the files of the reference (its llm.*.npy and prompt_segments.json).
    std::vector<std::string> want_files, got_files;
    for (const auto& e : fs::directory_iterator(llm_dir(name))) {
      const std::string f = e.path().filename().string();
      if (f.rfind("llm.", 0) == 0 || f == "prompt_segments.json") want_files.push_back(f);
    }
    for (const auto& e : fs::directory_iterator(out)) got_files.push_back(e.path().filename().string());
    std::sort(want_files.begin(), want_files.end());
    std::sort(got_files.begin(), got_files.end());
    CHECK(got_files == want_files);
    for (const std::string& f : want_files) {
      CAPTURE(f);
      if (f == "prompt_segments.json") {
        CHECK(Json::parse(read_text((out / f).string())).dump() == Json::parse(read_text(llm_dir(name) + "/" + f)).dump());
        continue;
      }
      const NpyArray got = read_npy((out / f).string());
      const NpyArray want = read_npy(llm_dir(name) + "/" + f);
      CHECK(got.dtype == "<f4");
      CHECK(got.shape == want.shape);
      const std::string act = f.substr(0, f.size() - 4);
      check_close(fixture + " dump " + act, got.to_f32(), want.to_f32(), tolerance_for(fixture, act));
    }
    fs::remove_all(out);
  }
}

TEST_CASE("dump reports bad input as one line and a non-zero status") {
  REQUIRE(fs::exists(TGV_BINARY));
  const std::string model = llm_dir("tiny") + "/model.safetensors";
  const fs::path out = fresh_dir("bad");
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--prompt-ids 1,97,3", "token id 97 is outside the vocabulary (0..96)"},
      {"--prompt-ids 1,x", "--prompt-ids: expected token ids"},
      {"--prompt-ids ,", "the prompt is empty"},
      {"--prompt-ids '1|2|3'", "<ImageHere> more than once"},
      {"--prompt-ids '1|2'", "no --image was given"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    std::string err;
    const int rc = run("dump --model " + model + " --out " + out.string() + " " + c.args, &err);
    CHECK(rc != 0);
    CHECK(err.find(c.message) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  }
  std::string err;
  CHECK(run("dump --model " + llm_dir("tiny") + "/nonexistent.safetensors --prompt-ids 1 --out " + out.string(), &err) != 0);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  fs::remove_all(out);
}

TEST_CASE("dump --prompt tokenizes the text (weights/tokenizer)") {
  REQUIRE(fs::exists(TGV_BINARY));
  const fs::path tok = fs::path(TGV_TEST_DATA) / ".." / ".." / "weights" / "tokenizer";
  REQUIRE_MESSAGE(fs::exists(tok / "vocab.json"), "no tokenizer at " << tok.string());
  // GPT-2 ids: ',' = 11, ' the' = 262, '.' = 13 -- all inside head80's vocabulary of 500.
  const std::string model = llm_dir("head80") + "/model.safetensors";
  const fs::path a = fresh_dir("text"), b = fresh_dir("ids");
  std::string err;
  CHECK_MESSAGE(run("dump --model " + model + " --prompt ', the.' --tokenizer " + tok.string() + " --out " + a.string(), &err) == 0, err);
  CHECK_MESSAGE(run("dump --model " + model + " --prompt-ids 11,262,13 --out " + b.string(), &err) == 0, err);
  CHECK(read_text((a / "prompt_segments.json").string()) == "[[11,262,13]]");
  for (const char* f : {"llm.embeds.npy", "llm.layer.2.npy", "llm.logits.npy"}) {
    CAPTURE(f);
    CHECK(read_npy((a / f).string()).bytes == read_npy((b / f).string()).bytes);
  }
  // <ImageHere> splits the prompt; without --image that is an error (one line).
  CHECK(run("dump --model " + model + " --prompt ', the<ImageHere>.' --tokenizer " + tok.string() + " --out " + a.string(), &err) != 0);
  CHECK(err.find("no --image was given") != std::string::npos);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("dump with an image writes every file of the pipeline reference") {
  // tests/data/pipeline/<config>/ (tests/reference/make_pipeline.py): pixels.npy, the
  // prompt's two segments, and every vision.*, qformer.*, projector.*, llm.* activation.
  REQUIRE(fs::exists(TGV_BINARY));
  for (const std::string name : {"tiny", "heads"}) {
    CAPTURE(name);
    const std::string dir = std::string(TGV_TEST_DATA) + "/pipeline/" + name;
    if (!fs::exists(dir + "/prompt_segments.json")) {
      MESSAGE("skipped: no fixture " << dir);
      continue;
    }
    const Json segs = Json::parse(read_text(dir + "/prompt_segments.json"));
    REQUIRE(segs.size() == 2);
    const std::string ids = ids_arg(json_ids(segs.as_array()[0])) + "|" + ids_arg(json_ids(segs.as_array()[1]));
    const fs::path out = fresh_dir("img_" + name);
    std::string err;
    CHECK_MESSAGE(run("dump --model " + dir + "/model.safetensors --image " + dir + "/pixels.npy --prompt-ids '" + ids + "' --out " +
                          out.string(),
                      &err) == 0,
                  err);
    std::vector<std::string> want_files, got_files;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string f = e.path().filename().string();
      for (const char* p : {"vision.", "qformer.", "projector.", "llm.", "prompt_segments.json"})
        if (f.rfind(p, 0) == 0) want_files.push_back(f);
    }
    for (const auto& e : fs::directory_iterator(out)) got_files.push_back(e.path().filename().string());
    std::sort(want_files.begin(), want_files.end());
    std::sort(got_files.begin(), got_files.end());
    CHECK(got_files == want_files);
    for (const std::string& f : want_files) {
      CAPTURE(f);
      if (f == "prompt_segments.json") {
        CHECK(Json::parse(read_text((out / f).string())).dump() == segs.dump());
        continue;
      }
      const NpyArray got = read_npy((out / f).string());
      const NpyArray want = read_npy(dir + "/" + f);
      CHECK(got.dtype == "<f4");
      CHECK(got.shape == want.shape);
      const std::string act = f.substr(0, f.size() - 4);
      check_close("pipeline/" + name + " dump " + act, got.to_f32(), want.to_f32(), tolerance_for("pipeline/" + name, act));
    }
    fs::remove_all(out);
  }
}
