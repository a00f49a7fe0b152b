// `tinygptv compare`: runs the built executable (TGV_BINARY) on dump directories made
// here with write_npy: equal dumps pass; a perturbed activation is reported with the
// relative error computed independently below, the first one over tolerance is
// named, and the exit status is 1; a missing file, a shape mismatch and a bad .npy
// are one line each; rows come in pipeline order (vision.block.2 before .10).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tinygptv/npy.h"

namespace fs = std::filesystem;

namespace {

struct Run {
  int status = -1;
  std::string out;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

Run compare(const std::string& args) {
  const fs::path out = fs::temp_directory_path() / ("tgv_compare_" + std::to_string(getpid()) + ".txt");
  const std::string cmd = std::string("\"") + TGV_BINARY + "\" compare " + args + " >\"" + out.string() + "\" 2>&1";
  const int st = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(out);
  fs::remove(out);
  return r;
}

std::string quoted(const fs::path& p) {
  std::string q;  // built with +=: GCC 12 warns falsely (-Wrestrict) on "\"" + string
  q += '"';
  q += p.string();
  q += '"';
  return q;
}

struct Activation {
  std::string name;
  std::vector<int64_t> shape;
};

// A small dump with every pipeline stage, written in scrambled order.
const std::vector<Activation> kDump = {
    {"llm.logits", {6, 11}},     {"vision.block.10", {5, 8}}, {"qformer.layer.1", {4, 8}}, {"vision.pixels", {3, 4, 4}},
    {"llm.layer.2", {6, 8}},     {"vision.block.2", {5, 8}},  {"projector.fc2", {4, 8}},   {"llm.embeds", {6, 8}},
    {"vision.embed", {5, 8}},    {"llm.layer.0", {6, 8}},     {"qformer.embed", {4, 8}},   {"projector.fc1", {4, 16}},
    {"llm.final_norm", {6, 8}},  {"vision.ln", {5, 8}},       {"llm.layer.1", {6, 8}},     {"qformer.layer.0", {4, 8}},
};
const std::vector<std::string> kPipelineOrder = {
    "vision.pixels", "vision.embed",  "vision.block.2", "vision.block.10", "vision.ln",   "qformer.embed",
    "qformer.layer.0", "qformer.layer.1", "projector.fc1", "projector.fc2", "llm.embeds", "llm.layer.0",
    "llm.layer.1",   "llm.layer.2",   "llm.final_norm", "llm.logits"};

size_t numel(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

struct Dirs {
  fs::path root, ref, other;
  Dirs() {
    root = fs::temp_directory_path() / ("tgv_compare_dirs_" + std::to_string(getpid()));
    ref = root / "ref";
    other = root / "other";
    fs::create_directories(ref);
    fs::create_directories(other);
    std::mt19937 rng(7);
    std::normal_distribution<float> nd;
    for (const auto& a : kDump) {
      std::vector<float> v(numel(a.shape));
      for (float& x : v) x = nd(rng);
      tgv::write_npy((ref / (a.name + ".npy")).string(), v.data(), a.shape);
      tgv::write_npy((other / (a.name + ".npy")).string(), v.data(), a.shape);
    }
  }
  ~Dirs() { fs::remove_all(root); }
  std::string args() const { return quoted(ref) + " " + quoted(other); }
};

// The output line of one activation.
std::string line_of(const std::string& out, const std::string& name) {
  std::istringstream s(out);
  for (std::string l; std::getline(s, l);)
    if (l.compare(0, name.size() + 1, name + " ") == 0) return l;
  return "";
}

}  // namespace

TEST_CASE("compare: equal dumps pass, rows in pipeline order") {
  REQUIRE_MESSAGE(fs::exists(TGV_BINARY), TGV_BINARY " is not built");
  Dirs d;
  const Run r = compare(d.args());
  INFO(r.out);
  CHECK(r.status == 0);
  size_t pos = 0;
  for (const std::string& name : kPipelineOrder) {
    const size_t at = r.out.find("\n" + name + " ", pos);
    CHECK_MESSAGE(at != std::string::npos, name << " missing or out of pipeline order");
    if (at != std::string::npos) pos = at;
    CHECK(line_of(r.out, name).find("OVER") == std::string::npos);
  }
  CHECK(r.out.find("all 16 activations within") != std::string::npos);
}

TEST_CASE("compare: a perturbed activation is reported and the first one named") {
  Dirs d;
  // Perturb llm.layer.1 (row 3) and, more strongly, llm.logits: layer 1 comes first.
  std::vector<float> ref = tgv::read_npy((d.ref / "llm.layer.1.npy").string()).to_f32();
  std::vector<float> other = ref;
  other[3 * 8 + 5] += 0.5f;
  tgv::write_npy((d.other / "llm.layer.1.npy").string(), other.data(), {6, 8});
  std::vector<float> logits = tgv::read_npy((d.ref / "llm.logits.npy").string()).to_f32();
  for (float& x : logits) x *= 1.5f;
  tgv::write_npy((d.other / "llm.logits.npy").string(), logits.data(), {6, 11});
  double ref2 = 0;
  for (float x : ref) ref2 += static_cast<double>(x) * x;
  const double expected_rel = 0.5 / std::sqrt(ref2);

  const Run r = compare(d.args());
  INFO(r.out);
  CHECK(r.status == 1);
  const std::string l1 = line_of(r.out, "llm.layer.1");
  CHECK(l1.find("first over tolerance") != std::string::npos);
  CHECK(line_of(r.out, "llm.logits").find("OVER") != std::string::npos);
  CHECK(line_of(r.out, "llm.logits").find("first") == std::string::npos);
  CHECK(line_of(r.out, "llm.layer.0").find("OVER") == std::string::npos);
  CHECK(r.out.find("first over tolerance: llm.layer.1") != std::string::npos);
  // columns: name shape... max-abs rel worst-row
  std::istringstream cols(l1.substr(l1.find(']') + 1));
  double max_abs = 0, rel = 0;
  size_t row = 0;
  cols >> max_abs >> rel >> row;
  CHECK(max_abs == doctest::Approx(0.5).epsilon(1e-3));
  CHECK(rel == doctest::Approx(expected_rel).epsilon(1e-3));
  CHECK(row == 3);

  SUBCASE("a looser --rtol accepts it") {
    CHECK(compare(d.args() + " --rtol 10").status == 0);
  }
  SUBCASE("--names selects activations") {
    const Run v = compare(d.args() + " --names 'vision.*'");
    INFO(v.out);
    CHECK(v.status == 0);
    CHECK(line_of(v.out, "llm.layer.1").empty());
    CHECK(!line_of(v.out, "vision.block.10").empty());
  }
}

TEST_CASE("compare: a missing file, a shape mismatch, a bad .npy: one line each") {
  Dirs d;
  fs::remove(d.other / "qformer.embed.npy");
  const std::vector<float> wrong(5 * 9, 0.f);
  tgv::write_npy((d.other / "vision.ln.npy").string(), wrong.data(), {5, 9});
  std::ofstream((d.other / "projector.fc1.npy").string()) << "not a numpy file";
  const Run r = compare(d.args());
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(line_of(r.out, "qformer.embed").find("missing") != std::string::npos);
  CHECK(line_of(r.out, "vision.ln").find("shape mismatch: [5, 8]") != std::string::npos);
  CHECK(line_of(r.out, "vision.ln").find("[5, 9]") != std::string::npos);
  CHECK(line_of(r.out, "projector.fc1").find("bad .npy") != std::string::npos);
  CHECK(line_of(r.out, "projector.fc1").find("projector.fc1.npy") != std::string::npos);
  CHECK(line_of(r.out, "projector.fc2").find("OVER") == std::string::npos);  // the others still compared
  CHECK(r.out.find("3 of 16 activations differ") != std::string::npos);
}

TEST_CASE("compare: bad usage") {
  Dirs d;
  CHECK(compare(quoted(d.ref)).status == 2);
  const Run r = compare(quoted(d.ref) + " " + quoted(d.root / "nonexistent"));
  CHECK(r.status == 1);
  CHECK(r.out.find("not a directory") != std::string::npos);
  CHECK(compare(d.args() + " --rtol abc").status == 1);
}
