// How far a quantized model moves from the float64 PyTorch reference, on the two
// pipeline fixtures (tests/data/pipeline/{tiny,heads}: random weights, every stage),
// for every dtype of the recipe. Two measurements, each against its own rows of
// tests/tolerances.h ("quant-<dtype>" and "quant-layer-<dtype>"):
//
//  - end to end: `tinygptv dump` of the quantized file, every activation against the
//    reference dump. The errors of every quantized layer before it add up here.
//  - per layer: each layer of the quantized model run on the reference's input to
//    that layer, with the active kernels and with the scalar ones (vision.block.{i} from vision.block.{i-1}, qformer.layer.{i},
//    projector.fc1/fc2, llm.layer.{i}, llm.logits from llm.final_norm): the error that
//    one layer's quantized weights add.
// The measured values are printed (-s) and recorded in tests/tolerances.h.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "compare.h"
#include "llm/fixture.h"
#include "tinygptv/kernels.h"
#include "tinygptv/layers.h"
#include "tinygptv/model_file.h"
#include "tinygptv/phi2.h"
#include "tinygptv/projector.h"
#include "tinygptv/qformer.h"
#include "tinygptv/quantize.h"
#include "tinygptv/vision.h"
#include "tolerances.h"

using namespace tgv;
using namespace tgv::test;
namespace fs = std::filesystem;

namespace {

const char* const kDTypes[] = {"f16", "bf16", "q8_0", "q6_k", "q5_1", "q5_0", "q4_1", "q4_k", "q4_0"};

fs::path temp(const std::string& tag) {
  return fs::temp_directory_path() / ("tgv_test_quant_accuracy_" + tag + "_" + std::to_string(::getpid()));
}

std::string fixture(const std::string& name) { return std::string(TGV_TEST_DATA) + "/pipeline/" + name; }

std::vector<float> ref(const std::string& name, const std::string& act) { return read_npy(fixture(name) + "/" + act + ".npy").to_f32(); }

// Each layer of model `path` on the reference's input to it: activation name -> output.
std::map<std::string, std::vector<float>> layers_on_reference_inputs(const std::string& path, const std::string& name) {
  const ModelFile mf(path);
  const ModelConfig& c = mf.config();
  std::map<std::string, std::vector<float>> out;
  const VitWeights vit = load_vit(mf, c.vision);
  VitBlockScratch scratch;
  for (int i = 0; i < c.vision.layers; i++) {
    std::vector<float> x = ref(name, i == 0 ? "vision.embed" : "vision.block." + std::to_string(i - 1));  // [T, W]
    vit_block_forward(x.data(), vit.blocks[static_cast<size_t>(i)], c.vision, static_cast<int>(x.size() / c.vision.width), scratch);
    out["vision.block." + std::to_string(i)] = x;
  }
  const QFormerWeights qf = load_qformer(mf, c.qformer, c.vision.width);
  const std::vector<float> image = ref(name, "vision.ln");  // [N+1, W]
  const int Q = c.qformer.query_tokens;
  for (int i = 0; i < c.qformer.layers; i++) {
    std::vector<float> x = ref(name, i == 0 ? "qformer.embed" : "qformer.layer." + std::to_string(i - 1));  // [Q, H]
    qformer_layer_forward(x.data(), image.data(), static_cast<int>(image.size() / c.vision.width), qf.layers[static_cast<size_t>(i)],
                          c.qformer, qformer_has_cross(i, c.qformer), Q);
    out["qformer.layer." + std::to_string(i)] = x;
  }
  const ProjectorWeights pw = load_projector(mf, c);
  std::vector<float> fc1(static_cast<size_t>(Q) * c.projector.mid), fc2(static_cast<size_t>(Q) * c.llm.hidden);
  linear(fc1.data(), ref(name, "qformer.layer." + std::to_string(c.qformer.layers - 1)).data(), pw.fc1_w, pw.fc1_b.data(), Q);
  linear(fc2.data(), ref(name, "projector.fc1").data(), pw.fc2_w, pw.fc2_b.data(), Q);
  out["projector.fc1"] = fc1;
  out["projector.fc2"] = fc2;

  const Phi2Weights llm = load_phi2(mf);
  LlmConfig one = c.llm;  // a one-layer model made of layer i
  one.layers = 1;
  for (int i = 0; i < c.llm.layers; i++) {
    Phi2Weights w = llm;
    w.layers = {llm.layers[static_cast<size_t>(i)]};
    Phi2State state(one);
    const std::vector<float> x = ref(name, i == 0 ? "llm.embeds" : "llm.layer." + std::to_string(i - 1));  // [T, D]
    const int T = static_cast<int>(x.size() / c.llm.hidden);
    std::vector<float> logits(static_cast<size_t>(T) * c.llm.vocab_size);
    phi2_forward(logits.data(), state, w, one, x.data(), T, Phi2Logits::All,
                 [&](const std::string& act, const float* data, const std::vector<int64_t>& shape) {
                   if (act == "llm.layer.0") out["llm.layer." + std::to_string(i)].assign(data, data + shape[0] * shape[1]);
                 });
  }
  const std::vector<float> norm = ref(name, "llm.final_norm");  // [T, D]
  const int T = static_cast<int>(norm.size() / c.llm.hidden);
  std::vector<float> logits(static_cast<size_t>(T) * c.llm.vocab_size);
  linear(logits.data(), norm.data(), llm.lm_head_weight, llm.lm_head_bias.data(), T);
  out["llm.logits"] = logits;
  return out;
}

}  // namespace

TEST_CASE("quantized pipeline fixtures against the reference: end to end and per layer") {
  REQUIRE(fs::exists(TGV_BINARY));
  for (const std::string dtype : kDTypes) {
    double worst_dump = 0, worst_layer[2] = {0, 0};  // [active kernels, scalar kernels]
    std::string worst_dump_at, worst_layer_at[2];
    for (const std::string name : {"tiny", "heads"}) {
      CAPTURE(dtype);
      CAPTURE(name);
      const std::string dir = fixture(name);
      QuantizeOptions o;
      o.in = dir + "/model.safetensors";
      o.out = temp(name + "_" + dtype + ".safetensors").string();
      REQUIRE(recipe_dtype_from_name(dtype, &o.dtype));
      quantize_model(o);

      // end to end: tinygptv dump on the quantized file
      const Json segs = Json::parse(read_text(dir + "/prompt_segments.json"));
      std::string ids;
      for (const Json& s : segs.as_array()) {
        if (!ids.empty()) ids += "|";
        std::string part;
        for (int id : json_ids(s)) part += (part.empty() ? "" : ",") + std::to_string(id);
        ids += part;
      }
      const fs::path out = temp("dump_" + name);
      const std::string cmd = std::string("\"") + TGV_BINARY + "\" dump --model " + o.out + " --image " + dir +
                              "/pixels.npy --prompt-ids '" + ids + "' --out " + out.string();
      REQUIRE(std::system(cmd.c_str()) == 0);
      for (const auto& e : fs::directory_iterator(dir)) {
        const std::string f = e.path().filename().string();
        if (f.size() < 4 || f.substr(f.size() - 4) != ".npy" || f == "pixels.npy") continue;
        const std::string act = f.substr(0, f.size() - 4);
        const std::vector<float> got = read_npy((out / f).string()).to_f32(), want = read_npy(dir + "/" + f).to_f32();
        const double rel = diff(got.data(), want.data(), want.size()).rel;
        if (rel > worst_dump) worst_dump = rel, worst_dump_at = name + " " + act;
        check_close("quant-" + dtype + " " + name + " dump " + act, got, want, tolerance_for("quant-" + dtype, act));
      }
      fs::remove_all(out);

      // per layer: the quantized layer on the reference's input, with the active kernels
      // (AVX2/AVX-512/NEON: integer dots against 8-bit activations; Q8_0: the float GEMM,
      // every layer here has T > 1 rows) and with the scalar ones (--reference:
      // dequantized weights, float dots)
      for (const bool scalar : {false, true}) {
        use_reference_kernels(scalar);  // false: the detected set again
        for (const auto& [act, got] : layers_on_reference_inputs(o.out, name)) {
          const std::vector<float> want = ref(name, act);
          const double rel = diff(got.data(), want.data(), want.size()).rel;
          if (rel > worst_layer[scalar]) worst_layer[scalar] = rel, worst_layer_at[scalar] = name + " " + act;
          const std::string what = "quant-layer-" + dtype + (scalar ? " (scalar) " : " ") + name + " " + act;
          check_close(what, got, want, tolerance_for("quant-layer-" + dtype, act));
        }
      }
      use_reference_kernels(false);
      fs::remove(o.out);
    }
    MESSAGE(dtype << ": largest error end to end " << worst_dump << " (" << worst_dump_at << "), per layer " << worst_layer[0] << " ("
                  << worst_layer_at[0] << "), per layer with the scalar kernels " << worst_layer[1] << " (" << worst_layer_at[1] << ")");
  }
}

TEST_CASE("ask and chat run on a quantized model") {
  // the default model (tests/data/models/tiny-pipeline.safetensors, 224 px, Phi-2's vocabulary)
  const std::string model = std::string(TGV_TEST_DATA) + "/models/tiny-pipeline.safetensors";
  const std::string image = std::string(TGV_TEST_DATA) + "/../../weights/examples/chelsea.jpg";
  for (const char* dtype : {"q4_0", "q4_k"}) {
    CAPTURE(dtype);
    QuantizeOptions o;
    o.in = model;
    o.out = temp(std::string("ask_") + dtype + ".safetensors").string();
    REQUIRE(recipe_dtype_from_name(dtype, &o.dtype));
    quantize_model(o);
    const std::string bin = std::string("\"") + TGV_BINARY + "\"";
    CHECK(std::system((bin + " ask --model " + o.out + " --image " + image + " --max-tokens 3 --temp 0 'What is this?' > /dev/null 2>&1").c_str()) == 0);
    CHECK(std::system(("echo 'What is this?' | " + bin + " chat --model " + o.out + " --image " + image + " --max-tokens 3 > /dev/null 2>&1").c_str()) == 0);
    fs::remove(o.out);
  }
}
