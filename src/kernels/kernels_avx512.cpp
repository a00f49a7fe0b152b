// AVX-512 kernels (F, BW, VL, DQ, VNNI): the same contract as the scalar set
// (kernels.h, scalar.cpp), 16 floats per instruction, tested against it (tests/kernels/).
//
// This file is compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
// (and AVX2, FMA, F16C) and must not run on a CPU without them: like kernels_avx2.cpp it
// only exports a constant table, kernel_set_avx512, which dispatch.cpp hands out after
// checking the CPU (kernel_sets.h). Where this set has no kernel of its own yet it uses
// the AVX2 one (every CPU with these AVX-512 parts has AVX2 and FMA).
#include "kernels/kernel_sets.h"
#include "tinygptv/kernels.h"

namespace tgv {

extern const KernelSet kernel_set_avx512 = {"avx512",  matmul_f32_avx2,   matmul_f16_avx2, matmul_bf16_avx2, dot_avx2,
                                            axpy_avx2, matmul_quant_avx512, true,           exp_sum_avx2};

}  // namespace tgv
