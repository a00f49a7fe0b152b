// `tinygptv info --model M.safetensors`: what a model file holds -- its config (one
// line per section) and a table of tensors (name, dtype, shape, bytes), then the
// totals. Works on any safetensors file; a file without a tinygptv config says so.
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "tinygptv/error.h"
#include "tinygptv/model_file.h"
#include "tinygptv/safetensors.h"

namespace tgv::cli {

int cmd_info(int argc, char** argv) {
  Args args(argc, argv, {"--model"}, {});
  std::string path;
  if (auto m = args.get("--model")) path = *m;
  else if (args.positional().size() == 1) path = args.positional()[0];
  else fail("usage: tinygptv info --model M.safetensors");
  const SafetensorsFile file(path);

  std::printf("file: %s\n", path.c_str());
  auto it = file.metadata().find("config");
  if (it == file.metadata().end()) {
    std::printf("config: none (not a tinygptv model file)\n");
  } else {
    ModelConfig config;
    try {
      config = ModelConfig::from_json(Json::parse(it->second));
    } catch (const Error& e) {
      fail(path + ": " + e.what());
    }
    const Json j = config.to_json();
    std::printf("config:\n");
    for (const auto& [section, values] : j.as_object()) std::printf("  %-10s %s\n", section.c_str(), values.dump().c_str());
  }
  for (const auto& [k, v] : file.metadata())
    if (k != "config") std::printf("metadata %s: %s\n", k.c_str(), v.c_str());

  size_t name_width = 4;
  for (const Tensor& t : file.tensors()) name_width = t.name.size() > name_width ? t.name.size() : name_width;
  std::printf("\n%-*s  %-5s  %-20s  %s\n", static_cast<int>(name_width), "name", "dtype", "shape", "bytes");
  size_t total = 0;
  int64_t params = 0;
  for (const Tensor& t : file.tensors()) {
    std::printf("%-*s  %-5s  %-20s  %zu\n", static_cast<int>(name_width), t.name.c_str(), dtype_name(t.dtype),
                shape_str(t.shape).c_str(), t.nbytes());
    total += t.nbytes();
    params += t.numel();
  }
  std::printf("\n%zu tensors, %lld parameters, %zu bytes (%.1f MB)\n", file.tensors().size(), static_cast<long long>(params),
              total, static_cast<double>(total) / 1e6);
  return 0;
}

}  // namespace tgv::cli
