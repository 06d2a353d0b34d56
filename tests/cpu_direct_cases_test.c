/*
 * gpu_direct_test's case lists, checked on the CPU before any GPU time is spent on them: every
 * fixed and random case is a valid descriptor, the fixed list reaches every DIRECT tile kind and
 * every edge it claims (on the recorded H100 and A100 limits; gpu_direct_test checks the real
 * device too), random cases are reproducible from their seed, and the float64 reference stays
 * within the work budgets that keep the GPU suite's run time in seconds.
 */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "conv/convgemm.h"
#include "conv/direct_conv2d_plan.h"
#include "conv/implicit_gemm_plan.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/direct_cases.h"
#include "tests/fake_device.h"
#include "tests/test_assert.h"

static void expect_valid(const direct_case_t* c, struct convgemm_conv_desc* d) {
  char config[256];
  direct_case_describe(&c->params, config, sizeof config);
  const convgemm_status_t s = convgemm_conv_desc_validate(&c->params, d);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "case '%s' seed %llu [%s]: %s: %s", c->name,
                (unsigned long long)c->seed, config, convgemm_status_string(s),
                convgemm_get_last_error());
  ck_assert_msg(d->y_elems == conv2d_reference_y_elems(&c->params) && d->y_elems > 0,
                "case '%s' [%s]: %lld outputs, the reference counts %lld", c->name, config,
                (long long)d->y_elems, (long long)conv2d_reference_y_elems(&c->params));
}

START_TEST(test_fixed_cases_are_valid_and_affordable) {
  int64_t total = 0;
  for (int i = 0; i < direct_fixed_case_count(); ++i) {
    direct_case_t c;
    direct_fixed_case(i, &c);
    struct convgemm_conv_desc d;
    expect_valid(&c, &d);
    total += direct_case_macs(&c.params);
  }
  ck_assert_msg(total <= DIRECT_FIXED_MAX_TOTAL_MACS, "fixed cases need %lld reference MACs",
                (long long)total);
}
END_TEST

START_TEST(test_fixed_cases_cover_every_tile_kind) {
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int dev = 0; dev < 2; ++dev) {
    int seen[CONVGEMM_DIRECT_ROW_STRIP + 1] = {0}; /* one count per convgemm_direct_tile_t */
    int chunk_below_8 = 0, partial_chunk = 0;
    for (int i = 0; i < direct_fixed_case_count(); ++i) {
      direct_case_t c;
      direct_fixed_case(i, &c);
      struct convgemm_conv_desc d;
      expect_valid(&c, &d);
      convgemm_direct_plan_t plan;
      convgemm_direct_make_plan(&d, devices[dev].max_smem_per_block, &plan);
      ++seen[plan.tile];
      if (plan.tile != CONVGEMM_DIRECT_GENERIC) {
        if (plan.c_chunk < 8 && plan.c_chunk < d.c_per_group) ++chunk_below_8;
        if (d.c_per_group % plan.c_chunk != 0) ++partial_chunk;
      }
    }
    ck_assert_msg(seen[CONVGEMM_DIRECT_TILE_K64] >= 3 && seen[CONVGEMM_DIRECT_TILE_K16] >= 3 &&
                      seen[CONVGEMM_DIRECT_TILE_K1] >= 3 && seen[CONVGEMM_DIRECT_GENERIC] >= 2 &&
                      seen[CONVGEMM_DIRECT_DEPTHWISE] >= 3 && seen[CONVGEMM_DIRECT_ROW_STRIP] >= 3,
                  "device %d: tile kinds K64 %d, K16 %d, K1 %d, GENERIC %d, DEPTHWISE %d, "
                  "ROW_STRIP %d", dev,
                  seen[CONVGEMM_DIRECT_TILE_K64], seen[CONVGEMM_DIRECT_TILE_K16],
                  seen[CONVGEMM_DIRECT_TILE_K1], seen[CONVGEMM_DIRECT_GENERIC],
                  seen[CONVGEMM_DIRECT_DEPTHWISE], seen[CONVGEMM_DIRECT_ROW_STRIP]);
    ck_assert_msg(chunk_below_8 >= 1, "device %d: no case shrinks the channel chunk", dev);
    ck_assert_msg(partial_chunk >= 1, "device %d: no case ends with a partial chunk", dev);
  }
}
END_TEST

START_TEST(test_fixed_cases_cover_the_edges) {
  int depthwise = 0, multiplier = 0, stem = 0, odd = 0, bias = 0, no_bias = 0, k1 = 0, k200 = 0,
      n1 = 0, dilated = 0, strided = 0, kernel_5x7 = 0;
  for (int i = 0; i < direct_fixed_case_count(); ++i) {
    direct_case_t c;
    direct_fixed_case(i, &c);
    const convgemm_conv2d_params_t* p = &c.params;
    struct convgemm_conv_desc d;
    expect_valid(&c, &d);
    depthwise += p->groups > 1 && p->c == p->groups && p->k == p->groups;
    multiplier += p->groups > 1 && p->c == p->groups && p->k == 2 * p->groups;
    stem += p->r == 11 && p->s == 11 && p->stride_h == 4 && p->c == 3;
    odd += p->h == 13 && p->w == 17;
    bias += p->has_bias != 0;
    no_bias += p->has_bias == 0;
    k1 += p->k == 1;
    k200 += p->k == 200;
    n1 += p->n == 1;
    dilated += p->dilation_h > 1 || p->dilation_w > 1;
    strided += p->stride_h > 1 || p->stride_w > 1;
    kernel_5x7 += p->r == 5 && p->s == 7;
    /* Partial tiles: P and Q not multiples of the tile for odd-sized cases. */
    if (p->h == 13) ck_assert(d.p % 8 != 0 && d.q % 32 != 0);
  }
  ck_assert(depthwise >= 2 && multiplier >= 1 && stem >= 1 && odd >= 3 && bias >= 5 &&
            no_bias >= 5 && k1 >= 2 && k200 >= 1 && n1 >= 5 && dilated >= 3 && strided >= 5 &&
            kernel_5x7 >= 1);
}
END_TEST

START_TEST(test_random_cases_are_valid_reproducible_and_affordable) {
  int kinds[CONVGEMM_DIRECT_ROW_STRIP + 1] = {0}; /* one count per convgemm_direct_tile_t */
  int grouped = 0, bias = 0;
  for (int i = 0; i < DIRECT_RANDOM_CASES; ++i) {
    direct_case_t a, b;
    direct_random_case(12345 + (uint64_t)i, &a);
    direct_random_case(12345 + (uint64_t)i, &b);
    char config_a[256], config_b[256];
    direct_case_describe(&a.params, config_a, sizeof config_a);
    direct_case_describe(&b.params, config_b, sizeof config_b);
    ck_assert_str_eq(config_a, config_b);
    ck_assert_uint_eq(a.seed, 12345 + (uint64_t)i);
    struct convgemm_conv_desc d;
    expect_valid(&a, &d);
    ck_assert_int_le(direct_case_macs(&a.params), DIRECT_RANDOM_MAX_MACS);
    convgemm_direct_plan_t plan;
    convgemm_direct_make_plan(&d, fake_device_h100().max_smem_per_block, &plan);
    ++kinds[plan.tile];
    grouped += a.params.groups > 1;
    bias += a.params.has_bias != 0;
  }
  /* 48 draws from three equally likely K/G ranges: each tile kind shows up many times. */
  ck_assert_msg(kinds[0] >= 5 && kinds[1] >= 5 && kinds[2] >= 5, "K64 %d, K16 %d, K1 %d",
                kinds[0], kinds[1], kinds[2]);
  ck_assert(grouped >= 5 && bias >= 5 && bias <= DIRECT_RANDOM_CASES - 5);
}
END_TEST

START_TEST(test_fixed_cases_reach_both_auto_choices) {
  /* direct_case_runner also runs AUTO, with the workspace it asks for: the list must include
   * cases AUTO gives to IM2COL_GEMM (with and without bias, so its split bias is checked there
   * too) besides those it keeps on DIRECT, on both recorded devices. */
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int dev = 0; dev < 2; ++dev) {
    int gemm_bias = 0, gemm_no_bias = 0, direct = 0;
    for (int i = 0; i < direct_fixed_case_count(); ++i) {
      direct_case_t c;
      direct_fixed_case(i, &c);
      struct convgemm_conv_desc d;
      expect_valid(&c, &d);
      if (convgemm_select_algorithm(&d, &devices[dev]) == CONVGEMM_ALGO_IM2COL_GEMM) {
        gemm_bias += c.params.has_bias != 0;
        gemm_no_bias += c.params.has_bias == 0;
      } else {
        ++direct;
      }
    }
    ck_assert_msg(gemm_bias >= 1 && gemm_no_bias >= 1 && direct >= 10,
                  "device %d: AUTO picks IM2COL_GEMM for %d cases with bias, %d without, "
                  "DIRECT for %d",
                  dev, gemm_bias, gemm_no_bias, direct);
  }
}
END_TEST

START_TEST(test_fixed_cases_in_16bit_reach_both_auto_choices) {
  /* gpu_direct_test runs the fixed list in float16 and bfloat16 too. Every case is a valid
   * descriptor in both types, with the same plan as in float32 (shared memory holds floats), and
   * AUTO's 16-bit rule (IMPLICIT_GEMM where its sm_90 TMA kernel runs at stride 1 with C/G and
   * K/G >= 8 and Q >= 32 (64 for 1x1); else IM2COL_GEMM once K/G >= 8 and (C/G)*R*S >= 64, else
   * DIRECT) sends cases with and without bias to IM2COL_GEMM and others, depthwise among them,
   * to DIRECT, on both recorded devices, and the 16-bit TMA window rows to IMPLICIT_GEMM on the
   * H100 only (AUTO never takes its mma.sync kernel for 16-bit data). */
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int t = 0; t < 2; ++t)
    for (int dev = 0; dev < 2; ++dev) {
      int gemm_bias = 0, gemm_no_bias = 0, direct = 0, direct_depthwise = 0, implicit = 0;
      for (int i = 0; i < direct_fixed_case_count(); ++i) {
        direct_case_t c;
        direct_fixed_case(i, &c);
        struct convgemm_conv_desc d32, d16;
        expect_valid(&c, &d32);
        c.params.data_type = kTypes[t];
        expect_valid(&c, &d16);
        ck_assert_int_eq(d16.elem_bytes, 2);
        ck_assert_int_eq(d16.tf32_operands, 0);
        convgemm_direct_plan_t plan32, plan16;
        memset(&plan32, 0, sizeof plan32);
        memset(&plan16, 0, sizeof plan16);
        convgemm_direct_make_plan(&d32, devices[dev].max_smem_per_block, &plan32);
        convgemm_direct_make_plan(&d16, devices[dev].max_smem_per_block, &plan16);
        ck_assert_msg(memcmp(&plan32, &plan16, sizeof plan32) == 0,
                      "case '%s': DIRECT's plan differs between float32 and %d", c.name, t);
        const convgemm_algo_t algo = convgemm_select_algorithm(&d16, &devices[dev]);
        convgemm_igemm_plan_t igemm;
        const int wgmma = c.params.stride_h == 1 && c.params.stride_w == 1 &&
                          convgemm_igemm_fits(&d16, &devices[dev], &igemm) &&
                          igemm.variant == CONVGEMM_IGEMM_WGMMA && d16.c_per_group >= 8 &&
                          d16.k_per_group >= 8 &&
                          d16.q >= (c.params.r * c.params.s > 1 ? 32 : 64);
        const int gemm = d16.k_per_group >= 8 &&
                         d16.c_per_group * c.params.r * c.params.s >= 64;
        const convgemm_algo_t want = wgmma  ? CONVGEMM_ALGO_IMPLICIT_GEMM
                                     : gemm ? CONVGEMM_ALGO_IM2COL_GEMM
                                            : CONVGEMM_ALGO_DIRECT;
        ck_assert_msg(algo == want, "case '%s' type %d device %d: AUTO picks %d, want %d",
                      c.name, (int)kTypes[t], dev, (int)algo, (int)want);
        if (algo == CONVGEMM_ALGO_IMPLICIT_GEMM) {
          ++implicit;
        } else if (algo == CONVGEMM_ALGO_IM2COL_GEMM) {
          gemm_bias += c.params.has_bias != 0;
          gemm_no_bias += c.params.has_bias == 0;
        } else {
          ++direct;
          direct_depthwise += d16.c_per_group == 1;
        }
      }
      ck_assert_msg(gemm_bias >= 1 && gemm_no_bias >= 1 && direct >= 10 &&
                        direct_depthwise >= 1 && (dev == 0 ? implicit >= 4 : implicit == 0),
                    "type %d device %d: IM2COL_GEMM %d with bias, %d without; DIRECT %d (%d "
                    "depthwise); IMPLICIT_GEMM %d",
                    (int)kTypes[t], dev, gemm_bias, gemm_no_bias, direct, direct_depthwise,
                    implicit);
    }
}
END_TEST

START_TEST(test_case_description_names_everything) {
  direct_case_t c;
  direct_fixed_case(0, &c);
  c.params.math_mode = CONVGEMM_MATH_IEEE;
  char buf[256];
  direct_case_describe(&c.params, buf, sizeof buf);
  ck_assert_str_eq(buf,
                   "N2 C16 H9 W33 K64 R1 S1 pad 0,0 stride 1,1 dilation 1,1 groups 1 bias 0 "
                   "math IEEE type float32");
  c.params.data_type = CONVGEMM_DATA_BFLOAT16;
  direct_case_describe(&c.params, buf, sizeof buf);
  ck_assert_ptr_nonnull(strstr(buf, "math IEEE type bfloat16"));
  c.params.data_type = CONVGEMM_DATA_FLOAT16;
  direct_case_describe(&c.params, buf, sizeof buf);
  ck_assert_ptr_nonnull(strstr(buf, "type float16"));
}
END_TEST

static Suite* cases_suite(void) {
  Suite* s = suite_create("cpu_direct_cases");
  TCase* tc = tcase_create("cases");
  tcase_add_test(tc, test_fixed_cases_are_valid_and_affordable);
  tcase_add_test(tc, test_fixed_cases_cover_every_tile_kind);
  tcase_add_test(tc, test_fixed_cases_cover_the_edges);
  tcase_add_test(tc, test_random_cases_are_valid_reproducible_and_affordable);
  tcase_add_test(tc, test_fixed_cases_reach_both_auto_choices);
  tcase_add_test(tc, test_fixed_cases_in_16bit_reach_both_auto_choices);
  tcase_add_test(tc, test_case_description_names_everything);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return check_main_run(cases_suite(), CK_FORK); }
