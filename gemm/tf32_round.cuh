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

// x rounded to TF32 (10 mantissa bits) to nearest, ties away from zero; low 13 bits zero. This is
// cvt.rna.tf32.f32's result for every finite and infinite x: adding half the weight of the 13
// dropped bits to the sign-magnitude bits and truncating rounds the magnitude half away from
// zero, a carry out of the mantissa bumps the exponent (from the largest binade onto Inf), and
// Inf stays Inf. ptxas has no single instruction for cvt.rna.tf32 on sm_90 and emits a 4-
// instruction sequence; with the NaN handling below that was 7 per value, this is 4 (the
// in-kernel rounding of the window is a large part of IMPLICIT_GEMM's producer work). A NaN comes
// back as a NaN (exponent all ones, quiet bit set; the add may have carried into the sign, which a
// NaN does not care about): cvt.rna turns a NaN whose payload lies only in the dropped bits
// (0x7F800001) into Inf (measured on an H200), and a tensor core reading the raw fp32 bits as TF32
// would do the same; with bit 22 set every TF32 consumer sees a NaN.
__device__ __forceinline__ float tf32_round_rna(float x) {
  const uint32_t nan_bits = x != x ? 0x7FC00000u : 0u;
  return __uint_as_float(((__float_as_uint(x) + 0x1000u) & 0xFFFFE000u) | nan_bits);
}

// x = big + small + O(2^-22 |x|), both TF32 (3xTF32: small*big + big*small + big*big is an
// fp32-accurate product). A non-finite x keeps all of itself in big (small 0: x - big would be
// NaN for an Inf), and a finite x whose rounding would overflow is truncated instead, so big
// stays finite and small carries the rest.
// Selects, not branches: the producers split 20 values in a row, and a branch per value kept
// ptxas from interleaving them (log step 54).
__device__ __forceinline__ void tf32_split(float x, float& big, float& small) {
  const float rounded = tf32_round_rna(x);
  const float truncated = __uint_as_float(__float_as_uint(x) & 0xFFFFE000u);
  const bool finite = fabsf(x) <= 3.402823466e38f;  // false for Inf and NaN
  big = finite && fabsf(rounded) > 3.402823466e38f ? truncated : rounded;
  small = finite ? tf32_round_rna(x - big) : 0.0f;
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_TF32_ROUND_CUH_
