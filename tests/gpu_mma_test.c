/*
 * The tensor-core wrappers other than the TF32 wgmma (gpu_wgmma_test) on their own, each against
 * a float64 host product (tests/mma_kernel.cu):
 *   mma.sync m16n8k8 TF32 (gemm/mma_tf32.cuh) and m16n8k16 float16 / bfloat16
 *   (gemm/mma_16bit.cuh): one warp, d = a b + c for 16 x K x 8 with K one instruction's k and 64
 *   (a chain of instructions accumulating in registers that start at c), every fragment loaded
 *   as the header documents it: a wrong row, column, k pair or half of a pair moves d by a whole
 *   product;
 *   the 16-bit wgmma m64n128k16 (gemm/wgmma_16bit.cuh): one warpgroup, d = 2 a b for
 *   64 x 16 x 128 in IMPLICIT_GEMM's 16-bit shared layouts, for A descriptors starting 0..8
 *   16-byte rows into the plane (a filter tap's shift), a non-accumulating wgmma into NaN
 *   accumulators (scale-d 0) then an accumulating one.
 * Operands are TF32 or 16-bit values, so every product is exact in fp32 and only the tensor
 * core's fp32 summation differs from float64. d starts NaN in device memory: every element must
 * have been written. mma.sync needs sm_80 and the wgmma sm_90; elsewhere the test checks that the
 * launch refuses.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "tests/check_main.h"
#include "tests/elem_type_host.h"
#include "tests/mma_kernel.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"
#include "tests/tf32_round_host.h"

enum {
  kMaxK = 64,
  kRowsA16 = WGMMA16_TEST_M + WGMMA16_TEST_MAX_SHIFT /* wgmma a rows: the largest shift's */
};

static const convgemm_data_type_t kTypes16[] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};

static void compute_capability(int* major, int* minor) {
  int device = 0;
  CK_CUDA(cudaGetDevice(&device));
  CK_CUDA(cudaDeviceGetAttribute(major, cudaDevAttrComputeCapabilityMajor, device));
  CK_CUDA(cudaDeviceGetAttribute(minor, cudaDevAttrComputeCapabilityMinor, device));
}

/* A device copy of `bytes` bytes at `host`. */
static void* to_device(const void* host, size_t bytes) {
  void* p = NULL;
  CK_CUDA(cudaMalloc(&p, bytes));
  CK_CUDA(cudaMemcpy(p, host, bytes, cudaMemcpyHostToDevice));
  return p;
}

/* The bound on |got - want| for a sum of `terms` exact products (and c) whose magnitudes add up
 * to `scale`. fp32 summation rounding to nearest loses at most (terms + 1) 2^-24 scale; tensor
 * cores align each instruction's terms to the largest and truncate (round toward zero), up to an
 * ulp per term, and normalize the block sum once more: 2 (terms + 1) 2^-23 covers that. It stays
 * below 2e-5 of the scale for 64 terms, while one misplaced operand moves d by about scale / terms. */
static double sum_tolerance(int terms, double scale) {
  return 2.0 * (terms + 1) * 0x1p-23 * scale + 1e-30;
}

/* Checks d (16 x 8) = a (16 x k) b (k x 8) + c against float64. */
static void check_mma_result(const char* what, uint64_t seed, int k, const float* a,
                             const float* b, const float* c, const float* d) {
  for (int m = 0; m < MMA_TEST_M; ++m)
    for (int n = 0; n < MMA_TEST_N; ++n) {
      double want = c[m * MMA_TEST_N + n], scale = fabs(want);
      for (int kk = 0; kk < k; ++kk) {
        const double p = (double)a[m * k + kk] * b[kk * MMA_TEST_N + n];
        want += p;
        scale += fabs(p);
      }
      const double got = d[m * MMA_TEST_N + n];
      ck_assert_msg(!isnan(got), "%s, K %d, seed %llu: d[%d][%d] still NaN (not written)", what,
                    k, (unsigned long long)seed, m, n);
      ck_assert_msg(fabs(got - want) <= sum_tolerance(k, scale),
                    "%s, K %d, seed %llu: d[%d][%d] = %.9g, want %.9g (scale %.9g)", what, k,
                    (unsigned long long)seed, m, n, got, want, scale);
    }
}

/* Random c (16 x 8, any fp32 value). */
static void fill_c(test_rng_t* rng, float* c) {
  for (int i = 0; i < MMA_TEST_M * MMA_TEST_N; ++i) c[i] = test_rng_symmetric(rng, 1.0f);
}

START_TEST(test_mma_tf32_matches_host) {
  int major = 0, minor = 0;
  compute_capability(&major, &minor);
  static const int kKs[] = {8, kMaxK}; /* one instruction; a chain of 8 */
  for (int ki = 0; ki < 2; ++ki) {
    const int k = kKs[ki];
    float a[MMA_TEST_M * kMaxK], b[kMaxK * MMA_TEST_N], c[MMA_TEST_M * MMA_TEST_N],
        d[MMA_TEST_M * MMA_TEST_N];
    const uint64_t seed = test_base_seed(0x6d6d7466) + (uint64_t)k;
    test_rng_t rng;
    test_rng_seed(&rng, seed);
    for (int i = 0; i < MMA_TEST_M * k; ++i)
      a[i] = tf32_round_rna_host(test_rng_symmetric(&rng, 1.0f));
    for (int i = 0; i < k * MMA_TEST_N; ++i)
      b[i] = tf32_round_rna_host(test_rng_symmetric(&rng, 1.0f));
    fill_c(&rng, c);
    float* d_a = to_device(a, sizeof(float) * MMA_TEST_M * k);
    float* d_b = to_device(b, sizeof(float) * k * MMA_TEST_N);
    float* d_c = to_device(c, sizeof c);
    float* d_d = NULL;
    CK_CUDA(cudaMalloc((void**)&d_d, sizeof d));
    CK_CUDA(cudaMemset(d_d, 0xFF, sizeof d)); /* NaN */
    if (major < 8) {
      ck_assert_int_eq(mma_tf32_kernel_launch(d_a, d_b, d_c, d_d, k, 0), cudaErrorNotSupported);
      printf("gpu_mma_test: device is sm_%d%d, mma.sync needs sm_80: launch refusal checked only\n",
             major, minor);
    } else {
      CK_CUDA(mma_tf32_kernel_launch(d_a, d_b, d_c, d_d, k, 0));
      CK_CUDA(cudaDeviceSynchronize());
      CK_CUDA(cudaMemcpy(d, d_d, sizeof d, cudaMemcpyDeviceToHost));
      check_mma_result("mma m16n8k8 tf32", seed, k, a, b, c, d);
    }
    CK_CUDA(cudaFree(d_a));
    CK_CUDA(cudaFree(d_b));
    CK_CUDA(cudaFree(d_c));
    CK_CUDA(cudaFree(d_d));
  }
}
END_TEST

/* _i: kTypes16's index. */
START_TEST(test_mma_16bit_matches_host) {
  const convgemm_data_type_t type = kTypes16[_i];
  const int bf16 = type == CONVGEMM_DATA_BFLOAT16;
  int major = 0, minor = 0;
  compute_capability(&major, &minor);
  char what[64];
  snprintf(what, sizeof what, "mma m16n8k16 %s", test_type_name(type));
  static const int kKs[] = {16, kMaxK}; /* one instruction; a chain of 4 */
  for (int ki = 0; ki < 2; ++ki) {
    const int k = kKs[ki];
    float a[MMA_TEST_M * kMaxK], b[kMaxK * MMA_TEST_N], c[MMA_TEST_M * MMA_TEST_N],
        d[MMA_TEST_M * MMA_TEST_N];
    uint16_t a16[MMA_TEST_M * kMaxK], b16[kMaxK * MMA_TEST_N];
    const uint64_t seed = test_base_seed(0x6d6d3136) + 0x100u * (uint64_t)type + (uint64_t)k;
    test_rng_t rng;
    test_rng_seed(&rng, seed);
    for (int i = 0; i < MMA_TEST_M * k; ++i)
      a[i] = test_round_to_type(test_rng_symmetric(&rng, 1.0f), type);
    for (int i = 0; i < k * MMA_TEST_N; ++i)
      b[i] = test_round_to_type(test_rng_symmetric(&rng, 1.0f), type);
    fill_c(&rng, c);
    test_encode(a, MMA_TEST_M * k, type, a16);
    test_encode(b, k * MMA_TEST_N, type, b16);
    uint16_t* d_a = to_device(a16, sizeof(uint16_t) * MMA_TEST_M * k);
    uint16_t* d_b = to_device(b16, sizeof(uint16_t) * k * MMA_TEST_N);
    float* d_c = to_device(c, sizeof c);
    float* d_d = NULL;
    CK_CUDA(cudaMalloc((void**)&d_d, sizeof d));
    CK_CUDA(cudaMemset(d_d, 0xFF, sizeof d)); /* NaN */
    if (major < 8) {
      ck_assert_int_eq(mma_16bit_kernel_launch(bf16, d_a, d_b, d_c, d_d, k, 0),
                       cudaErrorNotSupported);
      printf("gpu_mma_test: device is sm_%d%d, mma.sync needs sm_80: launch refusal checked only\n",
             major, minor);
    } else {
      CK_CUDA(mma_16bit_kernel_launch(bf16, d_a, d_b, d_c, d_d, k, 0));
      CK_CUDA(cudaDeviceSynchronize());
      CK_CUDA(cudaMemcpy(d, d_d, sizeof d, cudaMemcpyDeviceToHost));
      check_mma_result(what, seed, k, a, b, c, d);
    }
    CK_CUDA(cudaFree(d_a));
    CK_CUDA(cudaFree(d_b));
    CK_CUDA(cudaFree(d_c));
    CK_CUDA(cudaFree(d_d));
  }
}
END_TEST

/* _i: kTypes16's index. */
START_TEST(test_wgmma_16bit_matches_host) {
  const convgemm_data_type_t type = kTypes16[_i];
  const int bf16 = type == CONVGEMM_DATA_BFLOAT16;
  int major = 0, minor = 0;
  compute_capability(&major, &minor);
  static float a[kRowsA16 * WGMMA16_TEST_K], b[WGMMA16_TEST_K * WGMMA16_TEST_N];
  static float d[WGMMA16_TEST_M * WGMMA16_TEST_N];
  static uint16_t a16[kRowsA16 * WGMMA16_TEST_K], b16[WGMMA16_TEST_K * WGMMA16_TEST_N];
  const uint64_t seed = test_base_seed(0x7767313600ull) + (uint64_t)type;
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  for (int i = 0; i < kRowsA16 * WGMMA16_TEST_K; ++i)
    a[i] = test_round_to_type(test_rng_symmetric(&rng, 1.0f), type);
  for (int i = 0; i < WGMMA16_TEST_K * WGMMA16_TEST_N; ++i)
    b[i] = test_round_to_type(test_rng_symmetric(&rng, 1.0f), type);
  test_encode(a, kRowsA16 * WGMMA16_TEST_K, type, a16);
  test_encode(b, WGMMA16_TEST_K * WGMMA16_TEST_N, type, b16);
  uint16_t* d_a = to_device(a16, sizeof a16);
  uint16_t* d_b = to_device(b16, sizeof b16);
  float* d_d = NULL;
  CK_CUDA(cudaMalloc((void**)&d_d, sizeof d));
  if (major != 9 || minor != 0) {
    ck_assert_int_eq(wgmma_16bit_kernel_launch(bf16, d_a, 0, d_b, d_d, 0), cudaErrorNotSupported);
    printf("gpu_mma_test: device is sm_%d%d, wgmma needs sm_90: launch refusal checked only\n",
           major, minor);
  } else {
    for (int shift = 0; shift <= WGMMA16_TEST_MAX_SHIFT; ++shift) {
      CK_CUDA(cudaMemset(d_d, 0xFF, sizeof d)); /* NaN */
      CK_CUDA(wgmma_16bit_kernel_launch(bf16, d_a, shift, d_b, d_d, 0));
      CK_CUDA(cudaDeviceSynchronize());
      CK_CUDA(cudaMemcpy(d, d_d, sizeof d, cudaMemcpyDeviceToHost));
      for (int m = 0; m < WGMMA16_TEST_M; ++m)
        for (int n = 0; n < WGMMA16_TEST_N; ++n) {
          double want = 0.0, scale = 0.0;
          for (int k = 0; k < WGMMA16_TEST_K; ++k) {
            const double p =
                (double)a[(m + shift) * WGMMA16_TEST_K + k] * b[k * WGMMA16_TEST_N + n];
            want += 2.0 * p;
            scale += 2.0 * fabs(p);
          }
          const double got = d[m * WGMMA16_TEST_N + n];
          ck_assert_msg(!isnan(got), "wgmma %s, shift %d, seed %llu: d[%d][%d] NaN",
                        test_type_name(type), shift, (unsigned long long)seed, m, n);
          ck_assert_msg(fabs(got - want) <= sum_tolerance(2 * WGMMA16_TEST_K, scale),
                        "wgmma %s, shift %d, seed %llu: d[%d][%d] = %.9g, want %.9g (scale %.9g)",
                        test_type_name(type), shift, (unsigned long long)seed, m, n, got, want,
                        scale);
        }
    }
  }
  CK_CUDA(cudaFree(d_a));
  CK_CUDA(cudaFree(d_b));
  CK_CUDA(cudaFree(d_d));
}
END_TEST

static Suite* mma_suite(void) {
  Suite* s = suite_create("gpu_mma");
  const int n_types = (int)(sizeof kTypes16 / sizeof kTypes16[0]);
  TCase* tf32 = tcase_create("mma_m16n8k8_tf32");
  tcase_add_test(tf32, test_mma_tf32_matches_host);
  suite_add_tcase(s, tf32);
  TCase* mma16 = tcase_create("mma_m16n8k16");
  tcase_add_loop_test(mma16, test_mma_16bit_matches_host, 0, n_types);
  suite_add_tcase(s, mma16);
  TCase* wgmma16 = tcase_create("wgmma_m64n128k16");
  tcase_add_loop_test(wgmma16, test_wgmma_16bit_matches_host, 0, n_types);
  suite_add_tcase(s, wgmma16);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(mma_suite(), CK_NOFORK); }
