/*
 * DIRECT (and AUTO, with the workspace it asks for: AUTO gives IM2COL_GEMM the cases past its
 * thresholds) on the GPU against the float64 reference: the fixed cases of direct_cases.c
 * (stride, padding, dilation, groups incl. depthwise and channel multiplier, bias, 1x1 to 11x11
 * filters, odd sizes, N = 1, K = 1, K = 200, C/G not a multiple of 8, the GENERIC fallback) and
 * DIRECT_RANDOM_CASES seeded random configurations, each in both math modes with every check of
 * direct_case_runner.h. The fixed and random cases run again in float16 and in bfloat16
 * (inputs rounded to the type, the 16-bit bound of conv_compare.h, AUTO's 16-bit rule,
 * IMPLICIT_GEMM's wgmma (TMA) and mma.sync kernels, the fixed cases also with the mma.sync one
 * alone, both math modes bitwise equal). Random seeds start at
 * $CONVGEMM_TEST_SEED (default below); a failure prints the case's seed and configuration.
 *
 * Run time: the float64 reference on the CPU dominates, a few seconds in all.
 */
#include <stdint.h>
#include <stdio.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "conv/direct_conv2d_plan.h"
#include "conv/implicit_gemm_plan.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/direct_case_runner.h"
#include "tests/direct_cases.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

enum { kDefaultSeed = 20240601 };

static convgemm_handle_t g_handle;
static cudaStream_t g_stream;

/* A fresh handle and a non-blocking stream per test: the library must queue its work on the
 * caller's stream, and a non-blocking one does not synchronize with the legacy default stream,
 * so work wrongly put there would race the checks instead of hiding behind implicit syncs. */
static void setup(void) {
  CK_CONVGEMM(convgemm_create(&g_handle));
  CK_CUDA(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
}

/* The same, with IMPLICIT_GEMM kept on its mma.sync kernel: on an sm_90 device the default
 * handle runs the wgmma kernel wherever it applies, and the mma.sync one (what sm_80/86/89 run)
 * must be checked there too. */
static void setup_mma_sync(void) {
  setup();
  g_handle->info.no_wgmma = 1;
}

static void teardown(void) {
  CK_CUDA(cudaStreamDestroy(g_stream));
  CK_CONVGEMM(convgemm_destroy(g_handle));
}

START_TEST(test_fixed_case) {
  direct_case_t c;
  direct_fixed_case(_i, &c);
  direct_case_run(g_handle, g_stream, &c);
}
END_TEST

START_TEST(test_random_case) {
  direct_case_t c;
  direct_random_case(test_base_seed(kDefaultSeed) + (uint64_t)_i, &c);
  direct_case_run(g_handle, g_stream, &c);
}
END_TEST

/* The 16-bit passes: the same cases with data_type set (the shapes and seeds unchanged). */
START_TEST(test_fixed_case_float16) {
  direct_case_t c;
  direct_fixed_case(_i, &c);
  c.params.data_type = CONVGEMM_DATA_FLOAT16;
  direct_case_run(g_handle, g_stream, &c);
}
END_TEST

START_TEST(test_fixed_case_bfloat16) {
  direct_case_t c;
  direct_fixed_case(_i, &c);
  c.params.data_type = CONVGEMM_DATA_BFLOAT16;
  direct_case_run(g_handle, g_stream, &c);
}
END_TEST

START_TEST(test_random_case_16bit) {
  /* Even loop indices float16, odd bfloat16, over the same seeds as test_random_case. */
  direct_case_t c;
  direct_random_case(test_base_seed(kDefaultSeed) + (uint64_t)(_i / 2), &c);
  c.params.data_type = _i % 2 == 0 ? CONVGEMM_DATA_FLOAT16 : CONVGEMM_DATA_BFLOAT16;
  direct_case_run(g_handle, g_stream, &c);
}
END_TEST

START_TEST(test_fixed_cases_reach_every_kernel_on_this_device) {
  /* The fixed list was built to reach every kernel (cpu_direct_cases_test checks it on recorded
   * H100 and A100 limits); check it on the card that ran it, so a pass here means each kernel
   * was compared with the reference. */
  int seen[CONVGEMM_DIRECT_ROW_STRIP + 1] = {0}; /* one count per convgemm_direct_tile_t */
  for (int i = 0; i < direct_fixed_case_count(); ++i) {
    direct_case_t c;
    direct_fixed_case(i, &c);
    convgemm_conv_desc_t desc = NULL;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &c.params));
    convgemm_direct_plan_t plan;
    convgemm_direct_make_plan(desc, g_handle->info.max_smem_per_block, &plan);
    ++seen[plan.tile];
    convgemm_conv_desc_destroy(desc);
  }
  ck_assert_msg(seen[CONVGEMM_DIRECT_TILE_K64] > 0 && seen[CONVGEMM_DIRECT_TILE_K16] > 0 &&
                    seen[CONVGEMM_DIRECT_TILE_K1] > 0 && seen[CONVGEMM_DIRECT_GENERIC] > 0 &&
                    seen[CONVGEMM_DIRECT_DEPTHWISE] > 0 && seen[CONVGEMM_DIRECT_ROW_STRIP] > 0,
                "device with %d bytes of shared memory per block: K64 %d, K16 %d, K1 %d, "
                "GENERIC %d, DEPTHWISE %d, ROW_STRIP %d cases",
                g_handle->info.max_smem_per_block, seen[CONVGEMM_DIRECT_TILE_K64],
                seen[CONVGEMM_DIRECT_TILE_K16], seen[CONVGEMM_DIRECT_TILE_K1],
                seen[CONVGEMM_DIRECT_GENERIC], seen[CONVGEMM_DIRECT_DEPTHWISE],
                seen[CONVGEMM_DIRECT_ROW_STRIP]);
}
END_TEST

START_TEST(test_fixed_cases_reach_both_implicit_gemm_kernels) {
  /* On an sm_90 device some fixed cases must run IMPLICIT_GEMM's wgmma kernel (the default
   * handle), with the window loaded by TMA (W a multiple of 4) and by cp.async, and some its
   * mma.sync kernel (stride or dilation along W, or the fixture above); in 16-bit data some the
   * wgmma (TMA) kernel and some the mma.sync one even with the default handle. */
  int wgmma = 0, wgmma_tma = 0, mma_sync = 0, wgmma_16bit = 0, mma_sync_16bit = 0;
  for (int i = 0; i < direct_fixed_case_count(); ++i) {
    direct_case_t c;
    direct_fixed_case(i, &c);
    convgemm_conv_desc_t desc = NULL;
    c.params.data_type = CONVGEMM_DATA_BFLOAT16;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &c.params));
    if (convgemm_check_algorithm(g_handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM) ==
        CONVGEMM_STATUS_SUCCESS) {
      convgemm_igemm_plan_t plan;
      convgemm_igemm_make_plan(desc, &g_handle->info, &plan);
      if (plan.variant == CONVGEMM_IGEMM_WGMMA)
        ++wgmma_16bit;
      else
        ++mma_sync_16bit;
    }
    convgemm_conv_desc_destroy(desc);
    c.params.data_type = CONVGEMM_DATA_FLOAT32;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &c.params));
    if (convgemm_check_algorithm(g_handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM) ==
        CONVGEMM_STATUS_SUCCESS) {
      convgemm_igemm_plan_t plan;
      convgemm_igemm_make_plan(desc, &g_handle->info, &plan);
      if (plan.variant == CONVGEMM_IGEMM_WGMMA) {
        ++wgmma;
        wgmma_tma += plan.tma;
      } else {
        ++mma_sync;
      }
    }
    convgemm_conv_desc_destroy(desc);
  }
  const int sm90 = g_handle->info.cc_major == 9 && g_handle->info.cc_minor == 0;
  printf("gpu_direct_test: IMPLICIT_GEMM fixed cases: %d wgmma (%d of them TMA), %d mma.sync; "
         "16-bit data: %d wgmma, %d mma.sync (sm_%d%d)\n", wgmma, wgmma_tma, mma_sync,
         wgmma_16bit, mma_sync_16bit, g_handle->info.cc_major, g_handle->info.cc_minor);
  ck_assert_int_gt(mma_sync, 0);
  ck_assert_int_gt(mma_sync_16bit, 5);
  if (sm90) {
    ck_assert_int_ge(wgmma_tma, 4);
    ck_assert_int_gt(wgmma - wgmma_tma, 5);
    ck_assert_int_ge(wgmma_16bit, 4); /* the 16-bit TMA window rows of direct_cases.c */
  } else {
    ck_assert_int_eq(wgmma, 0);
    ck_assert_int_eq(wgmma_16bit, 0);
  }
}
END_TEST

static Suite* direct_suite(void) {
  Suite* s = suite_create("gpu_direct");
  TCase* fixed = tcase_create("fixed_cases");
  tcase_add_checked_fixture(fixed, setup, teardown);
  tcase_add_test(fixed, test_fixed_cases_reach_every_kernel_on_this_device);
  tcase_add_test(fixed, test_fixed_cases_reach_both_implicit_gemm_kernels);
  tcase_add_loop_test(fixed, test_fixed_case, 0, direct_fixed_case_count());
  suite_add_tcase(s, fixed);

  TCase* mma_sync = tcase_create("fixed_cases_mma_sync");
  tcase_add_checked_fixture(mma_sync, setup_mma_sync, teardown);
  tcase_add_loop_test(mma_sync, test_fixed_case, 0, direct_fixed_case_count());
  suite_add_tcase(s, mma_sync);

  TCase* random = tcase_create("random_cases");
  tcase_add_checked_fixture(random, setup, teardown);
  tcase_add_loop_test(random, test_random_case, 0, DIRECT_RANDOM_CASES);
  suite_add_tcase(s, random);

  TCase* half = tcase_create("fixed_cases_16bit");
  tcase_add_checked_fixture(half, setup, teardown);
  tcase_add_loop_test(half, test_fixed_case_float16, 0, direct_fixed_case_count());
  tcase_add_loop_test(half, test_fixed_case_bfloat16, 0, direct_fixed_case_count());
  suite_add_tcase(s, half);

  TCase* half_mma_sync = tcase_create("fixed_cases_16bit_mma_sync");
  tcase_add_checked_fixture(half_mma_sync, setup_mma_sync, teardown);
  tcase_add_loop_test(half_mma_sync, test_fixed_case_float16, 0, direct_fixed_case_count());
  tcase_add_loop_test(half_mma_sync, test_fixed_case_bfloat16, 0, direct_fixed_case_count());
  suite_add_tcase(s, half_mma_sync);

  TCase* half_random = tcase_create("random_cases_16bit");
  tcase_add_checked_fixture(half_random, setup, teardown);
  tcase_add_loop_test(half_random, test_random_case_16bit, 0, 2 * DIRECT_RANDOM_CASES);
  suite_add_tcase(s, half_random);
  return s;
}

int main(void) {
  printf("gpu_direct_test: random cases from seed %llu (set CONVGEMM_TEST_SEED to change)\n",
         (unsigned long long)test_base_seed(kDefaultSeed));
  /* CK_NOFORK: CUDA and fork() don't mix. */
  return check_main_run(direct_suite(), CK_NOFORK);
}
