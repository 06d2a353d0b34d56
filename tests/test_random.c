/* Seeded random numbers and PyTorch-like conv inputs (test_random.h). */
#include "tests/test_random.h"

#include <math.h>
#include <stdlib.h>

void test_rng_seed(test_rng_t* rng, uint64_t seed) { rng->state = seed; }

/* splitmix64 (Steele, Lea, Flood 2014): one add and a mix; every seed gives a good stream. */
uint64_t test_rng_next(test_rng_t* rng) {
  uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int64_t test_rng_int(test_rng_t* rng, int64_t lo, int64_t hi) {
  const uint64_t span = (uint64_t)(hi - lo) + 1;
  /* The modulo bias is below 2^-40 for the small spans the tests draw from. */
  return lo + (int64_t)(test_rng_next(rng) % span);
}

float test_rng_unit(test_rng_t* rng) {
  return (float)(test_rng_next(rng) >> 40) * 0x1p-24f; /* exact: 24 bits times a power of 2 */
}

float test_rng_symmetric(test_rng_t* rng, float bound) {
  return (float)((2.0 * (double)test_rng_unit(rng) - 1.0) * (double)bound);
}

void test_fill_conv_inputs(test_rng_t* rng, const convgemm_conv2d_params_t* p, float* x, float* w,
                           float* bias) {
  const int64_t c_per_group = p->c / p->groups;
  const int64_t x_elems = p->n * p->c * p->h * p->w;
  const int64_t w_elems = p->k * c_per_group * p->r * p->s;
  const float bound = (float)(1.0 / sqrt((double)(c_per_group * p->r * p->s)));
  for (int64_t i = 0; i < x_elems; ++i) x[i] = test_rng_unit(rng);
  for (int64_t i = 0; i < w_elems; ++i) w[i] = test_rng_symmetric(rng, bound);
  if (bias != NULL)
    for (int64_t i = 0; i < p->k; ++i) bias[i] = test_rng_symmetric(rng, bound);
}

uint64_t test_base_seed(uint64_t fallback) {
  const char* env = getenv("CONVGEMM_TEST_SEED");
  if (env == NULL || *env == '\0') return fallback;
  char* end = NULL;
  const unsigned long long seed = strtoull(env, &end, 10);
  return (end != NULL && *end == '\0') ? (uint64_t)seed : fallback;
}
