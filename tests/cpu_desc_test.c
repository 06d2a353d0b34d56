/*
 * Descriptors: params_init's defaults, the create / get_params round trip, the derived sizes, and
 * the output shape (P, Q) against values worked out by hand from PyTorch's formula
 *   P = floor((H + 2*pad_h - dilation_h*(R-1) - 1) / stride_h) + 1
 * including both KernelBench problems the library is measured on.
 */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "conv/convgemm.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/test_assert.h"

START_TEST(test_params_init_sets_every_default) {
  convgemm_conv2d_params_t p;
  memset(&p, 0x5A, sizeof p); /* garbage in every field init must set */
  CK_CONVGEMM(convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 5));
  ck_assert_int_eq(p.n, 8);
  ck_assert_int_eq(p.c, 64);
  ck_assert_int_eq(p.h, 512);
  ck_assert_int_eq(p.w, 1024);
  ck_assert_int_eq(p.k, 128);
  ck_assert_int_eq(p.r, 3);
  ck_assert_int_eq(p.s, 5);
  ck_assert_int_eq(p.pad_h, 0);
  ck_assert_int_eq(p.pad_w, 0);
  ck_assert_int_eq(p.stride_h, 1);
  ck_assert_int_eq(p.stride_w, 1);
  ck_assert_int_eq(p.dilation_h, 1);
  ck_assert_int_eq(p.dilation_w, 1);
  ck_assert_int_eq(p.groups, 1);
  ck_assert_int_eq(p.has_bias, 0);
  ck_assert_int_eq(p.data_type, CONVGEMM_DATA_FLOAT32);
  ck_assert_int_eq(p.math_mode, CONVGEMM_MATH_DEFAULT);
}
END_TEST

START_TEST(test_params_init_does_not_validate) {
  convgemm_conv2d_params_t p;
  CK_CONVGEMM(convgemm_conv2d_params_init(&p, 0, -1, 0, 0, 0, 0, 0));
  ck_assert_int_eq(p.c, -1);
}
END_TEST

START_TEST(test_get_params_round_trips) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 3, 12, 40, 50, 18, 5, 3);
  p.pad_h = 2;
  p.pad_w = 1;
  p.stride_h = 3;
  p.stride_w = 2;
  p.dilation_h = 2;
  p.dilation_w = 4;
  p.groups = 6;
  p.has_bias = 1;
  p.math_mode = CONVGEMM_MATH_IEEE;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  ck_assert_ptr_nonnull(desc);
  convgemm_conv2d_params_t out;
  memset(&out, 0, sizeof out);
  CK_CONVGEMM(convgemm_conv_desc_get_params(desc, &out));
  ck_assert_int_eq(out.n, 3);
  ck_assert_int_eq(out.c, 12);
  ck_assert_int_eq(out.h, 40);
  ck_assert_int_eq(out.w, 50);
  ck_assert_int_eq(out.k, 18);
  ck_assert_int_eq(out.r, 5);
  ck_assert_int_eq(out.s, 3);
  ck_assert_int_eq(out.pad_h, 2);
  ck_assert_int_eq(out.pad_w, 1);
  ck_assert_int_eq(out.stride_h, 3);
  ck_assert_int_eq(out.stride_w, 2);
  ck_assert_int_eq(out.dilation_h, 2);
  ck_assert_int_eq(out.dilation_w, 4);
  ck_assert_int_eq(out.groups, 6);
  ck_assert_int_eq(out.has_bias, 1);
  ck_assert_int_eq(out.data_type, CONVGEMM_DATA_FLOAT32);
  ck_assert_int_eq(out.math_mode, CONVGEMM_MATH_IEEE);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

START_TEST(test_has_bias_is_normalized) {
  static const int kGiven[] = {0, 1, 2, -1, 12345};
  static const int kStored[] = {0, 1, 1, 1, 1};
  for (int i = 0; i < 5; ++i) {
    convgemm_conv2d_params_t p, out;
    convgemm_conv2d_params_init(&p, 1, 1, 4, 4, 1, 3, 3);
    p.has_bias = kGiven[i];
    convgemm_conv_desc_t desc = NULL;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
    CK_CONVGEMM(convgemm_conv_desc_get_params(desc, &out));
    ck_assert_msg(out.has_bias == kStored[i], "has_bias %d stored as %d, want %d", kGiven[i],
                  out.has_bias, kStored[i]);
    convgemm_conv_desc_destroy(desc);
  }
}
END_TEST

START_TEST(test_descriptor_keeps_a_copy) {
  convgemm_conv2d_params_t p, out;
  convgemm_conv2d_params_init(&p, 1, 2, 8, 8, 4, 3, 3);
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  p.k = 99; /* the caller's struct changes after creation; the descriptor must not */
  CK_CONVGEMM(convgemm_conv_desc_get_params(desc, &out));
  ck_assert_int_eq(out.k, 4);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

/* ---- output shapes ---------------------------------------------------------------------- */

typedef struct shape_case {
  const char* name;
  int64_t n, c, h, w, k, r, s, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w, groups;
  int64_t want_p, want_q; /* by hand, see each row */
} shape_case_t;

static const shape_case_t kShapes[] = {
    /* KernelBench level 1 problem 55: (512 - 2 - 1)/1 + 1 = 510, (1024 - 3) + 1 = 1022. */
    {"problem 55", 8, 64, 512, 1024, 128, 3, 3, 0, 0, 1, 1, 1, 1, 1, 510, 1022},
    /* Problem 80: P = (512 + 2*2 - 2*(5-1) - 1)/1 + 1 = (516 - 8 - 1) + 1 = 508,
     *             Q = (512 + 2*4 - 3*(9-1) - 1)/1 + 1 = (520 - 24 - 1) + 1 = 496. */
    {"problem 80", 8, 32, 512, 512, 64, 5, 9, 2, 4, 1, 1, 2, 3, 1, 508, 496},
    /* 1x1: the input size. */
    {"1x1", 2, 3, 7, 9, 4, 1, 1, 0, 0, 1, 1, 1, 1, 1, 7, 9},
    /* 'same' 3x3: (7 + 2 - 2 - 1) + 1 = 7. */
    {"3x3 pad 1", 1, 1, 7, 9, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 7, 9},
    /* Stride 2, floor: (7 + 2 - 3)/2 + 1 = 3 + 1 = 4; (8 + 2 - 3)/2 + 1 = 3 + 1 = 4. */
    {"3x3 pad 1 stride 2", 1, 1, 7, 8, 1, 3, 3, 1, 1, 2, 2, 1, 1, 1, 4, 4},
    /* Stride 3 dilation 2: (10 - 4 - 1)/3 + 1 = 1 + 1 = 2; (11 - 4 - 1)/3 + 1 = 2 + 1 = 3. */
    {"3x3 stride 3 dilation 2", 1, 1, 10, 11, 1, 3, 3, 0, 0, 3, 3, 2, 2, 1, 2, 3},
    /* AlexNet stem: (224 + 4 - 10 - 1)/4 + 1 = 54 + 1 = 55. */
    {"11x11 stride 4 pad 2", 1, 3, 224, 224, 64, 11, 11, 2, 2, 4, 4, 1, 1, 1, 55, 55},
    /* ResNet stem: (224 + 6 - 6 - 1)/2 + 1 = 111 + 1 = 112. */
    {"7x7 stride 2 pad 3", 1, 3, 224, 224, 64, 7, 7, 3, 3, 2, 2, 1, 1, 1, 112, 112},
    /* Filter exactly covers the padded input: (1 + 2 - 2 - 1) + 1 = 1. */
    {"3x3 on 1x1 pad 1", 1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    /* Padding only along one axis: H (5 + 0 - 2 - 1) + 1 = 3, W (5 + 4 - 2 - 1) + 1 = 7. */
    {"asymmetric padding", 1, 1, 5, 5, 1, 3, 3, 0, 2, 1, 1, 1, 1, 1, 3, 7},
    /* Rectangular filter and stride: H (20 - 1)/5 + 1 = 4, W (20 - 6 - 1)/1 + 1 = 14. */
    {"1x7 stride (5,1)", 1, 1, 20, 20, 1, 1, 7, 0, 0, 5, 1, 1, 1, 1, 4, 14},
    /* Depthwise (groups = C = K) does not change the shape. */
    {"depthwise 3x3 pad 1", 2, 32, 15, 17, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32, 15, 17},
    /* Stride larger than the input: (5 - 1)/9 + 1 = 1. */
    {"stride beyond input", 1, 1, 5, 5, 1, 1, 1, 0, 0, 9, 9, 1, 1, 1, 1, 1},
    /* Dilation 1000: (2100 - 2000 - 1) + 1 = 100. */
    {"dilation 1000", 1, 1, 2100, 6, 1, 3, 2, 0, 0, 1, 1, 1000, 1, 1, 100, 5},
};

START_TEST(test_output_shape) {
  const shape_case_t* t = &kShapes[_i];
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, t->n, t->c, t->h, t->w, t->k, t->r, t->s);
  p.pad_h = t->pad_h;
  p.pad_w = t->pad_w;
  p.stride_h = t->stride_h;
  p.stride_w = t->stride_w;
  p.dilation_h = t->dilation_h;
  p.dilation_w = t->dilation_w;
  p.groups = t->groups;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  int64_t n, k, pp, q;
  CK_CONVGEMM(convgemm_get_output_shape(desc, &n, &k, &pp, &q));
  ck_assert_msg(n == t->n && k == t->k && pp == t->want_p && q == t->want_q,
                "%s: shape %lld x %lld x %lld x %lld, want %lld x %lld x %lld x %lld", t->name,
                (long long)n, (long long)k, (long long)pp, (long long)q, (long long)t->n,
                (long long)t->k, (long long)t->want_p, (long long)t->want_q);
  /* The test reference derives the same shape on its own (the GPU suites rely on it). */
  ck_assert_int_eq(conv2d_reference_out_extent(t->h, t->pad_h, t->r, t->stride_h, t->dilation_h),
                   t->want_p);
  ck_assert_int_eq(conv2d_reference_out_extent(t->w, t->pad_w, t->s, t->stride_w, t->dilation_w),
                   t->want_q);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

/* ---- derived sizes (internal) ----------------------------------------------------------- */

START_TEST(test_problem_55_derived_sizes) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
  struct convgemm_conv_desc d;
  CK_CONVGEMM(convgemm_conv_desc_validate(&p, &d));
  ck_assert_int_eq(d.c_per_group, 64);
  ck_assert_int_eq(d.k_per_group, 128);
  ck_assert_int_eq(d.x_elems, 268435456);         /* 8*64*512*1024 = 2^28 */
  ck_assert_int_eq(d.w_elems, 73728);             /* 128*64*3*3 */
  ck_assert_int_eq(d.y_elems, 533729280);         /* 8*128*510*1022 */
  /* y is 2,134,917,120 bytes: under 2^31 by 0.6%, so every byte offset needs 64 bits' care. */
  ck_assert_int_lt(d.y_elems * 4, (int64_t)1 << 31);
  ck_assert_int_gt(d.y_elems * 4, ((int64_t)1 << 31) - ((int64_t)1 << 31) / 100);
}
END_TEST

START_TEST(test_grouped_derived_sizes) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 2, 12, 10, 11, 18, 3, 5);
  p.groups = 3;
  p.pad_w = 2;
  struct convgemm_conv_desc d;
  CK_CONVGEMM(convgemm_conv_desc_validate(&p, &d));
  ck_assert_int_eq(d.c_per_group, 4);
  ck_assert_int_eq(d.k_per_group, 6);
  ck_assert_int_eq(d.p, 8);                 /* (10 - 2 - 1) + 1 */
  ck_assert_int_eq(d.q, 11);                /* (11 + 4 - 4 - 1) + 1 */
  ck_assert_int_eq(d.x_elems, 2 * 12 * 10 * 11);
  ck_assert_int_eq(d.w_elems, 18 * 4 * 3 * 5);
  ck_assert_int_eq(d.y_elems, 2 * 18 * 8 * 11);
}
END_TEST

START_TEST(test_16bit_descriptors) {
  /* The type round-trips; sizes count elements (the same as float32's), elem_bytes is 2, and no
   * 16-bit descriptor asks for TF32 operands, in either math mode. */
  static const convgemm_data_type_t kTypes[3] = {CONVGEMM_DATA_FLOAT32, CONVGEMM_DATA_FLOAT16,
                                                 CONVGEMM_DATA_BFLOAT16};
  for (int t = 0; t < 3; ++t)
    for (int mode = 0; mode < 2; ++mode) {
      convgemm_conv2d_params_t p;
      convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
      p.data_type = kTypes[t];
      p.math_mode = (convgemm_math_mode_t)mode;
      convgemm_conv_desc_t desc = NULL;
      CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
      convgemm_conv2d_params_t out;
      memset(&out, 0, sizeof out);
      CK_CONVGEMM(convgemm_conv_desc_get_params(desc, &out));
      ck_assert_int_eq(out.data_type, kTypes[t]);
      ck_assert_int_eq(out.math_mode, mode);
      ck_assert_int_eq(desc->elem_bytes, t == 0 ? 4 : 2);
      ck_assert_int_eq(desc->x_elems, 268435456);
      ck_assert_int_eq(desc->y_elems, 533729280);
      ck_assert_int_eq(desc->tf32_operands, t == 0 && mode == CONVGEMM_MATH_DEFAULT);
      convgemm_conv_desc_destroy(desc);
    }
}
END_TEST

static Suite* desc_suite(void) {
  Suite* s = suite_create("cpu_desc");
  TCase* params = tcase_create("params");
  tcase_add_test(params, test_params_init_sets_every_default);
  tcase_add_test(params, test_params_init_does_not_validate);
  tcase_add_test(params, test_get_params_round_trips);
  tcase_add_test(params, test_has_bias_is_normalized);
  tcase_add_test(params, test_descriptor_keeps_a_copy);
  suite_add_tcase(s, params);

  TCase* shapes = tcase_create("output_shape");
  tcase_add_loop_test(shapes, test_output_shape, 0, (int)(sizeof kShapes / sizeof kShapes[0]));
  suite_add_tcase(s, shapes);

  TCase* derived = tcase_create("derived_sizes");
  tcase_add_test(derived, test_problem_55_derived_sizes);
  tcase_add_test(derived, test_grouped_derived_sizes);
  tcase_add_test(derived, test_16bit_descriptors);
  suite_add_tcase(s, derived);
  return s;
}

int main(void) { return check_main_run(desc_suite(), CK_FORK); }
