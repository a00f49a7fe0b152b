// What quantization costs: see include/tinygptv/quant_report.h.
#include "tinygptv/quant_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "tinygptv/error.h"
#include "tinygptv/session.h"

namespace tgv {

namespace {

// Every activation one forward pass dumps, in order.
struct Activations {
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::vector<int64_t>, std::vector<float>>> values;

  DumpFn collector() {
    return [this](const std::string& name, const float* data, const std::vector<int64_t>& shape) {
      size_t n = 1;
      for (int64_t d : shape) n *= static_cast<size_t>(d);
      if (!values.count(name)) order.push_back(name);
      values[name] = {shape, std::vector<float>(data, data + n)};
    };
  }
};

// One forward pass of `model` over the prompt (+ image) followed by `answer_in`
// (the answer's ids fed back, teacher forcing), every activation collected.
Activations run(const Model& model, const QuantReportInput& in, const std::vector<int>& answer_in) {
  Activations acts;
  const DumpFn dump = acts.collector();
  const LlmConfig& c = model.config().llm;
  std::vector<float> image;  // [Q, D]
  if (in.segments.size() == 2) image = model.image.encode(in.pixels.data(), dump);
  std::vector<std::vector<int>> segments = in.segments;
  segments.back().insert(segments.back().end(), answer_in.begin(), answer_in.end());
  const std::vector<float> embeds = assemble_embeddings(model.llm, segments, image, c.hidden);  // [T, D]
  const int T = static_cast<int>(embeds.size() / static_cast<size_t>(c.hidden));
  Phi2State state(c);
  std::vector<float> logits(static_cast<size_t>(T) * c.vocab_size);  // [T, V]; also dumped as llm.logits
  phi2_forward(logits.data(), state, model.llm, c, embeds.data(), T, Phi2Logits::All, dump);
  return acts;
}

// The base model's greedy answer: up to `tokens` ids, ending early at <|endoftext|>.
std::vector<int> greedy_answer(const Model& model, const QuantReportInput& in) {
  const LlmConfig& c = model.config().llm;
  std::vector<float> image;
  if (in.segments.size() == 2) image = model.image.encode(in.pixels.data(), {});
  const std::vector<float> embeds = assemble_embeddings(model.llm, in.segments, image, c.hidden);
  Phi2State state(c);
  Rng rng(0);  // unused by greedy decoding
  GenerateOptions gen;
  gen.max_new_tokens = in.tokens;
  gen.min_new_tokens = 1;
  return phi2_generate(state, model.llm, c, embeds.data(), static_cast<int>(embeds.size() / static_cast<size_t>(c.hidden)),
                       SamplerConfig{}, rng, gen, [](int) { return true; });
}

size_t argmax(const float* x, size_t n) {  // the first index on ties, as torch.argmax
  return static_cast<size_t>(std::max_element(x, x + n) - x);
}

}  // namespace

double kl_divergence_logits(const float* base, const float* quant, size_t n) {
  // log-softmax of each row in double: lp = x - max - log(sum exp(x - max))
  auto log_norm = [n](const float* x) {
    const double mx = *std::max_element(x, x + n);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += std::exp(x[i] - mx);
    return mx + std::log(s);
  };
  const double zb = log_norm(base), zq = log_norm(quant);
  double kl = 0;
  for (size_t i = 0; i < n; i++) {
    const double lp = base[i] - zb, lq = quant[i] - zq;
    kl += std::exp(lp) * (lp - lq);
  }
  return std::max(kl, 0.0);  // >= 0 mathematically; rounding can leave -1e-17
}

double QuantReport::mean_kl() const {
  double s = 0;
  for (double k : kl) s += k;
  return kl.empty() ? 0 : s / static_cast<double>(kl.size());
}

double QuantReport::max_kl() const { return kl.empty() ? 0 : *std::max_element(kl.begin(), kl.end()); }

double QuantReport::agreement() const {
  if (top1_agree.empty()) return 0;
  return static_cast<double>(std::count(top1_agree.begin(), top1_agree.end(), true)) / static_cast<double>(top1_agree.size());
}

QuantReport quant_report(const std::string& base_path, const std::string& quant_path, const QuantReportInput& in) {
  if (in.segments.empty() || in.segments.size() > 2) fail("quant-report: the prompt must have one or two segments");
  if (in.tokens < 1) fail("quant-report: --tokens must be at least 1");
  QuantReport r;
  Activations base;
  std::string base_config;
  {  // the base model, then it is unloaded
    const Model model(base_path);
    base_config = model.config().to_json().dump();
    if (in.segments.size() == 2 && in.pixels.size() != 3 * static_cast<size_t>(model.image.image_size()) * model.image.image_size())
      fail("quant-report: the pixels are not [3, S, S] for the model's image size");
    r.answer = greedy_answer(model, in);
    base = run(model, in, std::vector<int>(r.answer.begin(), r.answer.end() - 1));
  }
  const Model model(quant_path);
  if (model.config().to_json().dump() != base_config)
    fail("quant-report: " + quant_path + " and " + base_path + " have different configs (not the same model)");
  const Activations quant = run(model, in, std::vector<int>(r.answer.begin(), r.answer.end() - 1));

  for (const std::string& name : base.order) {
    const auto it = quant.values.find(name);
    if (it == quant.values.end()) continue;
    const auto& [shape, b] = base.values.at(name);
    const std::vector<float>& q = it->second.second;
    TGV_ASSERT(q.size() == b.size(), "quant-report: " + name + " differs in size between the models");
    ActivationError e{name, shape, 0, 0};
    double num = 0, den = 0;
    for (size_t i = 0; i < b.size(); i++) {
      const double d = static_cast<double>(q[i]) - b[i];
      num += d * d;
      den += static_cast<double>(b[i]) * b[i];
      e.max_abs = std::max(e.max_abs, std::fabs(d));
    }
    e.rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
    r.activations.push_back(e);
  }

  // Teacher forcing: the logits row before answer[k] predicts it.
  const auto& bl = base.values.at("llm.logits");
  const auto& ql = quant.values.at("llm.logits");
  const size_t T = static_cast<size_t>(bl.first[0]), V = static_cast<size_t>(bl.first[1]), n = r.answer.size();
  for (size_t k = 0; k < n; k++) {
    const size_t row = T - n + k;
    const float* pb = bl.second.data() + row * V;
    const float* pq = ql.second.data() + row * V;
    r.kl.push_back(kl_divergence_logits(pb, pq, V));
    r.top1_agree.push_back(argmax(pb, V) == argmax(pq, V));
  }
  return r;
}

}  // namespace tgv
