/*
 * The 16-bit data types on the host, for the tests: float16 (IEEE binary16: 1 sign, 5 exponent,
 * 10 mantissa bits) and bfloat16 (1, 8, 7: a float's top 16 bits), converted to and from float
 * the way the GPU does it (cvt.rn: round to nearest, ties to even; Inf past the range; NaN stays
 * NaN). Every 16-bit value is exactly a float, so a test draws float inputs, rounds them to the
 * type once (test_round_to_type), uploads their 16-bit encodings and computes its float64
 * reference from the rounded floats: the reference then sees exactly what the GPU read.
 * cpu_reference_test checks these against an independent float64 rounding and every encoding.
 */
#ifndef CONVGEMM_TESTS_ELEM_TYPE_HOST_H_
#define CONVGEMM_TESTS_ELEM_TYPE_HOST_H_

#include <stddef.h>
#include <stdint.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes per element: 4 for float32, 2 for float16 and bfloat16. */
size_t test_elem_bytes(convgemm_data_type_t type);

/* "float32", "float16", "bfloat16". */
const char* test_type_name(convgemm_data_type_t type);

/* The encodings, rounding to nearest even. */
uint16_t test_float_to_half_bits(float v);
float test_half_bits_to_float(uint16_t bits);
uint16_t test_float_to_bf16_bits(float v);
float test_bf16_bits_to_float(uint16_t bits);

/* v rounded to `type` (the identity for float32), as a float. */
float test_round_to_type(float v, convgemm_data_type_t type);

/* Rounds count floats in place to `type`. */
void test_round_array_to_type(float* values, int64_t count, convgemm_data_type_t type);

/* count floats encoded as `type` into dst (count * test_elem_bytes(type) bytes; rounded on the
 * way: for values already of the type, exact). */
void test_encode(const float* src, int64_t count, convgemm_data_type_t type, void* dst);

/* count elements of `type` at src decoded into floats (exact). */
void test_decode(const void* src, int64_t count, convgemm_data_type_t type, float* dst);

/* The type's unit roundoff: half an ulp at 1, the largest relative error of one rounding to
 * nearest in the normal range: 2^-24 (float32), 2^-11 (float16), 2^-8 (bfloat16). */
double test_unit_roundoff(convgemm_data_type_t type);

/* Half the type's smallest subnormal: the largest absolute error of one rounding below the
 * normal range: 2^-150, 2^-25, 2^-134. */
double test_subnormal_half_step(convgemm_data_type_t type);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_ELEM_TYPE_HOST_H_ */
