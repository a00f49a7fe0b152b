// The committed demo model (weights/demo/tinygptv-demo.safetensors, docs/demo.md)
// through the real pipeline -- load_pixels, ChatSession with the stage-4 template,
// greedy decoding, parse_boxes: what `tinygptv ask` runs -- on scenes training never
// saw (tests/data/demo/, seeds past every training seed, made with the training
// world's generator by tools/train/make_testset.py). The accuracy thresholds are the
// issue's; the figures reached are printed (`build/test_pipeline -tc="demo*" -s`) and
// reported in docs/demo.md.
//
// Also: the Q-Former cross-attention the encoder hands back for --attention-map equals
// the PyTorch reference's (tools/train/make_testset.py, vision_ref.py in float64).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "compare.h"
#include "tinygptv/attention_map.h"
#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/grounding.h"
#include "tinygptv/json.h"
#include "tinygptv/npy.h"
#include "tinygptv/session.h"
#include "tolerances.h"

using namespace tgv;

namespace {

const std::string kRoot = std::string(TGV_TEST_DATA) + "/../..";
const std::string kModel = kRoot + "/weights/demo/tinygptv-demo.safetensors";
const std::string kScenes = std::string(TGV_TEST_DATA) + "/demo/";

struct Box {
  int x0, y0, x1, y1;
};

double iou(const Box& a, const Box& b) {
  const double iw = std::max(0, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const double ih = std::max(0, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const double inter = iw * ih;
  const double uni = double(a.x1 - a.x0) * (a.y1 - a.y0) + double(b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

Box box_of(const Json& j) {
  const auto& a = j.as_array();
  return {static_cast<int>(a.at(0).as_int()), static_cast<int>(a.at(1).as_int()), static_cast<int>(a.at(2).as_int()),
          static_cast<int>(a.at(3).as_int())};
}

struct Score {
  int right = 0, total = 0;
  double rate() const { return total ? double(right) / total : 0.0; }
};

}  // namespace

// The thresholds are the issue's; docs/demo.md gives the figures the committed model
// reaches (`build/test_pipeline -tc="demo*" -s` prints them).
TEST_CASE("demo model: accuracy on 200+ scenes it never saw") {
  Model model(kModel);
  REQUIRE(model.demo_model());
  const Tokenizer tok = Tokenizer::load(kRoot + "/weights/tokenizer");
  const std::vector<uint8_t> text = read_file_bytes(kScenes + "scenes.json");
  const Json scenes = Json::parse(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  REQUIRE(scenes.size() >= 200);
  AskOptions greedy;
  greedy.sampler = SamplerConfig{};  // temperature 0: greedy, no penalty (what the thresholds were measured with)
  greedy.max_new_tokens = 120;
  Rng rng(0);

  std::map<std::string, Score> score;  // per question kind; "grounding" counts objects, not questions
  for (const Json& sc : scenes.as_array()) {
    const std::vector<float> px = load_pixels(kScenes + sc.at("file").as_string(), model.image.image_size());
    for (const Json& q : sc.at("questions").as_array()) {
      const std::string kind = q.at("kind").as_string(), want = q.at("answer").as_string();
      ChatSession chat(model, tok, ChatTemplate::MiniGPTv2);
      chat.set_image(px);
      const std::string got = chat.ask(q.at("question").as_string(), greedy, rng);
      if (kind == "grounding") {  // every object: a box with its "colour shape" phrase at IoU >= 0.5
        const auto boxes = parse_boxes(got);
        for (const Json& o : sc.at("objects").as_array()) {
          const std::string label = o.at("colour").as_string() + " " + o.at("shape").as_string();
          bool hit = false;
          for (const GroundedBox& b : boxes)
            hit = hit || (b.label == label && iou({b.x0, b.y0, b.x1, b.y1}, box_of(o.at("box"))) >= 0.5);
          score[kind].right += hit;
          score[kind].total++;
        }
      } else if (kind == "refer") {
        const auto boxes = parse_boxes(got), wanted = parse_boxes(want);
        score[kind].right += !boxes.empty() && iou({boxes[0].x0, boxes[0].y0, boxes[0].x1, boxes[0].y1},
                                                   {wanted[0].x0, wanted[0].y0, wanted[0].x1, wanted[0].y1}) >= 0.5;
        score[kind].total++;
      } else {
        score[kind].right += got == want;
        score[kind].total++;
      }
    }
  }
  for (const auto& [kind, s] : score)
    MESSAGE(kind << ": " << s.right << " / " << s.total << " = " << 100.0 * s.rate() << " %"
                 << std::string(kind == "grounding" || kind == "refer" ? " (boxes with IoU >= 0.5)" : " (exact)"));
  CHECK(score["colour"].rate() >= 0.90);
  CHECK(score["count"].rate() >= 0.90);
  CHECK(score["exists"].rate() >= 0.90);
  CHECK(score["shape"].rate() >= 0.90);
  CHECK(score["grounding"].rate() >= 0.80);
}

TEST_CASE("demo model: the cross-attention for --attention-map matches the reference") {
  Model model(kModel);
  const std::vector<float> px = load_pixels(kRoot + "/weights/demo/scene.png", model.image.image_size());
  QFormerCrossAttention a;
  model.image.encode(px.data(), {}, &a);
  const NpyArray want = read_npy(kScenes + "scene_cross_attention.npy");  // [cross layers, heads, Q, N+1]
  REQUIRE(want.shape == std::vector<int64_t>{static_cast<int64_t>(a.probs.size()), a.heads, a.queries, a.keys});
  const std::vector<float> w = want.to_f32();
  const size_t per_layer = static_cast<size_t>(a.heads) * a.queries * a.keys;
  for (size_t l = 0; l < a.probs.size(); l++) {
    const test::Diff d = test::diff(a.probs[l].data(), w.data() + l * per_layer, per_layer);
    MESSAGE("cross-attention layer " << a.layer_index[l] << ": rel " << d.rel << ", max abs " << d.max_abs);
    CHECK(d.rel <= test::tolerance_for("demo", "qformer.cross_attention"));
  }
  // the map: patches and cls share what the queries gave out
  float cls = 0;
  const int g = model.image.patch_grid();
  const std::vector<float> patches = attention_patch_weights(a, g, -1, &cls);
  double sum = cls;
  for (float p : patches) sum += p;
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
  const ImageRGB8 pic = attention_overlay(load_image(kRoot + "/weights/demo/scene.png"), patches, g);
  CHECK(pic.width >= 336);
  CHECK_THROWS_AS(attention_patch_weights(a, g, a.queries, nullptr), Error);
}
