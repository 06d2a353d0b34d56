/*
 * A bit-exact host model of PTX `cvt.rna.tf32.f32`, the rounding convgemm applies to both operands
 * in CONVGEMM_MATH_DEFAULT (gemm/tf32_round.cuh). The float64 reference uses it to round x and w
 * exactly as the GPU does, so a DEFAULT-mode result differs from the reference only by the order
 * of fp32 additions; gpu_tf32_round_test checks the model against the hardware bit for bit.
 *
 * The rule: round the fp32 value to 10 mantissa bits, to nearest, ties away from zero; the low
 * 13 bits of the result are zero. NaN stays NaN, +-Inf stays +-Inf, values past the largest TF32
 * (0x7F7FE000) round to Inf, subnormals are rounded the same way on their bits (never flushed).
 *
 * NOTES: "NaN stays NaN" is the library's promise (gemm/tf32_round.cuh: "NaN and Inf pass
 * through") and PyTorch's semantics, and the model keeps a NaN's bits as they are. The bare
 * instruction does not quite keep it: measured on an H200 (driver 580) over all 2^24 patterns
 * with exponent 255, cvt.rna.tf32.f32 returns bits & 0xFFFFE000 there, so a NaN whose payload
 * lies only in the 13 dropped bits (e.g. 0x7F800001) comes out as Inf. gpu_tf32_round_test and
 * gpu_nonfinite_test fail on that until the library guards NaNs; the test compares only NaN-ness
 * for NaN inputs, bits for everything else.
 */
#ifndef CONVGEMM_TESTS_TF32_ROUND_HOST_H_
#define CONVGEMM_TESTS_TF32_ROUND_HOST_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The rounding on the fp32 bit pattern. */
uint32_t tf32_round_rna_host_bits(uint32_t bits);

/* The same on a float. */
float tf32_round_rna_host(float x);

/* The bits of a float and the float of bits (memcpy, no aliasing tricks). */
uint32_t float_to_bits(float x);
float bits_to_float(uint32_t bits);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_TF32_ROUND_HOST_H_ */
