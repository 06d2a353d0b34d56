/*
 * TF32 rounding of an fp32 operand, the one every convgemm algorithm applies in DEFAULT math.
 *
 * NOTES: cuDNN's NCHW TF32 path rounds both operands to nearest, ties away from zero (PTX
 * cvt.rna.tf32.f32): an fp64 convolution of rna-rounded operands matches it to 2.9e-6 where
 * ties-to-even is 5.9e-5 off and truncation 1.3e-3. With both operands rounded, each product
 * has at most 22 significant bits and is exact in fp32, so only the summation order differs.
 */
#ifndef CONVGEMM_GEMM_TF32_ROUND_CUH_
#define CONVGEMM_GEMM_TF32_ROUND_CUH_

#include <cstdint>

namespace convgemm {

// x rounded to TF32 (10 mantissa bits) to nearest, ties away from zero; low 13 bits zero.
// Inf passes through and values past TF32's range round to Inf, as cvt.rna does. A NaN comes
// back as a NaN with its quiet bit (mantissa bit 22) set: cvt.rna clears the low 13 bits, which
// turns a NaN whose payload lies only there (0x7F800001) into Inf (measured on an H200), and a
// tensor core reading the raw fp32 bits as TF32 would do the same; with bit 22 set every TF32
// consumer sees a NaN.
// Branch-free (a select, not a branch around the conversion): the shared-memory rounding passes
// round whole rows per warp, where a branch per element costs more than the conversion.
__device__ __forceinline__ float tf32_round_rna(float x) {
  uint32_t bits;
  asm("{\n\t.reg .pred is_nan;\n\t"
      "cvt.rna.tf32.f32 %0, %1;\n\t"
      "setp.nan.f32 is_nan, %1, %1;\n\t"
      "selp.b32 %0, %2, %0, is_nan;\n\t}"
      : "=r"(bits)
      : "f"(x), "r"(__float_as_uint(x) | 0x00400000u));
  return __uint_as_float(bits);
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_TF32_ROUND_CUH_
