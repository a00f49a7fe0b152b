// Internal: the KernelSet tables defined in the per-ISA files.
//
// Each per-ISA file (kernels_avx2.cpp, kernels_neon.cpp) is compiled with its own
// instruction-set flags, so NO code from it may run before the CPU has been checked.
// That is why each exports a constant-initialised table (no start-up code at all)
// and the detection lives in the portable dispatch.cpp, which hands out the table's
// address only when the CPU can run it.
#pragma once
#include "tinygptv/kernels.h"

namespace tgv {

#ifdef TGV_HAVE_AVX2
extern const KernelSet kernel_set_avx2;  // kernels_avx2.cpp: needs AVX2 + FMA + F16C
#endif
#ifdef TGV_HAVE_NEON
extern const KernelSet kernel_set_neon;  // kernels_neon.cpp: AArch64 (NEON is mandatory there)
#endif

}  // namespace tgv
