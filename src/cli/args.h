// Command-line arguments for the subcommands: `--name value` options, `--flag`
// switches and positionals, in any order. Text that starts with '-' is still a
// positional when it is not a known option name (so `tinygptv tokenize "-x"` works),
// and everything after `--` is positional.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tinygptv/tensor.h"

namespace tgv::cli {

class Args {
 public:
  // options: names that take a value ("--model"); switches: names that do not.
  Args(int argc, char** argv, std::set<std::string> options, std::set<std::string> switches);

  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  std::string required(const std::string& name) const;       // throws tgv::Error if absent
  double number_or(const std::string& name, double fallback) const;  // throws on non-numbers
  long integer_or(const std::string& name, long fallback) const;
  bool has(const std::string& name) const;                    // a switch or option given
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

// --kv-cache f32|f16 (default f32): the element type of the KV cache (Phi2State in
// phi2.h); anything else is a tgv::Error.
DType kv_cache_option(const Args& args);

}  // namespace tgv::cli
