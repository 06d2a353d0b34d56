/*
 * The wgmma wrapper and descriptors (gemm/wgmma_tf32.cuh) on their own, in the layouts
 * IMPLICIT_GEMM's WGMMA kernel uses (tests/wgmma_kernel.cu): a 64 x 8 x 128 TF32 product against
 * a float64 host product, for A descriptors starting 0..8 16-byte rows into the plane (a filter
 * tap's shift). Operands are TF32 values, so every product is exact and only the fp32 summation
 * of 8 terms (twice) differs from float64. Needs an sm_90 GPU; elsewhere it checks that the
 * launch refuses.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "tests/check_main.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"
#include "tests/tf32_round_host.h"
#include "tests/wgmma_kernel.h"

enum { kMaxShift = 8, kRowsA = WGMMA_TEST_M + kMaxShift };

START_TEST(test_wgmma_product_matches_host) {
  int device = 0, major = 0, minor = 0;
  CK_CUDA(cudaGetDevice(&device));
  CK_CUDA(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  CK_CUDA(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  float a[kRowsA * WGMMA_TEST_K], b[WGMMA_TEST_K * WGMMA_TEST_N];
  float d[WGMMA_TEST_M * WGMMA_TEST_N];
  test_rng_t rng;
  test_rng_seed(&rng, test_base_seed(0x3c9a));
  for (int i = 0; i < kRowsA * WGMMA_TEST_K; ++i)
    a[i] = tf32_round_rna_host(test_rng_symmetric(&rng, 1.0f));
  for (int i = 0; i < WGMMA_TEST_K * WGMMA_TEST_N; ++i)
    b[i] = tf32_round_rna_host(test_rng_symmetric(&rng, 1.0f));
  float *d_a, *d_b, *d_d;
  CK_CUDA(cudaMalloc((void**)&d_a, sizeof a));
  CK_CUDA(cudaMalloc((void**)&d_b, sizeof b));
  CK_CUDA(cudaMalloc((void**)&d_d, sizeof d));
  CK_CUDA(cudaMemcpy(d_a, a, sizeof a, cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(d_b, b, sizeof b, cudaMemcpyHostToDevice));
  if (major != 9 || minor != 0) {
    ck_assert_int_eq(wgmma_kernel_launch(d_a, 0, d_b, d_d, 0), cudaErrorNotSupported);
    printf("gpu_wgmma_test: device is sm_%d%d, wgmma needs sm_90: launch refusal checked only\n",
           major, minor);
  } else {
    for (int shift = 0; shift <= kMaxShift; ++shift) {
      CK_CUDA(cudaMemset(d_d, 0xFF, sizeof d)); /* NaN */
      CK_CUDA(wgmma_kernel_launch(d_a, shift, d_b, d_d, 0));
      CK_CUDA(cudaDeviceSynchronize());
      CK_CUDA(cudaMemcpy(d, d_d, sizeof d, cudaMemcpyDeviceToHost));
      for (int m = 0; m < WGMMA_TEST_M; ++m)
        for (int n = 0; n < WGMMA_TEST_N; ++n) {
          double want = 0.0, scale = 0.0;
          for (int k = 0; k < WGMMA_TEST_K; ++k) {
            const double p = (double)a[(m + shift) * WGMMA_TEST_K + k] * b[k * WGMMA_TEST_N + n];
            want += 2.0 * p;
            scale += 2.0 * fabs(p);
          }
          const double got = d[m * WGMMA_TEST_N + n];
          ck_assert_msg(fabs(got - want) <= 1e-6 * scale + 1e-30,
                        "shift %d: d[%d][%d] = %.9g, want %.9g", shift, m, n, got, want);
        }
    }
  }
  CK_CUDA(cudaFree(d_a));
  CK_CUDA(cudaFree(d_b));
  CK_CUDA(cudaFree(d_d));
}
END_TEST

static Suite* wgmma_suite(void) {
  Suite* s = suite_create("gpu_wgmma");
  TCase* tc = tcase_create("m64n128k8_tf32");
  tcase_add_test(tc, test_wgmma_product_matches_host);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(wgmma_suite(), CK_NOFORK); }
