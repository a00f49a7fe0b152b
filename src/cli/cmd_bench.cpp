// `tinygptv bench`: how fast the real code path runs on this machine, beside what the
// machine allows, in one run (docs/performance.md):
//
//   tinygptv bench [--model M | --random full|tiny] [--dtype f32|f16|bf16|q8_0|q4_0|q4_k|...]
//                  [--threads N] [--image-size 224|448] [--reps R] [--save OUT.safetensors]
//                  [--steps encode,prefill,decode] [--kv-cache f32|f16] [--depth P]
//
// Everything timed is what `ask` runs: the same Model (ImageEncoder + Phi2Weights,
// loaded through the same ModelFile checks), ImageEncoder::encode for the image,
// phi2_forward for the prompt and phi2_generate (with ask's default sampler) for the
// answer. Each step runs once untimed (warm-up: caches, page-ins of an mmapped file),
// then R times; the table gives mean +- standard deviation.
//
//   load          Model construction (for --random: building the weights in memory)
//   encode        one image at the model's size: ViT + Q-Former + projector
//   prefill 64    64 new tokens into an empty KV cache (logits of the last)
//   prefill 256   the same with 256
//   decode 64     64 tokens generated one at a time after P cached positions
//                 (--depth, default 600, as llama-bench's -d; the cache rows are
//                 filled with random keys/values: the work per step is the same as
//                 after a real P-token prompt)
//
// Beside them: the read bandwidth and FMA peak measured in the same run, each step's
// fraction of its roofline (decode: bytes read per token / bandwidth; the others:
// FLOPs / FMA peak), the peak RSS (getrusage, measured before the bandwidth buffer is
// allocated) and the bytes a decoded token reads. --random full|tiny builds a model
// with random weights in memory (random_model.h) in --dtype (default f16) at
// --image-size (default 224); --save writes it as a model file. --reps 0 only builds
// (and saves); --steps runs only the steps listed (default: all three); --kv-cache f16
// times prefill and decode with a float16 KV cache (llama-bench's default) instead of
// the exact float32 one.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "tinygptv/error.h"
#include "tinygptv/kernels.h"
#include "tinygptv/machine_limits.h"
#include "tinygptv/model_cost.h"
#include "tinygptv/quantize.h"
#include "tinygptv/random_model.h"
#include "tinygptv/session.h"
#include "tinygptv/thread_pool.h"

namespace tgv::cli {

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Timing {
  double mean = 0, stdev = 0;  // seconds
};

// One untimed run, then `reps` timed ones.
template <typename F>
Timing time_it(int reps, F run) {
  run();
  std::vector<double> t;
  for (int i = 0; i < reps; i++) {
    const double t0 = now();
    run();
    t.push_back(now() - t0);
  }
  Timing r;
  for (double x : t) r.mean += x / reps;
  for (double x : t) r.stdev += (x - r.mean) * (x - r.mean);
  r.stdev = reps > 1 ? std::sqrt(r.stdev / (reps - 1)) : 0;
  return r;
}

DType parse_dtype(const std::string& s) {
  DType t;
  if (!recipe_dtype_from_name(s, &t)) fail("--dtype must be one of " + std::string(recipe_dtype_names()) + ", not '" + s + "'");
  return t;
}

// Deterministic values for the inputs (pixels, token ids, cached keys): a small LCG.
struct Inputs {
  uint64_t state = 12345;
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  }
  float normal() { return (static_cast<float>(next() % 20001) / 10000.0f - 1.0f) * 1.7f; }  // mean 0, sd ~1
};

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

std::string gb(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f GB", bytes / 1e9);
  return b;
}

void row(const char* step, const std::string& time, const std::string& rate, const std::string& roofline) {
  std::printf("| %-20s | %22s | %18s | %-34s |\n", step, time.c_str(), rate.c_str(), roofline.c_str());
}

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[96];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  Args args(argc, argv, {"--model", "--random", "--dtype", "--threads", "--image-size", "--reps", "--save", "--steps", "--kv-cache", "--depth"}, {});
  if (!args.positional().empty()) fail("bench: unexpected argument '" + args.positional()[0] + "'");
  if (args.has("--model") == args.has("--random")) fail("bench: give --model M or --random full|tiny (one of them)");
  const long reps = args.integer_or("--reps", 3);
  if (reps < 0 || reps > 1000) fail("--reps must be in 0..1000");
  set_num_threads(static_cast<int>(args.integer_or("--threads", 0)));
  const DType kv_cache = kv_cache_option(args);
  const long depth = args.integer_or("--depth", 600);
  bool run_encode = true, run_prefill = true, run_decode = true;
  if (const auto steps = args.get("--steps")) {
    run_encode = run_prefill = run_decode = false;
    for (size_t at = 0; at <= steps->size();) {
      const size_t end = std::min(steps->find(',', at), steps->size());
      const std::string step = steps->substr(at, end - at);
      if (step == "encode") run_encode = true;
      else if (step == "prefill") run_prefill = true;
      else if (step == "decode") run_decode = true;
      else fail("--steps: unknown step '" + step + "' (encode, prefill, decode)");
      at = end + 1;
    }
  }
  Progress progress;

  // Load (or build) the model.
  std::unique_ptr<Model> model;
  std::string what;
  const double t_load = now();
  if (const auto path = args.get("--model")) {
    if (args.has("--dtype") || args.has("--save")) fail("bench: --dtype and --save go with --random (a file keeps its dtypes)");
    progress.start("loading model");
    model = std::make_unique<Model>(*path);
    what = *path;
    if (args.has("--image-size") && args.integer_or("--image-size", 0) != model->config().vision.image_size)
      fail("bench: " + *path + " runs at " + std::to_string(model->config().vision.image_size) +
           " px; --image-size must match (convert at another size for another)");
  } else {
    const std::string size = *args.get("--random");
    const long S = args.integer_or("--image-size", 224);
    if (S < 14 || S > 1792 || S % 14) fail("--image-size must be a multiple of 14 in 14..1792 (224 or 448)");
    if (size != "full" && size != "tiny") fail("--random must be full or tiny, not '" + size + "'");
    const ModelConfig config = size == "full" ? full_model_config(static_cast<int>(S)) : tiny_model_config(static_cast<int>(S));
    const DType dtype = parse_dtype(args.get_or("--dtype", "f16"));
    progress.start("building a random model");
    model = std::make_unique<Model>(random_model_file(config, dtype));
    what = std::string("random ") + size + " " + dtype_name(dtype);
  }
  const double load_s = now() - t_load;
  progress.done();
  if (const auto out = args.get("--save")) {
    progress.start("writing " + *out);
    save_model_file(model->file, *out, [&](size_t done, size_t total) {
      progress.step(static_cast<int>(done >> 20), static_cast<int>(total >> 20));
    });
    progress.done();
    std::fprintf(stderr, "wrote %s (%s)\n", out->c_str(), gb(static_cast<double>(model->file.file().bytes().size())).c_str());
  }

  const ModelConfig& c = model->config();
  const LlmConfig& lc = c.llm;
  const int S = c.vision.image_size, D = lc.hidden;
  uint64_t file_bytes = 0;
  for (const Tensor& t : model->file.file().tensors()) file_bytes += t.nbytes();
  std::printf("tinygptv bench: %s, %s of weights; %d px; kernels %s, %d thread%s, %ld rep%s\n", what.c_str(),
              gb(static_cast<double>(file_bytes)).c_str(), S, kernels().name, num_threads(), num_threads() == 1 ? "" : "s",
              reps, reps == 1 ? "" : "s");
  if (reps == 0) {
    std::printf("load %.2f s\n", load_s);
    return 0;
  }
  const int R = static_cast<int>(reps);
  Inputs in;
  bool finite = true;

  // Image encode.
  std::vector<float> pixels(static_cast<size_t>(3) * S * S);  // [3, S, S], preprocessed pixels are ~N(0, 1)
  for (float& p : pixels) p = in.normal();
  std::vector<float> image;
  Timing encode, pp64, pp256, tg;
  if (run_encode) {
    progress.start("timing encode");
    encode = time_it(R, [&] { image = model->image.encode(pixels.data(), {}); });
    progress.done();
    finite = finite && all_finite(image);
  }

  // Prefill of 64 and 256 tokens into an empty cache.
  Phi2State state(lc, kv_cache);
  // Decode's positions: kNew tokens after kPast cached ones. Checked whatever --steps
  // says, since the table's KV-cache bytes use them too.
  const int kNew = 64;
  if (depth < 0 || depth + kNew > state.max_positions)
    fail("--depth " + std::to_string(depth) + " leaves no room for 64 tokens in the context of " +
         std::to_string(state.max_positions) + " positions");
  const int kPast = static_cast<int>(depth);
  std::vector<float> logits(static_cast<size_t>(lc.vocab_size));
  auto prefill = [&](int T) {
    std::vector<int> ids(static_cast<size_t>(T));
    for (int& id : ids) id = static_cast<int>(in.next() % static_cast<uint32_t>(lc.vocab_size));
    std::vector<float> x(static_cast<size_t>(T) * D);  // [T, D]
    return time_it(R, [&] {
      state.reset();
      phi2_embed_tokens(x.data(), model->llm, ids.data(), T);
      phi2_forward(logits.data(), state, model->llm, lc, x.data(), T, Phi2Logits::Last, {});
    });
  };
  if (run_prefill) {
    progress.start("timing prefill 64");
    pp64 = prefill(64);
    progress.done();
    progress.start("timing prefill 256");
    pp256 = prefill(256);
    progress.done();
    finite = finite && all_finite(logits);
  }

  // Decode 64 tokens after `depth` cached positions, as ask generates (phi2_generate with
  // ask's default sampler), never stopping early (no end-of-text id).
  if (run_decode) {
    phi2_reserve(state, kPast + kNew, D);
    const bool f16 = kv_cache == DType::F16;
    for (size_t l = 0; l < static_cast<size_t>(lc.layers); l++)
      for (size_t i = 0; i < static_cast<size_t>(kPast) * D; i++) {
        const float k = in.normal(), v = in.normal();
        if (f16) {
          state.k_cache16[l][i] = f32_to_f16(k);
          state.v_cache16[l][i] = f32_to_f16(v);
        } else {
          state.k_cache[l][i] = k;
          state.v_cache[l][i] = v;
        }
      }
    GenerateOptions gen;
    gen.max_new_tokens = kNew;
    gen.eos_id = -1;
    std::vector<float> first(static_cast<size_t>(D));  // [1, D] the token that starts the answer
    const int first_id = 13;
    phi2_embed_tokens(first.data(), model->llm, &first_id, 1);
    const AskOptions ask_defaults;
    Rng rng(ask_defaults.sampler.seed);
    size_t generated = 0;
    progress.start("timing decode");
    tg = time_it(R, [&] {
      state.pos = kPast;
      generated = phi2_generate(state, model->llm, lc, first.data(), 1, ask_defaults.sampler, rng, gen, {}).size();
    });
    progress.done();
    TGV_ASSERT(generated == static_cast<size_t>(kNew), "bench: decode stopped early");
  }

  // Peak RSS now, before the bandwidth buffer adds its GiB.
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double peak_rss = static_cast<double>(ru.ru_maxrss) * 1024;  // Linux: KiB
  progress.start("measuring the machine");
  const double bandwidth = measure_read_bandwidth();
  const double peak = measure_fma_peak();
  progress.done();

  // The table.
  const double weights = static_cast<double>(decode_weight_bytes(model->llm));
  const double kv = static_cast<double>(kv_cache_bytes(lc, kPast + kNew / 2, kv_cache));  // the mean over the 64 steps
  const double per_token = tg.mean / kNew;
  auto compute = [&](double flops, const Timing& t) {
    return fmt("%3.0f %% of FMA peak (%.3g GFLOP)", 100 * flops / peak / t.mean, flops / 1e9);
  };
  auto ms = [](const Timing& t) { return fmt("%.1f +- %.1f ms", t.mean * 1e3, t.stdev * 1e3); };
  std::printf("\n| %-20s | %22s | %18s | %-34s |\n", "step", "time", "rate", "roofline");
  std::printf("| %s | %s | %s | %s |\n", std::string(20, '-').c_str(), std::string(22, '-').c_str(),
              std::string(18, '-').c_str(), std::string(34, '-').c_str());
  row("load", fmt("%.2f s", load_s), "", "");
  if (run_encode)
    row(("encode " + std::to_string(S) + " px").c_str(), ms(encode), fmt("%.2f images/s", 1 / encode.mean), compute(encode_flops(c), encode));
  if (run_prefill) {
    row("prefill 64", ms(pp64), fmt("%.1f tokens/s", 64 / pp64.mean), compute(llm_forward_flops(lc, 0, 64), pp64));
    row("prefill 256", ms(pp256), fmt("%.1f tokens/s", 256 / pp256.mean), compute(llm_forward_flops(lc, 0, 256), pp256));
  }
  if (run_decode)
    row(("decode 64 @ " + std::to_string(kPast)).c_str(), fmt("%.1f +- %.1f ms/token", per_token * 1e3, tg.stdev / kNew * 1e3), fmt("%.2f tokens/s", 1 / per_token),
      fmt("%3.0f %% of bandwidth (%.3g GB/token)", 100 * (weights + kv) / bandwidth / per_token, (weights + kv) / 1e9));
  std::printf("\nmachine: read bandwidth %.1f GB/s, FMA peak %.1f GFLOP/s (%s, %d thread%s)\n", bandwidth / 1e9, peak / 1e9,
              kernels().name, num_threads(), num_threads() == 1 ? "" : "s");
  std::printf("decode reads %s of weights + %s of KV cache per token (%s cache); peak RSS %s\n", gb(weights).c_str(),
              gb(kv).c_str(), dtype_name(kv_cache), gb(peak_rss).c_str());
  if (!finite) std::printf("warning: the model produced non-finite values (inf/NaN): its figures are not meaningful\n");
  return finite ? 0 : 1;
}

}  // namespace tgv::cli
