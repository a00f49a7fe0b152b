// `tinygptv quant-report` (include/tinygptv/quant_report.h): KL divergence against
// a value worked by hand; a model against itself (KL 0, full agreement, every
// activation equal); a q4_0 model against its base (KL > 0, each KL >= 0, every
// activation `dump` writes compared); the command's output.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "llm/fixture.h"
#include "tinygptv/image_encoder.h"
#include "tinygptv/quant_report.h"
#include "tinygptv/quantize.h"

using namespace tgv;
using namespace tgv::test;
namespace fs = std::filesystem;

namespace {

fs::path temp(const std::string& tag) {
  return fs::temp_directory_path() / ("tgv_test_quant_report_" + tag + "_" + std::to_string(::getpid()));
}

std::string fixture(const std::string& name) { return std::string(TGV_TEST_DATA) + "/pipeline/" + name; }

QuantReportInput input(const std::string& name, int tokens) {
  const Json segs = Json::parse(read_text(fixture(name) + "/prompt_segments.json"));
  QuantReportInput in;
  for (const Json& s : segs.as_array()) in.segments.push_back(json_ids(s));
  in.pixels = read_npy(fixture(name) + "/pixels.npy").to_f32();
  in.tokens = tokens;
  return in;
}

}  // namespace

TEST_CASE("KL divergence of two logit rows") {
  // p = softmax([0, ln 3]) = [1/4, 3/4], q = softmax([0, 0]) = [1/2, 1/2]:
  // KL(p || q) = 1/4 ln(1/2) + 3/4 ln(3/2)
  const float a[] = {0.0f, std::log(3.0f)}, b[] = {0.0f, 0.0f};
  CHECK(kl_divergence_logits(a, b, 2) == doctest::Approx(0.25 * std::log(0.5) + 0.75 * std::log(1.5)).epsilon(1e-6));
  const float c[] = {7.0f, 7.0f + std::log(3.0f)};  // a shifted: the same distribution
  CHECK(kl_divergence_logits(a, c, 2) == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(kl_divergence_logits(a, a, 2) == 0.0);
}

TEST_CASE("quant-report: a model against itself, and a q4_0 model against its base") {
  for (const std::string name : {"tiny", "heads"}) {
    CAPTURE(name);
    const std::string base = fixture(name) + "/model.safetensors";
    const QuantReportInput in = input(name, 6);
    const QuantReport same = quant_report(base, base, in);
    CHECK(same.answer.size() == 6);
    CHECK(same.kl.size() == same.answer.size());
    CHECK(same.mean_kl() == 0.0);
    CHECK(same.agreement() == 1.0);
    // every activation of the dump fixture, in the pipeline's order, each exactly equal
    std::vector<std::string> names;
    for (const ActivationError& e : same.activations) {
      names.push_back(e.name + ".npy");
      CHECK(e.rel == 0.0);
    }
    for (const auto& f : fs::directory_iterator(fixture(name))) {
      const std::string file = f.path().filename().string();
      for (const char* p : {"vision.", "qformer.", "projector.", "llm."})
        if (file.rfind(p, 0) == 0) CHECK_MESSAGE(std::count(names.begin(), names.end(), file) == 1, file);
    }
    CHECK(names.front() == "vision.pixels.npy");
    CHECK(names.back() == "llm.logits.npy");

    QuantizeOptions o;
    o.in = base;
    o.out = temp("q4_0.safetensors").string();
    o.dtype = DType::Q4_0;
    quantize_model(o);
    const QuantReport q4 = quant_report(base, o.out, in);
    CHECK(q4.answer == same.answer);  // the base model's answer, whatever the other model is
    CHECK(q4.mean_kl() > 0);
    for (double k : q4.kl) CHECK(k >= 0);
    CHECK(q4.activations.size() == same.activations.size());
    CHECK(q4.activations.back().rel > 0);
    MESSAGE(name << " q4_0: KL mean " << q4.mean_kl() << ", max " << q4.max_kl() << ", top-1 agreement " << q4.agreement()
                 << ", llm.logits rel " << q4.activations.back().rel);
    fs::remove(o.out);
  }
}

TEST_CASE("tinygptv quant-report prints the table and the answer's agreement and KL") {
  const std::string model = fixture("heads") + "/model.safetensors";
  const Json segs = Json::parse(read_text(fixture("heads") + "/prompt_segments.json"));
  std::string ids;
  for (const Json& s : segs.as_array()) {
    if (!ids.empty()) ids += "|";
    std::string part;
    for (int id : json_ids(s)) part += (part.empty() ? "" : ",") + std::to_string(id);
    ids += part;
  }
  const fs::path out = temp("out.txt");
  const std::string cmd = std::string("\"") + TGV_BINARY + "\" quant-report --base " + model + " --model " + model + " --image " +
                          fixture("heads") + "/pixels.npy --prompt-ids '" + ids + "' --tokens 4 > " + out.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string text = read_text(out.string());
  CHECK(text.find("vision.block.1 ") != std::string::npos);
  CHECK(text.find("llm.logits ") != std::string::npos);
  CHECK(text.find("base greedy answer (4 tokens)") != std::string::npos);
  CHECK(text.find("top-1 agreement 100.0% (4/4), KL(base||quant) mean 0.000000") != std::string::npos);
  fs::remove(out);
  // bad input: one line, non-zero status
  const std::string bad = std::string("\"") + TGV_BINARY + "\" quant-report --base " + model + " --model " + fixture("tiny") +
                          "/model.safetensors --image " + fixture("heads") + "/pixels.npy --prompt-ids '" + ids + "' 2> " + out.string();
  CHECK(std::system(bad.c_str()) != 0);
  const std::string err = read_text(out.string());
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  fs::remove(out);
}
