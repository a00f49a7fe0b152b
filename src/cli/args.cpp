// See args.h.
#include "cli/args.h"

#include <charconv>
#include <cstdlib>

#include "tinygptv/error.h"

namespace tgv::cli {

Args::Args(int argc, char** argv, std::set<std::string> options, std::set<std::string> switches) {
  bool only_positional = false;
  for (int i = 0; i < argc; i++) {
    std::string a = argv[i];
    if (!only_positional && a == "--") { only_positional = true; continue; }
    if (!only_positional && options.count(a)) {
      if (i + 1 >= argc) fail("option " + a + " needs a value");
      values_[a] = argv[++i];
    } else if (!only_positional && switches.count(a)) {
      flags_.insert(a);
    } else if (!only_positional && a.size() > 2 && a.rfind("--", 0) == 0) {
      fail("unknown option " + a);
    } else {
      positional_.push_back(a);
    }
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  auto v = get(name);
  return v ? *v : fallback;
}

std::string Args::required(const std::string& name) const {
  auto v = get(name);
  if (!v) fail("missing required option " + name);
  return *v;
}

double Args::number_or(const std::string& name, double fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0') fail("option " + name + " wants a number, got '" + *v + "'");
  return d;
}

long Args::integer_or(const std::string& name, long fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  long n = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), n);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size()) fail("option " + name + " wants an integer, got '" + *v + "'");
  return n;
}

bool Args::has(const std::string& name) const { return flags_.count(name) || values_.count(name); }

DType kv_cache_option(const Args& args) {
  const std::string v = args.get_or("--kv-cache", "f32");
  if (v == "f32") return DType::F32;
  if (v == "f16") return DType::F16;
  fail("--kv-cache must be f32 or f16, not '" + v + "'");
}

}  // namespace tgv::cli
