// `tinygptv quantize`: a model file -> the same model in another dtype recipe.
//
//   tinygptv quantize IN.safetensors OUT.safetensors --dtype f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q6_k
//                     [--pure] [--threads N] [--quiet]
//
// IN may hold any dtype (quantized tensors are dequantized first). The recipe --
// which tensor gets which dtype, and the fallbacks for rows that are not whole
// blocks -- is include/tinygptv/quantize.h (shared with `convert --dtype`);
// docs/quantization.md explains it. The work is quantize_model (src/modelfile/quantize.cpp);
// this file parses options and prints the summary.
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "tinygptv/error.h"
#include "tinygptv/quantize.h"
#include "tinygptv/thread_pool.h"

namespace tgv::cli {

namespace {

std::string counts(const std::map<std::string, size_t>& per_dtype) {
  std::string s;
  for (const auto& [name, n] : per_dtype) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  return s;
}

std::string megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  Args args(argc, argv, {"--dtype", "--threads"}, {"--pure", "--quiet"});
  if (args.positional().size() != 2)
    fail(std::string("usage: tinygptv quantize IN.safetensors OUT.safetensors --dtype ") + recipe_dtype_names() + " [--pure]");
  QuantizeOptions o;
  o.in = args.positional()[0];
  o.out = args.positional()[1];
  const std::string dtype = args.required("--dtype");
  if (!recipe_dtype_from_name(dtype, &o.dtype))
    fail("--dtype must be one of " + std::string(recipe_dtype_names()) + ", not '" + dtype + "'");
  o.pure = args.has("--pure");
  set_num_threads(static_cast<int>(args.integer_or("--threads", 0)));
  const bool quiet = args.has("--quiet");
  Progress bar;  // draws only on a terminal
  if (!quiet) {
    bar.start("quantizing to " + dtype);
    o.progress = [&bar](size_t done, size_t total) { bar.step(static_cast<int>(done), static_cast<int>(total)); };
  }
  const QuantizeSummary s = quantize_model(o);
  if (!quiet) bar.done();
  for (const std::string& w : fallback_warnings(s.fallbacks)) std::fprintf(stderr, "%s\n", w.c_str());
  std::printf("tensors: %zu; in: %s; out: %s\n", s.tensors, counts(s.count_in).c_str(), counts(s.count_out).c_str());
  std::printf("tensor data: %s -> %s (%.1f%% of the input)\n", megabytes(s.bytes_in).c_str(), megabytes(s.bytes_out).c_str(),
              s.bytes_in ? 100.0 * static_cast<double>(s.bytes_out) / static_cast<double>(s.bytes_in) : 100.0);
  std::printf("wrote %s: %llu bytes (%s was %llu bytes)\n", o.out.c_str(), static_cast<unsigned long long>(s.file_out),
              o.in.c_str(), static_cast<unsigned long long>(s.file_in));
  return 0;
}

}  // namespace tgv::cli
