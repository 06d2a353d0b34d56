/*
 * The host TF32 model (tf32_round_host.h) against the GPU's cvt.rna.tf32.f32 as the library
 * issues it (gemm/tf32_round.cuh), bit for bit: the reference of every DEFAULT-math test is only
 * as right as this model. About 1.2 million patterns: every sign x exponent with mantissas at the
 * rounding edges, a million random bit patterns, and, drawn on purpose because random bits rarely
 * hit them, exact ties, subnormals and NaNs. A NaN must stay a NaN (its payload may change).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "tests/check_main.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"
#include "tests/tf32_round_host.h"
#include "tests/tf32_round_kernel.h"

enum {
  kRandomPatterns = 1000000,
  kTiePatterns = 100000,
  kSubnormalPatterns = 100000,
  kNanPatterns = 10000
};

static int is_nan_bits(uint32_t b) { return (b & 0x7FFFFFFFu) > 0x7F800000u; }

typedef struct patterns {
  uint32_t* bits;
  size_t count;
} patterns_t;

static void push(patterns_t* p, uint32_t bits) { p->bits[p->count++] = bits; }

static patterns_t make_patterns(uint64_t seed) {
  /* Kept 10 mantissa bits and dropped 13 bits at the edges of each rounding decision. */
  static const uint32_t kKept[] = {0x000, 0x001, 0x155, 0x200, 0x3FE, 0x3FF};
  static const uint32_t kDropped[] = {0x0000, 0x0001, 0x0800, 0x0FFF, 0x1000, 0x1001, 0x1FFF};
  const size_t structured = 2 * 256 * 6 * 7;
  patterns_t p;
  p.count = 0;
  p.bits = malloc((structured + kRandomPatterns + kTiePatterns + kSubnormalPatterns +
                   kNanPatterns) * sizeof(uint32_t));
  ck_assert_ptr_nonnull(p.bits);
  for (uint32_t sign = 0; sign < 2; ++sign)
    for (uint32_t exponent = 0; exponent < 256; ++exponent)
      for (int k = 0; k < 6; ++k)
        for (int d = 0; d < 7; ++d)
          push(&p, sign << 31 | exponent << 23 | kKept[k] << 13 | kDropped[d]);
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  for (int i = 0; i < kRandomPatterns; ++i) push(&p, (uint32_t)test_rng_next(&rng));
  /* Exact ties: any sign, exponent and kept bits, dropped bits exactly half an ulp. */
  for (int i = 0; i < kTiePatterns; ++i)
    push(&p, ((uint32_t)test_rng_next(&rng) & 0xFFFFE000u) | 0x1000u);
  /* Subnormals: exponent 0, any sign and mantissa. */
  for (int i = 0; i < kSubnormalPatterns; ++i)
    push(&p, (uint32_t)test_rng_next(&rng) & 0x807FFFFFu);
  /* NaNs: exponent 255, any sign, nonzero mantissa. */
  for (int i = 0; i < kNanPatterns; ++i) {
    const uint32_t r = (uint32_t)test_rng_next(&rng);
    push(&p, (r & 0x807FFFFFu) | 0x7F800000u | ((r & 0x007FFFFFu) == 0 ? 1u : 0u));
  }
  return p;
}

START_TEST(test_device_rounding_matches_host_model) {
  const patterns_t p = make_patterns(test_base_seed(20240601));
  size_t ties = 0, subnormals = 0, nans = 0, infs = 0;
  for (size_t i = 0; i < p.count; ++i) {
    const uint32_t m = p.bits[i] & 0x7FFFFFFFu;
    ties += m < 0x7F800000u && (m & 0x1FFFu) == 0x1000u;
    subnormals += m != 0 && m < 0x00800000u;
    nans += m > 0x7F800000u;
    infs += m == 0x7F800000u;
  }
  /* The hard cases really are in the set. */
  ck_assert_uint_ge(ties, kTiePatterns);
  ck_assert_uint_ge(subnormals, kSubnormalPatterns);
  ck_assert_uint_ge(nans, kNanPatterns);
  ck_assert_uint_ge(infs, 2);

  uint32_t *d_in = NULL, *d_out = NULL;
  const size_t bytes = p.count * sizeof(uint32_t);
  CK_CUDA(cudaMalloc((void**)&d_in, bytes));
  CK_CUDA(cudaMalloc((void**)&d_out, bytes));
  CK_CUDA(cudaMemcpy(d_in, p.bits, bytes, cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemset(d_out, 0, bytes));
  CK_CUDA(tf32_round_kernel_launch(d_in, d_out, p.count, NULL));
  CK_CUDA(cudaDeviceSynchronize());
  uint32_t* got = malloc(bytes);
  ck_assert_ptr_nonnull(got);
  CK_CUDA(cudaMemcpy(got, d_out, bytes, cudaMemcpyDeviceToHost));

  /* Finite and infinite inputs must match bit for bit; NaN inputs must stay NaN. Counted apart,
   * so a failure says which rule broke. */
  size_t bad_finite = 0, bad_nan = 0, first_finite = 0, first_nan = 0;
  for (size_t i = 0; i < p.count; ++i) {
    const uint32_t want = tf32_round_rna_host_bits(p.bits[i]);
    if (is_nan_bits(p.bits[i])) {
      if (!is_nan_bits(got[i]) && bad_nan++ == 0) first_nan = i;
    } else if (got[i] != want && bad_finite++ == 0) {
      first_finite = i;
    }
  }
  ck_assert_msg(bad_finite == 0,
                "%zu of %zu non-NaN patterns differ from the host model; first: in 0x%08x, "
                "device 0x%08x, host model 0x%08x",
                bad_finite, p.count, p.bits[first_finite], got[first_finite],
                tf32_round_rna_host_bits(p.bits[first_finite]));
  ck_assert_msg(bad_nan == 0,
                "%zu of %zu NaN patterns did not stay NaN on the device; first: in 0x%08x -> "
                "device 0x%08x (its payload is %s)",
                bad_nan, nans, p.bits[first_nan], got[first_nan],
                (p.bits[first_nan] & 0x007FE000u) == 0 ? "only in the 13 bits TF32 drops"
                                                        : "in the kept bits");
  CK_CUDA(cudaFree(d_in));
  CK_CUDA(cudaFree(d_out));
  free(got);
  free(p.bits);
}
END_TEST

static Suite* tf32_suite(void) {
  Suite* s = suite_create("gpu_tf32_round");
  TCase* tc = tcase_create("cvt_rna_tf32");
  tcase_add_test(tc, test_device_rounding_matches_host_model);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(tf32_suite(), CK_NOFORK); }
