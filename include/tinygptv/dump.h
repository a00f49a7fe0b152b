// Named activations. Every forward function takes a `const DumpFn&`; when it is set
// it is called with each intermediate the interface.md dump table names
// ("vision.block.3", "llm.layer.0", ...), shape in PyTorch order. An empty DumpFn
// costs nothing. `tinygptv dump` passes one that writes DIR/<name>.npy.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tgv {

using DumpFn = std::function<void(const std::string& name, const float* data, const std::vector<int64_t>& shape)>;

DumpFn npy_dumper(const std::string& dir);  // writes dir/<name>.npy (src/core/dump.cpp)

}  // namespace tgv
