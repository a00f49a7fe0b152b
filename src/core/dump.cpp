// See include/tinygptv/dump.h.
#include "tinygptv/dump.h"

#include "tinygptv/npy.h"

namespace tgv {

DumpFn npy_dumper(const std::string& dir) {
  return [dir](const std::string& name, const float* data, const std::vector<int64_t>& shape) {
    write_npy(dir + "/" + name + ".npy", data, shape);
  };
}

}  // namespace tgv
