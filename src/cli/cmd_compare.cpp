// `tinygptv compare REF_DIR OTHER_DIR [--rtol R] [--names GLOB]`: two dump directories
// (ours from `tinygptv dump`, another backend's with the same names and .npy format)
// side by side, one row per activation, in pipeline order:
//
//   vision.pixels, vision.embed, vision.block.{i}, vision.ln, qformer.embed,
//   qformer.layer.{i}, projector.fc1, projector.fc2, llm.embeds, llm.layer.{i},
//   llm.final_norm, llm.logits, then any other names (indices in numeric order).
//
// Per activation: shape, max |a - b|, relative error ||a - b|| / ||a|| (a = REF, in
// double), and the worst row (the row -- last dimension -- with the largest |a - b|).
// The first activation over --rtol (default 1e-4) is marked: that is the layer to
// look at, everything after it inherits its error. A file missing from OTHER_DIR, a
// shape mismatch or an unreadable .npy is one line each. Exit status: 0 when every
// activation of REF_DIR is present and within tolerance, 1 otherwise, 2 for bad usage.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "tinygptv/error.h"
#include "tinygptv/npy.h"
#include "tinygptv/tensor.h"

namespace tgv::cli {

namespace {

namespace fs = std::filesystem;

// Where a name sits in the pipeline: (stage, index) with index the number after the
// stage's prefix for the per-layer names; unknown names after every stage.
struct Order {
  int stage;
  long index;
  std::string name;
  bool operator<(const Order& o) const {
    if (stage != o.stage) return stage < o.stage;
    if (index != o.index) return index < o.index;
    return name < o.name;
  }
};

Order pipeline_order(const std::string& name) {
  static const char* const kStages[] = {
      "vision.pixels", "vision.embed", "vision.block.", "vision.ln",      "qformer.embed",  "qformer.layer.",
      "projector.fc1", "projector.fc2", "llm.embeds",   "llm.layer.",     "llm.final_norm", "llm.logits"};
  const int n = static_cast<int>(std::size(kStages));
  for (int s = 0; s < n; s++) {
    const std::string stage = kStages[s];
    if (stage.back() == '.') {  // a numbered family: "llm.layer." + digits
      if (name.size() > stage.size() && name.compare(0, stage.size(), stage) == 0 &&
          std::all_of(name.begin() + static_cast<long>(stage.size()), name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
          name.size() - stage.size() <= 9)
        return {s, std::stol(name.substr(stage.size())), name};
    } else if (name == stage) {
      return {s, 0, name};
    }
  }
  return {n, 0, name};
}

// Shell-style glob: '*' any run of characters, '?' one character.
bool glob_match(const char* pattern, const char* text) {
  if (*pattern == '\0') return *text == '\0';
  if (*pattern == '*') return glob_match(pattern + 1, text) || (*text && glob_match(pattern, text + 1));
  if (*text && (*pattern == '?' || *pattern == *text)) return glob_match(pattern + 1, text + 1);
  return false;
}

std::vector<std::string> npy_names(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir.string() + ": not a directory");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".npy") names.push_back(e.path().stem().string());
  }
  return names;
}

struct Stats {
  double max_abs = 0, rel = 0;
  size_t worst_row = 0, rows = 1;
};

// a = reference, b = other; equal sizes. A NaN anywhere makes rel NaN (so: over).
Stats compare(const std::vector<float>& a, const std::vector<float>& b, size_t row_len) {
  Stats s;
  double diff2 = 0, ref2 = 0, worst = -1;
  s.rows = row_len ? a.size() / row_len : 0;
  for (size_t r = 0; r < s.rows; r++) {
    double row_max = 0;
    for (size_t i = r * row_len; i < (r + 1) * row_len; i++) {
      const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
      diff2 += d * d;
      ref2 += static_cast<double>(a[i]) * a[i];
      const double ad = std::isnan(d) ? INFINITY : std::fabs(d);
      row_max = std::max(row_max, ad);
    }
    if (row_max > worst) { worst = row_max; s.worst_row = r; }
    s.max_abs = std::max(s.max_abs, row_max);
  }
  if (std::isnan(diff2)) s.rel = NAN;
  else s.rel = ref2 > 0 ? std::sqrt(diff2 / ref2) : (diff2 > 0 ? INFINITY : 0.0);
  return s;
}

}  // namespace

int cmd_compare(int argc, char** argv) {
  Args args(argc, argv, {"--rtol", "--names"}, {});
  if (args.positional().size() != 2) {
    std::fprintf(stderr, "usage: tinygptv compare REF_DIR OTHER_DIR [--rtol R] [--names GLOB]\n");
    return 2;
  }
  const double rtol = args.number_or("--rtol", 1e-4);
  if (!(rtol >= 0)) fail("--rtol must be a number >= 0");
  const std::string glob = args.get_or("--names", "*");
  const fs::path ref_dir = args.positional()[0], other_dir = args.positional()[1];

  std::vector<Order> order;
  for (const std::string& n : npy_names(ref_dir))
    if (glob_match(glob.c_str(), n.c_str())) order.push_back(pipeline_order(n));
  std::vector<std::string> extra;  // in OTHER_DIR only: reported, not an error
  for (const std::string& n : npy_names(other_dir))
    if (glob_match(glob.c_str(), n.c_str()) && !fs::exists(ref_dir / (n + ".npy"))) extra.push_back(n);
  if (order.empty()) fail(ref_dir.string() + ": no .npy files" + (glob == "*" ? std::string() : " matching '" + glob + "'"));
  std::sort(order.begin(), order.end());
  std::sort(extra.begin(), extra.end());

  std::printf("%-22s %-16s %12s %12s %9s\n", "activation", "shape", "max abs err", "rel err", "worst row");
  int bad = 0;
  std::string first_over;
  for (const Order& o : order) {
    const std::string& name = o.name;
    const fs::path pa = ref_dir / (name + ".npy"), pb = other_dir / (name + ".npy");
    std::printf("%-22s ", name.c_str());
    if (!fs::exists(pb)) {
      std::printf("missing: %s\n", pb.string().c_str());
      bad++;
      continue;
    }
    NpyArray na, nb;
    std::vector<float> a, b;
    try {
      na = read_npy(pa.string());
      a = na.to_f32();
      nb = read_npy(pb.string());
      b = nb.to_f32();
    } catch (const Error& e) {  // read_npy's message names the file
      std::printf("bad .npy: %s\n", e.what());
      bad++;
      continue;
    }
    if (na.shape != nb.shape) {
      std::printf("shape mismatch: %s in %s, %s in %s\n", shape_str(na.shape).c_str(), ref_dir.string().c_str(),
                  shape_str(nb.shape).c_str(), other_dir.string().c_str());
      bad++;
      continue;
    }
    const size_t row_len = na.shape.empty() ? 1 : static_cast<size_t>(na.shape.back());
    const Stats s = compare(a, b, row_len);
    std::printf("%-16s %12.4g %12.4g %9zu", shape_str(na.shape).c_str(), s.max_abs, s.rel, s.worst_row);
    if (s.rel <= rtol) {
      std::printf("\n");
    } else {
      std::printf("  OVER%s\n", first_over.empty() ? "  <- first over tolerance" : "");
      if (first_over.empty()) first_over = name;
      bad++;
    }
  }
  for (const std::string& n : extra) std::printf("%-22s only in %s (not compared)\n", n.c_str(), other_dir.string().c_str());
  if (bad) {
    std::printf("%d of %zu activations differ (relative tolerance %g)", bad, order.size(), rtol);
    if (!first_over.empty()) std::printf("; first over tolerance: %s", first_over.c_str());
    std::printf("\n");
    return 1;
  }
  std::printf("all %zu activations within relative tolerance %g\n", order.size(), rtol);
  return 0;
}

}  // namespace tgv::cli
