/*
 * Seeded hostile convolution parameters for cpu_fuzz_test: a mix of small plausible
 * convolutions, valid ones pushed to the limits (2^31-1 sizes, huge padding, stride and dilation
 * on tiny tensors, filters exactly as large as the padded input or one larger), and any of those
 * with fields replaced by values from the edges of every check and of 32/64-bit arithmetic
 * (0, -1, 1, 2^31-1, 2^31, INT64_MIN, INT64_MAX, bad enum values, ...).
 */
#ifndef CONVGEMM_TESTS_FUZZ_PARAMS_H_
#define CONVGEMM_TESTS_FUZZ_PARAMS_H_

#include <stdint.h>

#include "conv/convgemm.h"
#include "tests/test_random.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A value from the edges: boundary constants, small numbers of either sign, powers of two and
 * their neighbours, or 64 random bits. */
int64_t fuzz_hostile_int64(test_rng_t* rng);

/* One set of parameters (any of them may be invalid); fills every field. */
void fuzz_params(test_rng_t* rng, convgemm_conv2d_params_t* p);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_FUZZ_PARAMS_H_ */
