// AVX2/FMA kernels: placeholder until the fast path lands (returns no set, so the
// scalar kernels are used).
#include "tinygptv/kernels.h"

namespace tgv {
const KernelSet* avx2_kernels() { return nullptr; }
}  // namespace tgv
