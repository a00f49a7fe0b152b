// The language model against the PyTorch reference (tests/reference/phi2_ref.py,
// float64): every llm.* activation of both fixtures, layer by layer, within the
// tolerance table (tests/tolerances.h); the KV cache against full recomputation;
// greedy decoding against the reference's tokens and logits.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "compare.h"
#include "fixture.h"
#include "tinygptv/error.h"
#include "tinygptv/phi2.h"
#include "tolerances.h"

using namespace tgv;
using namespace tgv::test;

namespace {

struct Loaded {
  explicit Loaded(const std::string& name) : model(llm_dir(name) + "/model.safetensors"), w(load_phi2(model)) {}
  const LlmConfig& cfg() const { return model.config().llm; }
  ModelFile model;
  Phi2Weights w;
};

std::vector<float> embed(const Loaded& m, const std::vector<int>& ids) {
  std::vector<float> x(ids.size() * static_cast<size_t>(m.cfg().hidden));
  phi2_embed_tokens(x.data(), m.w, ids.data(), static_cast<int>(ids.size()));
  return x;
}

// Logits [T, V] of ids, all at once from an empty state.
std::vector<float> full_logits(const Loaded& m, const std::vector<int>& ids) {
  Phi2State s(m.cfg());
  std::vector<float> logits(ids.size() * static_cast<size_t>(m.cfg().vocab_size));
  phi2_forward(logits.data(), s, m.w, m.cfg(), embed(m, ids).data(), static_cast<int>(ids.size()), Phi2Logits::All, {});
  return logits;
}

// The reference's greedy decoding of a fixture (decode.json, decode.logits.npy).
struct DecodeReference {
  explicit DecodeReference(const std::string& name)
      : json(Json::parse(read_text(llm_dir(name) + "/decode.json"))),
        prompt(json_ids(json.at("prompt_ids"))),
        tokens(json_ids(json.at("tokens"))),
        logits(read_npy(llm_dir(name) + "/decode.logits.npy").to_f32()) {}
  // The logits [V] before greedy step `step`.
  std::vector<float> step_logits(size_t step, int V) const {
    return std::vector<float>(logits.begin() + static_cast<ptrdiff_t>(step) * V, logits.begin() + static_cast<ptrdiff_t>(step + 1) * V);
  }
  Json json;
  std::vector<int> prompt, tokens;
  std::vector<float> logits;  // [steps, V]
};

}  // namespace

TEST_CASE("phi2: every llm.* activation matches the PyTorch reference") {
  for (const std::string name : kLlmFixtures) {
    CAPTURE(name);
    const std::string fixture = std::string("llm/") + name;
    Loaded m(name);
    const std::vector<int> ids = prompt_ids(name);
    const int T = static_cast<int>(ids.size());
    std::map<std::string, std::pair<std::vector<float>, std::vector<int64_t>>> got;
    DumpFn dump = [&](const std::string& n, const float* data, const std::vector<int64_t>& shape) {
      size_t count = 1;
      for (int64_t d : shape) count *= static_cast<size_t>(d);
      got[n] = {std::vector<float>(data, data + count), shape};
    };
    Phi2State s(m.cfg());
    std::vector<float> last(static_cast<size_t>(m.cfg().vocab_size));
    phi2_forward(last.data(), s, m.w, m.cfg(), embed(m, ids).data(), T, Phi2Logits::Last, dump);
    CHECK(s.pos == T);

    std::vector<std::string> names = {"llm.embeds"};
    for (int i = 0; i < m.cfg().layers; i++) names.push_back("llm.layer." + std::to_string(i));
    names.push_back("llm.final_norm");
    names.push_back("llm.logits");
    CHECK(got.size() == names.size());
    for (const std::string& n : names) {
      CAPTURE(n);
      REQUIRE(got.count(n));
      NpyArray want = read_npy(llm_dir(name) + "/" + n + ".npy");
      CHECK(got[n].second == want.shape);
      check_close(fixture + " " + n, got[n].first, want.to_f32(), tolerance_for(fixture, n));
    }
    // Last-row logits are the last row of the dumped [T, V].
    const auto& all = got["llm.logits"].first;
    CHECK(std::vector<float>(all.end() - m.cfg().vocab_size, all.end()) == last);
  }
}

TEST_CASE("phi2: KV-cache decoding gives the logits of full recomputation") {
  for (const std::string name : kLlmFixtures) {
    CAPTURE(name);
    Loaded m(name);
    const int V = m.cfg().vocab_size;
    std::vector<int> ids = prompt_ids(name);
    for (int extra : {5, 17, 3}) ids.push_back(extra % V);  // N + M tokens
    const int total = static_cast<int>(ids.size());
    const std::vector<float> full = full_logits(m, ids);  // [total, V]

    // Prefill 4, then the rest in calls of 1, 2, 1, 3, ... rows.
    Phi2State s(m.cfg());
    const std::vector<float> x = embed(m, ids);
    std::vector<float> inc(full.size());
    int pos = 0, step = 0;
    const int chunks[] = {4, 1, 2, 1, 3};
    while (pos < total) {
      const int n = std::min(chunks[step++ % 5], total - pos);
      phi2_forward(inc.data() + static_cast<size_t>(pos) * V, s, m.w, m.cfg(), x.data() + static_cast<size_t>(pos) * m.cfg().hidden,
                   n, Phi2Logits::All, {});
      pos += n;
      CHECK(s.pos == pos);
    }
    // Same arithmetic per row, up to the matmul kernel's blocking for other T:
    // measured rel err 0 (scalar) / ~1e-7 (avx2).
    check_close(std::string(name) + " kv-cache logits", inc, full, 1e-6);

    // Last-row mode, one token at a time after a prefill.
    Phi2State s2(m.cfg());
    std::vector<float> one(static_cast<size_t>(V));
    phi2_forward(one.data(), s2, m.w, m.cfg(), x.data(), 5, Phi2Logits::Last, {});
    check_close(std::string(name) + " prefill last row", one, std::vector<float>(full.begin() + 4 * V, full.begin() + 5 * V), 1e-6);
    for (int t = 5; t < total; t++) {
      phi2_forward(one.data(), s2, m.w, m.cfg(), x.data() + static_cast<size_t>(t) * m.cfg().hidden, 1, Phi2Logits::Last, {});
      check_close(std::string(name) + " decode row " + std::to_string(t), one,
                  std::vector<float>(full.begin() + static_cast<ptrdiff_t>(t) * V, full.begin() + static_cast<ptrdiff_t>(t + 1) * V), 1e-6);
    }
    // reset() starts a new sequence in the same buffers.
    s2.reset();
    phi2_forward(one.data(), s2, m.w, m.cfg(), x.data(), 1, Phi2Logits::Last, {});
    check_close(std::string(name) + " after reset", one, std::vector<float>(full.begin(), full.begin() + V), 1e-6);
  }
}

TEST_CASE("phi2: greedy decoding with the KV cache follows the reference") {
  for (const std::string name : kLlmFixtures) {
    CAPTURE(name);
    const std::string fixture = std::string("llm/") + name;
    Loaded m(name);
    const DecodeReference ref(name);
    const std::vector<int>& ids = ref.prompt;
    const std::vector<int>& want = ref.tokens;
    const std::vector<float>& want_logits = ref.logits;  // [steps, V]
    const int V = m.cfg().vocab_size;

    // Step by step, so each step's logits can be compared too.
    Phi2State s(m.cfg());
    std::vector<float> logits(static_cast<size_t>(V));
    phi2_forward(logits.data(), s, m.w, m.cfg(), embed(m, ids).data(), static_cast<int>(ids.size()), Phi2Logits::Last, {});
    std::vector<int> got;
    for (size_t step = 0; step < want.size(); step++) {
      check_close(fixture + " decode step " + std::to_string(step), logits, ref.step_logits(step, V),
                  tolerance_for(fixture, "llm.logits"));
      const int id = argmax(logits);
      got.push_back(id);
      phi2_forward(logits.data(), s, m.w, m.cfg(), embed(m, {id}).data(), 1, Phi2Logits::Last, {});
    }
    CHECK(got == want);

    // The same through phi2_generate (greedy, no eos in the way).
    Phi2State s2(m.cfg());
    Rng rng(0);
    GenerateOptions opt;
    opt.max_new_tokens = static_cast<int>(want.size());
    opt.eos_id = -1;
    std::vector<int> streamed;
    const std::vector<int> gen = phi2_generate(s2, m.w, m.cfg(), embed(m, ids).data(), static_cast<int>(ids.size()), SamplerConfig{},
                                               rng, opt, [&](int id) { streamed.push_back(id); return true; });
    CHECK(gen == want);
    CHECK(streamed == want);

    // Stops: at eos (the 3rd greedy token made the eos id), and when the callback says so.
    Phi2State s3(m.cfg());
    opt.eos_id = want[2];
    opt.max_new_tokens = 50;
    std::vector<int> until_eos = phi2_generate(s3, m.w, m.cfg(), embed(m, ids).data(), static_cast<int>(ids.size()), SamplerConfig{}, rng, opt, {});
    size_t first = 0;
    while (want[first] != want[2]) first++;
    CHECK(until_eos == std::vector<int>(want.begin(), want.begin() + static_cast<ptrdiff_t>(first)));
    Phi2State s4(m.cfg());
    opt.eos_id = -1;
    int calls = 0;
    std::vector<int> two = phi2_generate(s4, m.w, m.cfg(), embed(m, ids).data(), static_cast<int>(ids.size()), SamplerConfig{}, rng, opt,
                                         [&](int) { return ++calls < 2; });
    CHECK(two == std::vector<int>(want.begin(), want.begin() + 2));

    // min_new_tokens = 1 (upstream's min_length=1): when the first greedy token is eos it
    // is masked, and the runner-up of the reference's first-step logits comes instead.
    Phi2State s5(m.cfg());
    opt.eos_id = want[0];
    opt.min_new_tokens = 1;
    opt.max_new_tokens = 3;
    std::vector<float> step0(want_logits.begin(), want_logits.begin() + V);
    step0[static_cast<size_t>(want[0])] = -1e30f;
    const std::vector<int> masked = phi2_generate(s5, m.w, m.cfg(), embed(m, ids).data(), static_cast<int>(ids.size()), SamplerConfig{}, rng, opt, {});
    REQUIRE(!masked.empty());
    CHECK(masked[0] == argmax(step0));
  }
}

TEST_CASE("phi2: an F16 KV cache follows the reference's greedy decoding, logits within kKvCacheF16") {
  // Keys and values rounded to float16 (relative 2^-11 each) are the only change from
  // the F32 cache: the error they cause is stated in tests/tolerances.h.
  double worst = 0;
  for (const std::string name : kLlmFixtures) {
    CAPTURE(name);
    Loaded m(name);
    const DecodeReference ref(name);
    const int V = m.cfg().vocab_size;
    Phi2State s(m.cfg(), DType::F16);
    CHECK(s.kv_dtype == DType::F16);
    std::vector<float> logits(static_cast<size_t>(V));
    phi2_forward(logits.data(), s, m.w, m.cfg(), embed(m, ref.prompt).data(), static_cast<int>(ref.prompt.size()), Phi2Logits::Last,
                 {});
    std::vector<int> got;
    for (size_t step = 0; step < ref.tokens.size(); step++) {
      const std::vector<float> w = ref.step_logits(step, V);
      check_close(std::string(name) + " f16 cache, decode step " + std::to_string(step), logits, w, kKvCacheF16);
      worst = std::max(worst, diff(logits.data(), w.data(), w.size()).rel);
      got.push_back(argmax(logits));
      phi2_forward(logits.data(), s, m.w, m.cfg(), embed(m, {got.back()}).data(), 1, Phi2Logits::Last, {});
    }
    CHECK(got == ref.tokens);
    CHECK(s.k_cache[0].empty());  // the float32 cache is never allocated
    CHECK(s.k_cache16[0].size() >= static_cast<size_t>(s.pos) * m.cfg().hidden);
  }
  MESSAGE("F16 KV cache vs the float64 reference: worst relative L2 error of the logits " << worst);
  CHECK_THROWS_WITH_AS(Phi2State(Loaded(kLlmFixtures[0]).cfg(), DType::Q8_0), doctest::Contains("only F32 and F16"), Error);
}

TEST_CASE("phi2: bad token ids and the context limit are errors, not crashes") {
  Loaded m("tiny");  // vocab 97, max_positions 64
  std::vector<float> x(static_cast<size_t>(m.cfg().hidden));
  for (int bad : {-1, 97, 100000}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(phi2_embed_tokens(x.data(), m.w, &bad, 1),
                         ("token id " + std::to_string(bad) + " is outside the vocabulary (0..96)").c_str(), Error);
  }
  Phi2State s(m.cfg());
  std::vector<int> ids(60, 3);
  std::vector<float> logits(static_cast<size_t>(m.cfg().vocab_size));
  phi2_forward(logits.data(), s, m.w, m.cfg(), embed(m, ids).data(), 60, Phi2Logits::Last, {});
  std::vector<float> five = embed(m, {1, 2, 3, 4, 5});
  CHECK_THROWS_WITH_AS(phi2_forward(logits.data(), s, m.w, m.cfg(), five.data(), 5, Phi2Logits::Last, {}),
                       "context limit: 60 + 5 positions exceed max_positions 64", Error);
  CHECK(s.pos == 60);  // nothing appended
  phi2_forward(logits.data(), s, m.w, m.cfg(), five.data(), 4, Phi2Logits::Last, {});  // exactly full is fine
  CHECK(s.pos == 64);

  // Generation stops quietly at the context limit.
  Phi2State s2(m.cfg());
  Rng rng(1);
  GenerateOptions opt;
  opt.eos_id = -1;
  opt.max_new_tokens = 1000;
  const auto gen = phi2_generate(s2, m.w, m.cfg(), embed(m, ids).data(), 60, SamplerConfig{}, rng, opt, {});
  CHECK(gen.size() == 5);  // 4 fed back + the last one sampled from position 63's logits
  CHECK(s2.pos == 64);
}
