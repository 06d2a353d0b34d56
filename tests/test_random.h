/*
 * Seeded random numbers for the tests, reproducible on every machine (splitmix64), and inputs
 * drawn the way PyTorch draws them for nn.Conv2d: x like torch.rand (uniform [0, 1) in steps of
 * 2^-24), w and bias like the layer's default init, uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
 * fan_in = C/G*R*S. Real-looking magnitudes keep the tolerances meaningful; random values (never a
 * zero-filled buffer) make a skipped term or a wrong index show.
 */
#ifndef CONVGEMM_TESTS_TEST_RANDOM_H_
#define CONVGEMM_TESTS_TEST_RANDOM_H_

#include <stdint.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct test_rng {
  uint64_t state;
} test_rng_t;

void test_rng_seed(test_rng_t* rng, uint64_t seed);

/* 64 random bits. */
uint64_t test_rng_next(test_rng_t* rng);

/* Uniform integer in [lo, hi] (inclusive; lo <= hi). */
int64_t test_rng_int(test_rng_t* rng, int64_t lo, int64_t hi);

/* Uniform [0, 1) in steps of 2^-24, as torch.rand gives for float32. */
float test_rng_unit(test_rng_t* rng);

/* Uniform [-bound, bound). */
float test_rng_symmetric(test_rng_t* rng, float bound);

/* Fills x (N*C*H*W), w (K*C/G*R*S) and, if not NULL, bias (K) as described above. */
void test_fill_conv_inputs(test_rng_t* rng, const convgemm_conv2d_params_t* p, float* x, float* w,
                           float* bias);

/* The seed the random suites start from: $CONVGEMM_TEST_SEED if set (decimal), else `fallback`.
 * Failure messages print the seed of each case so it can be rerun. */
uint64_t test_base_seed(uint64_t fallback);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_TEST_RANDOM_H_ */
