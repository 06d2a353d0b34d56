/*
 * The test tools that judge the library, tested before they judge anything:
 *   - the host TF32 rounding model on values whose rounding is known by hand;
 *   - the float64 reference on small convolutions computed by hand (1x1, padding, stride,
 *     dilation, groups, bias, TF32 operands), and its at-indices mode against its full mode;
 *   - the tolerance of conv_compare.h: a float32 emulation of the library's summation (fmaf in
 *     the kernels' c, r, s order) must pass it on random problems of every shape class, and
 *     results with a real defect (one output off by 1e-4 relative, a NaN, an operand left
 *     unrounded in TF32 mode) must fail it. A tolerance that passes everything proves nothing;
 *   - the widening for IM2COL_GEMM's split bias (conv_compare_widen_for_split_bias): the two
 *     facts it rests on, over every binade, its arithmetic, and that it passes an emulation of
 *     the split-bias sum while still failing one that drops the bias's low part;
 *   - the host float16 / bfloat16 encodings (elem_type_host.h): every encoding round-trips,
 *     rounding agrees with an independent float64 model (round to nearest even on the type's
 *     grid, Inf past the largest value) on millions of floats and on ties worked out by hand;
 *   - the 16-bit tolerance (conv_compare_typed): an emulation of the library (fp32 sum of the
 *     16-bit inputs, one rounding to the type) passes it and comes close to it (it is tight),
 *     while an output truncated instead of rounded, or one ulp off, fails.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conv/convgemm.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/elem_type_host.h"
#include "tests/test_random.h"
#include "tests/tf32_round_host.h"

/* ---- TF32 rounding model ---------------------------------------------------------------- */

static void expect_tf32(uint32_t in, uint32_t want) {
  const uint32_t got = tf32_round_rna_host_bits(in);
  ck_assert_msg(got == want, "tf32(0x%08x) = 0x%08x, want 0x%08x", in, got, want);
  /* The float form agrees with the bit form. */
  ck_assert_uint_eq(float_to_bits(tf32_round_rna_host(bits_to_float(in))), want);
}

START_TEST(test_tf32_ties_round_away_from_zero) {
  /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties-away goes up (ties-to-even would keep 1). */
  ck_assert_uint_eq(float_to_bits(1.0f + 0x1p-11f), 0x3F801000u);
  expect_tf32(0x3F801000u, 0x3F802000u);
  ck_assert_float_eq(tf32_round_rna_host(1.0f + 0x1p-11f), 1.0f + 0x1p-10f);
  /* Its negative goes away from zero too. */
  expect_tf32(0xBF801000u, 0xBF802000u);
  ck_assert_float_eq(tf32_round_rna_host(-1.0f - 0x1p-11f), -1.0f - 0x1p-10f);
  /* A tie above an odd kept mantissa: up as well (same as ties-to-even here). */
  expect_tf32(0x3F803000u, 0x3F804000u);
  /* A tie that carries into the exponent: 2 - 2^-11 rounds to 2. */
  expect_tf32(0x3FFFF000u, 0x40000000u);
}
END_TEST

START_TEST(test_tf32_non_ties_round_to_nearest) {
  expect_tf32(0x3F800FFFu, 0x3F800000u); /* just below the tie: down */
  expect_tf32(0x3F801001u, 0x3F802000u); /* just above: up */
  expect_tf32(0xBF800FFFu, 0xBF800000u);
  expect_tf32(0xBF801001u, 0xBF802000u);
  expect_tf32(0x3F800001u, 0x3F800000u);
  expect_tf32(0x3F801FFFu, 0x3F802000u);
  /* Values already in TF32 are unchanged. */
  expect_tf32(0x3F800000u, 0x3F800000u);
  expect_tf32(0x3F802000u, 0x3F802000u);
  expect_tf32(0x40490000u, 0x40490000u);
  /* pi = 0x40490FDB: dropped bits 0x0FDB < 0x1000, down to 0x40490000. */
  expect_tf32(float_to_bits(3.14159265f), 0x40490000u);
}
END_TEST

START_TEST(test_tf32_zero_inf_nan) {
  expect_tf32(0x00000000u, 0x00000000u);
  expect_tf32(0x80000000u, 0x80000000u);
  expect_tf32(0x7F800000u, 0x7F800000u);
  expect_tf32(0xFF800000u, 0xFF800000u);
  /* NaN stays NaN, including payloads whose naive rounding would carry into the sign bit. */
  static const uint32_t kNans[] = {0x7FC00000u, 0x7F800001u, 0x7FFFF000u, 0x7FFFFFFFu,
                                   0xFFC00000u, 0xFFFFFFFFu, 0xFF801000u};
  for (int i = 0; i < 7; ++i)
    ck_assert_msg(isnan(tf32_round_rna_host(bits_to_float(kNans[i]))),
                  "tf32(NaN 0x%08x) is not NaN", kNans[i]);
}
END_TEST

START_TEST(test_tf32_overflow_goes_to_inf) {
  expect_tf32(0x7F7FFFFFu, 0x7F800000u); /* FLT_MAX */
  ck_assert_float_eq(tf32_round_rna_host(FLT_MAX), INFINITY);
  ck_assert_float_eq(tf32_round_rna_host(-FLT_MAX), -INFINITY);
  expect_tf32(0x7F7FF000u, 0x7F800000u); /* the tie above the largest TF32 */
  expect_tf32(0x7F7FEFFFu, 0x7F7FE000u); /* just below it: the largest TF32 */
  expect_tf32(0x7F7FE000u, 0x7F7FE000u);
  expect_tf32(0xFF7FF000u, 0xFF800000u);
}
END_TEST

START_TEST(test_tf32_denormals_round_on_their_bits) {
  expect_tf32(0x00001000u, 0x00002000u); /* a tie: away from zero */
  expect_tf32(0x80001000u, 0x80002000u);
  expect_tf32(0x00000FFFu, 0x00000000u); /* below the tie: to zero, sign kept */
  expect_tf32(0x80000FFFu, 0x80000000u);
  expect_tf32(0x00000001u, 0x00000000u); /* the smallest denormal */
  expect_tf32(0x00003001u, 0x00004000u);
  expect_tf32(0x007FF000u, 0x00800000u); /* the largest denormals round up to FLT_MIN */
  expect_tf32(0x007FFFFFu, 0x00800000u);
  expect_tf32(0x00400000u, 0x00400000u); /* a denormal already in TF32 */
}
END_TEST

/* ---- reference on hand-computed cases --------------------------------------------------- */

static void expect_values(const double* got, const double* want, int count, const char* what) {
  for (int i = 0; i < count; ++i)
    ck_assert_msg(got[i] == want[i], "%s: y[%d] = %.17g, want %.17g", what, i, got[i], want[i]);
}

START_TEST(test_reference_1x1) {
  /* x (1, 2, 1, 2) = channel 0: 1 2, channel 1: 3 4; w (1, 2, 1, 1) = 10, -100.
   * y = 10*x0 - 100*x1 = 10 - 300, 20 - 400; abs_sum = 10 + 300, 20 + 400. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 2, 1, 2, 1, 1, 1);
  const float x[] = {1, 2, 3, 4};
  const float w[] = {10, -100};
  double y[2], abs_sum[2];
  conv2d_reference(&p, x, w, NULL, CONV2D_REFERENCE_EXACT, y, abs_sum);
  expect_values(y, (const double[]){-290, -380}, 2, "1x1 y");
  expect_values(abs_sum, (const double[]){310, 420}, 2, "1x1 abs_sum");
}
END_TEST

START_TEST(test_reference_3x3_padding) {
  /* Ones in, ones filter, pad 1 on a 3x3 input: each output counts the taps inside the input:
   * corners 4, edges 6, centre 9. Two images, two filters (the second all 2s). */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 2, 1, 3, 3, 2, 3, 3);
  p.pad_h = p.pad_w = 1;
  float x[18], w[18];
  for (int i = 0; i < 18; ++i) x[i] = 1.0f;
  for (int i = 0; i < 9; ++i) w[i] = 1.0f, w[9 + i] = 2.0f;
  double y[36];
  conv2d_reference(&p, x, w, NULL, CONV2D_REFERENCE_EXACT, y, NULL);
  const double counts[9] = {4, 6, 4, 6, 9, 6, 4, 6, 4};
  for (int n = 0; n < 2; ++n)
    for (int k = 0; k < 2; ++k)
      for (int i = 0; i < 9; ++i)
        ck_assert_msg(y[(n * 2 + k) * 9 + i] == (k + 1) * counts[i], "n %d k %d pixel %d: %g", n,
                      k, i, y[(n * 2 + k) * 9 + i]);
}
END_TEST

START_TEST(test_reference_stride_2) {
  /* x 4x4 = 1..16 row-major, 2x2 ones filter, stride 2: the sums of the four 2x2 blocks,
   * 1+2+5+6, 3+4+7+8, 9+10+13+14, 11+12+15+16. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 1, 4, 4, 1, 2, 2);
  p.stride_h = p.stride_w = 2;
  float x[16];
  for (int i = 0; i < 16; ++i) x[i] = (float)(i + 1);
  const float w[4] = {1, 1, 1, 1};
  double y[4];
  conv2d_reference(&p, x, w, NULL, CONV2D_REFERENCE_EXACT, y, NULL);
  expect_values(y, (const double[]){14, 22, 46, 54}, 4, "stride 2");
}
END_TEST

START_TEST(test_reference_dilation_2) {
  /* x 5x5 with x[i][j] = 5i + j, w 2x2 = 1 10 / 100 1000, dilation 2 (taps 2 apart), P = Q = 3:
   * y[p][q] = x[p][q] + 10 x[p][q+2] + 100 x[p+2][q] + 1000 x[p+2][q+2]
   *         = 1111 (5p + q) + 20 + 1000 + 12000 = 5555 p + 1111 q + 13020. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 1, 5, 5, 1, 2, 2);
  p.dilation_h = p.dilation_w = 2;
  float x[25];
  for (int i = 0; i < 25; ++i) x[i] = (float)i;
  const float w[4] = {1, 10, 100, 1000};
  double y[9];
  conv2d_reference(&p, x, w, NULL, CONV2D_REFERENCE_EXACT, y, NULL);
  expect_values(y,
                (const double[]){13020, 14131, 15242, 18575, 19686, 20797, 24130, 25241, 26352},
                9, "dilation 2");
}
END_TEST

START_TEST(test_reference_groups_2) {
  /* C = 4, K = 2, groups 2, 1x1, one pixel: x = 1 2 3 4; w (2, 2, 1, 1) = 10 20 / 30 40.
   * Group 0 (k 0) sees channels 0, 1: 10*1 + 20*2 = 50; group 1 (k 1) sees 2, 3: 30*3 + 40*4
   * = 250. Without groups k 0 would be mixing all four channels. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 4, 1, 1, 2, 1, 1);
  p.groups = 2;
  const float x[] = {1, 2, 3, 4};
  const float w[] = {10, 20, 30, 40};
  double y[2];
  conv2d_reference(&p, x, w, NULL, CONV2D_REFERENCE_EXACT, y, NULL);
  expect_values(y, (const double[]){50, 250}, 2, "groups 2");
  /* Depthwise: C = K = G = 2: y[k] = w[k] * x[k]. */
  convgemm_conv2d_params_init(&p, 1, 2, 1, 1, 2, 1, 1);
  p.groups = 2;
  conv2d_reference(&p, x, w, NULL, CONV2D_REFERENCE_EXACT, y, NULL);
  expect_values(y, (const double[]){10, 40}, 2, "depthwise");
}
END_TEST

START_TEST(test_reference_bias) {
  /* The 1x1 case plus bias -5: y - 5, and |bias| joins abs_sum. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 2, 1, 2, 1, 1, 1);
  p.has_bias = 1;
  const float x[] = {1, 2, 3, 4};
  const float w[] = {10, -100};
  const float bias[] = {-5};
  double y[2], abs_sum[2];
  conv2d_reference(&p, x, w, bias, CONV2D_REFERENCE_EXACT, y, abs_sum);
  expect_values(y, (const double[]){-295, -385}, 2, "bias y");
  expect_values(abs_sum, (const double[]){315, 425}, 2, "bias abs_sum");
  /* Bias is never rounded, even with TF32 operands: 1 + 2^-11 survives in it. */
  const float one[] = {1}, tie[] = {1.0f + 0x1p-11f};
  convgemm_conv2d_params_init(&p, 1, 1, 1, 1, 1, 1, 1);
  conv2d_reference(&p, one, one, tie, CONV2D_REFERENCE_TF32, y, NULL);
  ck_assert_double_eq(y[0], 2.0 + 0x1p-11);
}
END_TEST

START_TEST(test_reference_rounds_operands_in_tf32_mode) {
  /* x = 1 + 2^-11, w = 1 + 2^-11: exact product 1 + 2^-10 + 2^-22; rounded operands are each
   * 1 + 2^-10, product 1 + 2^-9 + 2^-20. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 1, 1, 1, 1, 1, 1);
  const float v[] = {1.0f + 0x1p-11f};
  double y;
  conv2d_reference(&p, v, v, NULL, CONV2D_REFERENCE_EXACT, &y, NULL);
  ck_assert_double_eq(y, 1.0 + 0x1p-10 + 0x1p-22);
  conv2d_reference(&p, v, v, NULL, CONV2D_REFERENCE_TF32, &y, NULL);
  ck_assert_double_eq(y, 1.0 + 0x1p-9 + 0x1p-20);
  convgemm_conv2d_params_init(&p, 1, 8, 5, 5, 8, 3, 3);
  ck_assert_int_eq(conv2d_reference_operands_for(&p), CONV2D_REFERENCE_TF32);
  p.groups = 4; /* C/G 2 */
  ck_assert_int_eq(conv2d_reference_operands_for(&p), CONV2D_REFERENCE_TF32);
  p.groups = 8; /* depthwise: DEFAULT math is fp32 */
  ck_assert_int_eq(conv2d_reference_operands_for(&p), CONV2D_REFERENCE_EXACT);
  p.groups = 1;
  p.c = 1;
  ck_assert_int_eq(conv2d_reference_operands_for(&p), CONV2D_REFERENCE_EXACT);
  p.c = 8;
  p.math_mode = CONVGEMM_MATH_IEEE;
  ck_assert_int_eq(conv2d_reference_operands_for(&p), CONV2D_REFERENCE_EXACT);
}
END_TEST

START_TEST(test_reference_out_extent) {
  ck_assert_int_eq(conv2d_reference_out_extent(512, 0, 3, 1, 1), 510);
  ck_assert_int_eq(conv2d_reference_out_extent(7, 1, 3, 2, 1), 4);
  ck_assert_int_eq(conv2d_reference_out_extent(5, 0, 3, 1, 3), 0); /* 7 > 5: no output */
  ck_assert_int_eq(conv2d_reference_out_extent(1, 1, 3, 1, 1), 1);
}
END_TEST

/* A random problem with every option on. */
static convgemm_conv2d_params_t mixed_params(void) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 2, 6, 11, 13, 9, 3, 2);
  p.pad_h = 2;
  p.pad_w = 1;
  p.stride_h = 2;
  p.stride_w = 1;
  p.dilation_h = 1;
  p.dilation_w = 3;
  p.groups = 3;
  p.has_bias = 1;
  return p;
}

START_TEST(test_reference_at_indices_matches_full) {
  const convgemm_conv2d_params_t p = mixed_params();
  const int64_t x_elems = p.n * p.c * p.h * p.w, w_elems = p.k * (p.c / p.groups) * p.r * p.s;
  const int64_t y_elems = conv2d_reference_y_elems(&p);
  float* x = malloc((size_t)x_elems * sizeof(float));
  float* w = malloc((size_t)w_elems * sizeof(float));
  float bias[9];
  double* y = malloc((size_t)y_elems * sizeof(double));
  double* a = malloc((size_t)y_elems * sizeof(double));
  test_rng_t rng;
  test_rng_seed(&rng, 7);
  test_fill_conv_inputs(&rng, &p, x, w, bias);
  for (int mode = 0; mode < 2; ++mode) {
    conv2d_reference(&p, x, w, bias, (conv2d_reference_operands_t)mode, y, a);
    /* Indices out of order and repeated, first and last included. */
    int64_t idx[64];
    for (int i = 0; i < 62; ++i) idx[i] = test_rng_int(&rng, 0, y_elems - 1);
    idx[62] = 0;
    idx[63] = y_elems - 1;
    double ys[64], as[64];
    conv2d_reference_at(&p, x, w, bias, (conv2d_reference_operands_t)mode, idx, 64, ys, as);
    for (int i = 0; i < 64; ++i) {
      ck_assert_double_eq(ys[i], y[idx[i]]);
      ck_assert_double_eq(as[i], a[idx[i]]);
    }
    /* abs_sum may be left out. */
    conv2d_reference_at(&p, x, w, bias, (conv2d_reference_operands_t)mode, idx, 64, ys, NULL);
    ck_assert_double_eq(ys[63], y[y_elems - 1]);
  }
  free(x);
  free(w);
  free(y);
  free(a);
}
END_TEST

/* ---- the tolerance ---------------------------------------------------------------------- */

/* y in float32 exactly as the DIRECT kernels compute it: acc = fmaf(w, x, acc) over c, r, s
 * (padding taps included as x = 0), operands TF32-rounded in DEFAULT math, then acc + bias. */
static void emulate_library(const convgemm_conv2d_params_t* p, const float* x, const float* w,
                            const float* bias, int round_tf32, float* y) {
  const int64_t out_h = conv2d_reference_out_extent(p->h, p->pad_h, p->r, p->stride_h,
                                                    p->dilation_h);
  const int64_t out_w = conv2d_reference_out_extent(p->w, p->pad_w, p->s, p->stride_w,
                                                    p->dilation_w);
  const int64_t cg = p->c / p->groups, kg = p->k / p->groups;
  for (int64_t n = 0; n < p->n; ++n)
    for (int64_t k = 0; k < p->k; ++k)
      for (int64_t oh = 0; oh < out_h; ++oh)
        for (int64_t ow = 0; ow < out_w; ++ow) {
          float acc = 0.0f;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t r = 0; r < p->r; ++r)
              for (int64_t s = 0; s < p->s; ++s) {
                const int64_t ih = oh * p->stride_h - p->pad_h + r * p->dilation_h;
                const int64_t iw = ow * p->stride_w - p->pad_w + s * p->dilation_w;
                float xv = 0.0f;
                if (ih >= 0 && ih < p->h && iw >= 0 && iw < p->w)
                  xv = x[((n * p->c + (k / kg) * cg + c) * p->h + ih) * p->w + iw];
                float wv = w[((k * cg + c) * p->r + r) * p->s + s];
                if (round_tf32) {
                  xv = tf32_round_rna_host(xv);
                  wv = tf32_round_rna_host(wv);
                }
                acc = fmaf(wv, xv, acc);
              }
          y[((n * p->k + k) * out_h + oh) * out_w + ow] = acc + (bias != NULL ? bias[k] : 0.0f);
        }
}

typedef struct emulated_problem {
  convgemm_conv2d_params_t p;
  int64_t y_elems, n_terms;
  float *x, *w, *bias, *y;
  double *ref, *abs_sum;
} emulated_problem_t;

/* Random inputs for p, the reference with `operands`, and the emulated library result with
 * operands rounded when round_tf32. */
static void emulate(emulated_problem_t* e, const convgemm_conv2d_params_t* p, uint64_t seed,
                    conv2d_reference_operands_t operands, int round_tf32) {
  e->p = *p;
  const int64_t x_elems = p->n * p->c * p->h * p->w;
  const int64_t w_elems = p->k * (p->c / p->groups) * p->r * p->s;
  e->y_elems = conv2d_reference_y_elems(p);
  e->n_terms = conv_compare_terms(p->c / p->groups, p->r, p->s);
  e->x = malloc((size_t)x_elems * sizeof(float));
  e->w = malloc((size_t)w_elems * sizeof(float));
  e->bias = p->has_bias ? malloc((size_t)p->k * sizeof(float)) : NULL;
  e->y = malloc((size_t)e->y_elems * sizeof(float));
  e->ref = malloc((size_t)e->y_elems * sizeof(double));
  e->abs_sum = malloc((size_t)e->y_elems * sizeof(double));
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  test_fill_conv_inputs(&rng, p, e->x, e->w, e->bias);
  conv2d_reference(p, e->x, e->w, e->bias, operands, e->ref, e->abs_sum);
  emulate_library(p, e->x, e->w, e->bias, round_tf32, e->y);
}

static void emulated_free(emulated_problem_t* e) {
  free(e->x);
  free(e->w);
  free(e->bias);
  free(e->y);
  free(e->ref);
  free(e->abs_sum);
}

/* Shapes from n = 2 (1x1, one channel per group, bias) to n = 1153 (C 128 3x3). */
static convgemm_conv2d_params_t tolerance_problem(int i) {
  convgemm_conv2d_params_t p;
  switch (i) {
    case 0: /* depthwise 1x1 with bias: n = 2 */
      convgemm_conv2d_params_init(&p, 2, 16, 9, 9, 16, 1, 1);
      p.groups = 16;
      p.has_bias = 1;
      break;
    case 1: /* 3x3, padding and bias: n = 73 */
      convgemm_conv2d_params_init(&p, 1, 8, 12, 12, 8, 3, 3);
      p.pad_h = p.pad_w = 1;
      p.has_bias = 1;
      break;
    case 2: /* problem 55's reduction: n = 577 */
      convgemm_conv2d_params_init(&p, 1, 64, 6, 8, 4, 3, 3);
      break;
    case 3: /* strided, dilated, grouped: n = 1 + 6*5*5 */
      convgemm_conv2d_params_init(&p, 1, 12, 20, 20, 4, 5, 5);
      p.groups = 2;
      p.stride_h = 2;
      p.dilation_w = 2;
      p.pad_h = p.pad_w = 2;
      break;
    default: /* a long reduction: n = 1153 */
      convgemm_conv2d_params_init(&p, 1, 128, 5, 5, 2, 3, 3);
      p.has_bias = 1;
      break;
  }
  return p;
}
enum { kToleranceProblems = 5 };

START_TEST(test_tolerance_passes_correct_float32_results) {
  const convgemm_conv2d_params_t p = tolerance_problem(_i);
  for (int mode = 0; mode < 2; ++mode) {
    emulated_problem_t e;
    emulate(&e, &p, 100 + (uint64_t)_i, (conv2d_reference_operands_t)mode, mode);
    conv_compare_result_t r;
    conv_compare(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, &r);
    char summary[512];
    conv_compare_describe(&r, summary, sizeof summary);
    ck_assert_msg(conv_compare_passed(&r), "problem %d mode %d: %s", _i, mode, summary);
    /* The L2 limit is not so loose that it is never approached: typical errors sit within 20x. */
    ck_assert_msg(r.rel_l2 == 0.0 || r.rel_l2 > r.rel_l2_limit / 20,
                  "problem %d mode %d: rel L2 %.3g is far below its limit %.3g; recheck the "
                  "derivation", _i, mode, r.rel_l2, r.rel_l2_limit);
    emulated_free(&e);
  }
}
END_TEST

START_TEST(test_tolerance_catches_one_bad_output) {
  const convgemm_conv2d_params_t p = tolerance_problem(_i);
  emulated_problem_t e;
  emulate(&e, &p, 200 + (uint64_t)_i, CONV2D_REFERENCE_EXACT, 0);
  /* The element with the largest |y|, off by 1e-4 relative: what a dropped low-order term or a
   * TF32 product slipping into IEEE math would do. */
  int64_t worst = 0;
  for (int64_t i = 1; i < e.y_elems; ++i)
    if (fabsf(e.y[i]) > fabsf(e.y[worst])) worst = i;
  e.y[worst] *= 1.0f + 1e-4f;
  conv_compare_result_t r;
  conv_compare(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, &r);
  ck_assert_msg(!conv_compare_passed(&r), "problem %d (n = %lld): a 1e-4 relative error at [%lld] passed",
                _i, (long long)e.n_terms, (long long)worst);
  /* Up to n ~ 100 the per-element bound itself flags it; beyond, the bound (n*u*S) grows past
   * 1e-4 |y| and the relative L2 limit is what catches it. */
  if (e.n_terms <= 100)
    ck_assert_msg(r.failures == 1 && r.first_failure == worst,
                  "problem %d: the element bound missed a 1e-4 relative error at [%lld]", _i,
                  (long long)worst);
  else
    ck_assert_msg(r.rel_l2 > r.rel_l2_limit, "problem %d: rel L2 %.3g within %.3g", _i, r.rel_l2,
                  r.rel_l2_limit);
  emulated_free(&e);
}
END_TEST

START_TEST(test_tolerance_catches_nan_and_inf) {
  const convgemm_conv2d_params_t p = tolerance_problem(1);
  emulated_problem_t e;
  emulate(&e, &p, 300, CONV2D_REFERENCE_EXACT, 0);
  const float saved = e.y[5];
  e.y[5] = NAN;
  conv_compare_result_t r;
  conv_compare(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, &r);
  ck_assert_int_eq(r.failures, 1);
  ck_assert_int_eq(r.first_failure, 5);
  ck_assert(!conv_compare_passed(&r));
  e.y[5] = INFINITY;
  conv_compare(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, &r);
  ck_assert_int_eq(r.failures, 1);
  ck_assert(!conv_compare_passed(&r));
  e.y[5] = saved;
  conv_compare(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, &r);
  ck_assert(conv_compare_passed(&r));
  emulated_free(&e);
}
END_TEST

START_TEST(test_tolerance_catches_unrounded_operands) {
  /* DEFAULT math must round x and w: an fp32 result of unrounded operands, judged against the
   * TF32-operand reference, has to fail (through the L2 limit where n is large enough for the
   * per-element bound to absorb it). */
  const convgemm_conv2d_params_t p = tolerance_problem(_i);
  emulated_problem_t e;
  emulate(&e, &p, 400 + (uint64_t)_i, CONV2D_REFERENCE_TF32, 0);
  conv_compare_result_t r;
  conv_compare(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, &r);
  ck_assert_msg(!conv_compare_passed(&r), "problem %d: unrounded operands passed (rel L2 %.3g)",
                _i, r.rel_l2);
  emulated_free(&e);
}
END_TEST

START_TEST(test_bound_formula) {
  /* n*u*S to first order, plus n subnormal steps. */
  const double b = conv_compare_bound(1.0, 577);
  ck_assert(b > 577 * 0x1p-24 && b < 577 * 0x1p-24 * 1.0001);
  ck_assert(conv_compare_bound(0.0, 10) == 10 * 0x1p-149);
  ck_assert_int_eq(conv_compare_terms(64, 3, 3), 577);
  ck_assert_double_eq(conv_compare_rel_l2_limit(4), 4 * 0x1p-24);
}
END_TEST

/* ---- the bias as IM2COL_GEMM adds it in DEFAULT math ------------------------------------- */

/* gemm/pack_filter.h's split of a bias into two TF32 terms, on the host model of the rounding. */
static void split_bias(float b, float* hi, float* lo) {
  *hi = tf32_round_rna_host(b);
  *lo = isinf(*hi) ? 0.0f : tf32_round_rna_host(b - *hi);
}

/* The two facts conv_compare_widen_for_split_bias rests on, for one b. */
static void expect_split_within_bounds(float b) {
  float hi, lo;
  split_bias(b, &hi, &lo);
  const double bd = (double)b, h = (double)hi, l = (double)lo;
  ck_assert_msg((double)(b - hi) == bd - h, "b 0x%08x: b - hi is not exact in fp32",
                float_to_bits(b));
  ck_assert_msg(fabs(h) + fabs(l) <= (1.0 + 0x1p-9) * fabs(bd) + 0x1p-135,
                "b 0x%08x: |hi| + |lo| = %.17g > (1 + 2^-9)|b|", float_to_bits(b),
                fabs(h) + fabs(l));
  ck_assert_msg(fabs(h + l - bd) <= 0x1p-22 * fabs(bd) + 0x1p-136,
                "b 0x%08x: |hi + lo - b| = %.3g > 2^-22 |b| = %.3g", float_to_bits(b),
                fabs(h + l - bd), 0x1p-22 * fabs(bd));
}

START_TEST(test_split_bias_bounds) {
  /* Every binade (subnormals included), random mantissas, both signs; and the mantissas where
   * the roundings are at their worst: just below and at the TF32 ties, all ones, binade edges.
   * Magnitudes from 0x7F7FF000 up are left out: there hi rounds to Inf (see the report of
   * gpu_im2col_gemm_test's test_bias_near_float_max). */
  static const uint32_t kMantissas[] = {0x000000u, 0x000001u, 0x000FFFu, 0x001000u, 0x001001u,
                                        0x001FFFu, 0x002FFFu, 0x003000u, 0x7FEFFFu, 0x7FF000u,
                                        0x7FFFFFu, 0x400FFFu, 0x555555u, 0x2AAAAAu};
  test_rng_t rng;
  test_rng_seed(&rng, 4242);
  int checked = 0;
  for (uint32_t e = 0; e < 255; ++e)
    for (int sign = 0; sign < 2; ++sign) {
      for (size_t m = 0; m < sizeof kMantissas / sizeof kMantissas[0]; ++m) {
        const uint32_t bits = ((uint32_t)sign << 31) | (e << 23) | kMantissas[m];
        if ((bits & 0x7FFFFFFFu) >= 0x7F7FF000u) continue;
        expect_split_within_bounds(bits_to_float(bits));
        ++checked;
      }
      for (int i = 0; i < 64; ++i) {
        const uint32_t bits =
            ((uint32_t)sign << 31) | (e << 23) | (uint32_t)(test_rng_next(&rng) & 0x7FFFFFu);
        if ((bits & 0x7FFFFFFFu) >= 0x7F7FF000u) continue;
        expect_split_within_bounds(bits_to_float(bits));
        ++checked;
      }
    }
  ck_assert_int_gt(checked, 255 * 2 * 70);
  /* A worst case: b = 1 + 2^-11 + 2^-22 + 2^-23 splits into hi = 1 + 2^-10 and
   * lo = tf32(-(2^-11 - 3*2^-23)) = -(2^-11 - 2^-22) (a tie on lo's spacing 2^-22, away from
   * zero), so hi + lo - b = -2^-23: half of 2^-22 |b| (lo's rounding error is at most half its
   * spacing, 2^(e_b - 23); the bound keeps the factor 2 the brief derivation allows). */
  float hi, lo;
  const float b = 1.0f + 0x1p-11f + 0x1p-22f + 0x1p-23f;
  split_bias(b, &hi, &lo);
  ck_assert_float_eq(hi, 1.0f + 0x1p-10f);
  ck_assert_float_eq(lo, -0x1p-11f + 0x1p-22f);
  ck_assert_double_eq((double)hi + (double)lo - (double)b, -0x1p-23);
}
END_TEST

START_TEST(test_split_bias_widening_formula) {
  /* Two images, two channels, three pixels: each abs_sum grows by
   * 2^-9|b| + 2^-135 + (2^-22|b| + 2^-136) / gamma_n(2^-24) for its channel's b. */
  const float bias[2] = {0.5f, -2.0f};
  double ref[12], abs_sum[12];
  for (int i = 0; i < 12; ++i) {
    ref[i] = 1.0;
    abs_sum[i] = 3.0;
  }
  const int64_t n = 10;
  const double gamma = 10 * 0x1p-24 / (1.0 - 10 * 0x1p-24);
  const double extra = conv_compare_widen_for_split_bias(bias, 2, 2, 3, n, ref, abs_sum);
  for (int i = 0; i < 12; ++i) {
    const double b = (i / 3) % 2 == 0 ? 0.5 : 2.0;
    const double want = 3.0 + 0x1p-9 * b + 0x1p-135 + (0x1p-22 * b + 0x1p-136) / gamma;
    ck_assert_msg(fabs(abs_sum[i] - want) <= 1e-15 * want, "abs_sum[%d] = %.17g, want %.17g", i,
                  abs_sum[i], want);
    /* The widened bound holds at least the two added terms. */
    ck_assert(conv_compare_bound(abs_sum[i], n) - conv_compare_bound(3.0, n) >=
              gamma * (0x1p-9 * b + 0x1p-135) + 0x1p-22 * b + 0x1p-136);
  }
  /* ||d|| / ||ref|| with d = 2^-22 |b| + 2^-136 per output: 6 of each channel over sqrt(12). */
  const double d0 = 0x1p-22 * 0.5 + 0x1p-136, d1 = 0x1p-22 * 2.0 + 0x1p-136;
  const double want_extra = sqrt((6 * d0 * d0 + 6 * d1 * d1) / 12.0);
  ck_assert_msg(fabs(extra - want_extra) <= 1e-12 * want_extra, "L2 addition %.17g, want %.17g",
                extra, want_extra);
}
END_TEST

/* y in float32 as a TF32 GEMM with the split bias could compute it: the exact products of the
 * TF32-rounded operands, hi and lo, summed in fp32 (round to nearest) with the bias terms first
 * (one order cuBLAS may take; the bound covers any). keep_lo = 0 drops lo: a defect. */
static void emulate_split_bias(const convgemm_conv2d_params_t* p, const float* x, const float* w,
                               const float* bias, int keep_lo, float* y) {
  const int64_t out_h = conv2d_reference_out_extent(p->h, p->pad_h, p->r, p->stride_h,
                                                    p->dilation_h);
  const int64_t out_w = conv2d_reference_out_extent(p->w, p->pad_w, p->s, p->stride_w,
                                                    p->dilation_w);
  const int64_t cg = p->c / p->groups, kg = p->k / p->groups;
  for (int64_t n = 0; n < p->n; ++n)
    for (int64_t k = 0; k < p->k; ++k) {
      float hi, lo;
      split_bias(bias[k], &hi, &lo);
      for (int64_t oh = 0; oh < out_h; ++oh)
        for (int64_t ow = 0; ow < out_w; ++ow) {
          float acc = hi + (keep_lo ? lo : 0.0f);
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t r = 0; r < p->r; ++r)
              for (int64_t s = 0; s < p->s; ++s) {
                const int64_t ih = oh * p->stride_h - p->pad_h + r * p->dilation_h;
                const int64_t iw = ow * p->stride_w - p->pad_w + s * p->dilation_w;
                float xv = 0.0f;
                if (ih >= 0 && ih < p->h && iw >= 0 && iw < p->w)
                  xv = x[((n * p->c + (k / kg) * cg + c) * p->h + ih) * p->w + iw];
                const float wv = w[((k * cg + c) * p->r + r) * p->s + s];
                acc += tf32_round_rna_host(xv) * tf32_round_rna_host(wv); /* exact product */
              }
          y[((n * p->k + k) * out_h + oh) * out_w + ow] = acc;
        }
    }
}

START_TEST(test_split_bias_tolerance_passes_and_catches) {
  /* Every tolerance problem, with a bias: the split-bias emulation passes the widened bound; the
   * same without lo (a 2^-11-relative bias error) fails it. */
  convgemm_conv2d_params_t p = tolerance_problem(_i);
  p.has_bias = 1;
  emulated_problem_t e;
  emulate(&e, &p, 500 + (uint64_t)_i, CONV2D_REFERENCE_TF32, 1);
  const int64_t plane = e.y_elems / (p.n * p.k);
  const double extra =
      conv_compare_widen_for_split_bias(e.bias, p.n, p.k, plane, e.n_terms, e.ref, e.abs_sum);
  char summary[512];
  for (int keep_lo = 1; keep_lo >= 0; --keep_lo) {
    emulate_split_bias(&p, e.x, e.w, e.bias, keep_lo, e.y);
    conv_compare_result_t r;
    conv_compare(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, &r);
    r.rel_l2_limit += extra;
    conv_compare_describe(&r, summary, sizeof summary);
    if (keep_lo)
      ck_assert_msg(conv_compare_passed(&r), "problem %d: %s", _i, summary);
    else
      ck_assert_msg(!conv_compare_passed(&r), "problem %d: the bias without lo passed: %s", _i,
                    summary);
  }
  emulated_free(&e);
}
END_TEST

/* ---- 16-bit encodings ------------------------------------------------------------------- */

/* An independent model of rounding v to a type with `digits` significant bits, smallest normal
 * exponent emin and largest finite value max: the nearest multiple of the binade's quantum
 * 2^(e - digits + 1) (e >= emin: subnormals share emin's quantum), ties to even (rint, in the
 * default rounding mode), Inf beyond max. Exact in float64 for every float input. */
static double model_round(float v, int digits, int emin, double max) {
  if (isnan(v) || isinf(v) || v == 0.0f) return v;
  int e;
  frexp((double)v, &e); /* |v| in [2^(e-1), 2^e) */
  e -= 1;
  if (e < emin) e = emin;
  const double quantum = ldexp(1.0, e - digits + 1);
  const double r = rint((double)v / quantum) * quantum;
  if (fabs(r) > max) return copysign(INFINITY, v);
  return r;
}

static double model_half(float v) { return model_round(v, 11, -14, 65504.0); }
static double model_bf16(float v) { return model_round(v, 8, -126, 0x1.FEp127); }

/* Check's assertions log every pass (a file write each): the loops below count mismatches and
 * assert once, naming the first. */
START_TEST(test_16bit_encodings_round_trip) {
  int64_t bad = 0;
  uint32_t first_bad = 0;
  for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
    const uint16_t b = (uint16_t)bits;
    const float h = test_half_bits_to_float(b);
    const float f = test_bf16_bits_to_float(b);
    int ok = 1;
    if (isnan(h))
      ok &= isnan(test_half_bits_to_float(test_float_to_half_bits(h)));
    else
      ok &= test_float_to_half_bits(h) == b &&
            (model_half(h) == (double)h || (isinf(h) && isinf(model_half(h))));
    if (isnan(f))
      ok &= isnan(test_bf16_bits_to_float(test_float_to_bf16_bits(f)));
    else
      ok &= test_float_to_bf16_bits(f) == b;
    if (!ok && bad++ == 0) first_bad = bits;
  }
  ck_assert_msg(bad == 0, "%lld encodings do not round-trip (or lie off the model's grid); first "
                "0x%04x: float16 %.9g -> 0x%04x, bfloat16 %.9g -> 0x%04x", (long long)bad,
                first_bad, (double)test_half_bits_to_float((uint16_t)first_bad),
                test_float_to_half_bits(test_half_bits_to_float((uint16_t)first_bad)),
                (double)test_bf16_bits_to_float((uint16_t)first_bad),
                test_float_to_bf16_bits(test_bf16_bits_to_float((uint16_t)first_bad)));
  /* Known encodings. */
  ck_assert_float_eq(test_half_bits_to_float(0x3C00u), 1.0f);
  ck_assert_float_eq(test_half_bits_to_float(0x7BFFu), 65504.0f);
  ck_assert_float_eq(test_half_bits_to_float(0x0001u), 0x1p-24f);
  ck_assert_float_eq(test_half_bits_to_float(0x0400u), 0x1p-14f);
  ck_assert_float_eq(test_half_bits_to_float(0xC000u), -2.0f);
  ck_assert_float_eq(test_bf16_bits_to_float(0x3F80u), 1.0f);
  ck_assert_float_eq(test_bf16_bits_to_float(0x0001u), 0x1p-133f);
}
END_TEST

START_TEST(test_16bit_rounding_matches_the_model) {
  /* Every 251st float pattern (17 million, every binade and sign, NaN and Inf included). */
  int64_t checked = 0, bad = 0;
  float first_bad = 0.0f;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 251) {
    const float v = bits_to_float((uint32_t)bits);
    const float h = test_round_to_type(v, CONVGEMM_DATA_FLOAT16);
    const float b = test_round_to_type(v, CONVGEMM_DATA_BFLOAT16);
    int ok;
    if (isnan(v))
      ok = isnan(h) && isnan(b);
    else
      ok = (double)h == model_half(v) && signbit(h) == signbit(v) &&
           (double)b == model_bf16(v) && signbit(b) == signbit(v);
    if (!ok && bad++ == 0) first_bad = v;
    ++checked;
  }
  ck_assert_msg(bad == 0, "%lld of %lld floats round differently from the model; first %a: "
                "float16 %a (model %a), bfloat16 %a (model %a)", (long long)bad,
                (long long)checked, (double)first_bad,
                (double)test_round_to_type(first_bad, CONVGEMM_DATA_FLOAT16),
                model_half(first_bad),
                (double)test_round_to_type(first_bad, CONVGEMM_DATA_BFLOAT16),
                model_bf16(first_bad));
  ck_assert_int_gt(checked, 17000000);
}
END_TEST

START_TEST(test_16bit_ties_round_to_even) {
  /* float16: 1 + 2^-11 is halfway between 1 and 1 + 2^-10: even is 1. 1 + 3 * 2^-11: up. */
  ck_assert_float_eq(test_round_to_type(1.0f + 0x1p-11f, CONVGEMM_DATA_FLOAT16), 1.0f);
  ck_assert_float_eq(test_round_to_type(1.0f + 0x3p-11f, CONVGEMM_DATA_FLOAT16), 1.0f + 0x1p-9f);
  ck_assert_float_eq(test_round_to_type(-1.0f - 0x1p-11f, CONVGEMM_DATA_FLOAT16), -1.0f);
  /* Just above the tie: up. */
  ck_assert_float_eq(test_round_to_type(1.0f + 0x1p-11f + 0x1p-23f, CONVGEMM_DATA_FLOAT16),
                     1.0f + 0x1p-10f);
  /* The top: 65519 down to 65504, the tie 65520 to even, which is 2^16: Inf. */
  ck_assert_float_eq(test_round_to_type(65519.0f, CONVGEMM_DATA_FLOAT16), 65504.0f);
  ck_assert(isinf(test_round_to_type(65520.0f, CONVGEMM_DATA_FLOAT16)));
  ck_assert_uint_eq(test_float_to_half_bits(-65520.0f), 0xFC00u);
  /* Subnormals: 2^-25 is halfway between 0 and 2^-24: 0 (with its sign); 3 * 2^-25: 2^-23. */
  ck_assert_uint_eq(test_float_to_half_bits(0x1p-25f), 0x0000u);
  ck_assert_uint_eq(test_float_to_half_bits(-0x1p-25f), 0x8000u);
  ck_assert_uint_eq(test_float_to_half_bits(0x3p-25f), 0x0002u);
  /* The largest subnormal rounding up into the smallest normal. */
  ck_assert_uint_eq(test_float_to_half_bits(0x1p-14f - 0x1p-26f), 0x0400u);
  /* bfloat16: 1 + 2^-8 is the tie between 1 and 1 + 2^-7: 1; 1 + 3 * 2^-8: 1 + 2^-6. */
  ck_assert_float_eq(test_round_to_type(1.0f + 0x1p-8f, CONVGEMM_DATA_BFLOAT16), 1.0f);
  ck_assert_float_eq(test_round_to_type(1.0f + 0x3p-8f, CONVGEMM_DATA_BFLOAT16), 1.0f + 0x1p-6f);
  /* Past the largest bfloat16 (0x7F7F) by the tie: Inf; FLT_MAX too. */
  ck_assert_uint_eq(test_float_to_bf16_bits(FLT_MAX), 0x7F80u);
  ck_assert_uint_eq(test_float_to_bf16_bits(bits_to_float(0x7F7F7FFFu)), 0x7F7Fu);
  ck_assert_uint_eq(test_float_to_bf16_bits(bits_to_float(0x7F7F8000u)), 0x7F80u);
  /* Unit roundoffs and subnormal steps of the bound. */
  ck_assert_double_eq(test_unit_roundoff(CONVGEMM_DATA_FLOAT16), 0x1p-11);
  ck_assert_double_eq(test_unit_roundoff(CONVGEMM_DATA_BFLOAT16), 0x1p-8);
  ck_assert_double_eq(test_subnormal_half_step(CONVGEMM_DATA_FLOAT16), 0x1p-25);
  ck_assert_double_eq(test_subnormal_half_step(CONVGEMM_DATA_BFLOAT16), 0x1p-134);
}
END_TEST

/* ---- the 16-bit tolerance ---------------------------------------------------------------- */

typedef enum output_rounding { ROUND_NEAREST = 0, ROUND_TRUNCATE = 1 } output_rounding_t;

/* v rounded to `type` toward zero (a kernel that truncated at the store). */
static float truncate_to_type(float v, convgemm_data_type_t type) {
  const float r = test_round_to_type(v, type);
  if (fabsf(r) <= fabsf(v)) return r;
  /* r is the neighbour above in magnitude: step one ulp back toward zero. */
  if (type == CONVGEMM_DATA_FLOAT16) {
    const uint16_t b = test_float_to_half_bits(r);
    return test_half_bits_to_float((uint16_t)(b - 1));
  }
  const uint16_t b = test_float_to_bf16_bits(r);
  return test_bf16_bits_to_float((uint16_t)(b - 1));
}

/* Random inputs rounded to `type`, the reference (exact operands), and the library emulated:
 * DIRECT's fp32 sum of the same values, then one rounding of each output to the type. */
static void emulate_16bit(emulated_problem_t* e, const convgemm_conv2d_params_t* params,
                          uint64_t seed, convgemm_data_type_t type, output_rounding_t rounding) {
  convgemm_conv2d_params_t p = *params;
  p.data_type = type;
  e->p = p;
  const int64_t x_elems = p.n * p.c * p.h * p.w;
  const int64_t w_elems = p.k * (p.c / p.groups) * p.r * p.s;
  e->y_elems = conv2d_reference_y_elems(&p);
  e->n_terms = conv_compare_terms(p.c / p.groups, p.r, p.s);
  e->x = malloc((size_t)x_elems * sizeof(float));
  e->w = malloc((size_t)w_elems * sizeof(float));
  e->bias = p.has_bias ? malloc((size_t)p.k * sizeof(float)) : NULL;
  e->y = malloc((size_t)e->y_elems * sizeof(float));
  e->ref = malloc((size_t)e->y_elems * sizeof(double));
  e->abs_sum = malloc((size_t)e->y_elems * sizeof(double));
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  test_fill_conv_inputs(&rng, &p, e->x, e->w, e->bias);
  test_round_array_to_type(e->x, x_elems, type);
  test_round_array_to_type(e->w, w_elems, type);
  if (e->bias != NULL) test_round_array_to_type(e->bias, p.k, type);
  ck_assert_int_eq(conv2d_reference_operands_for(&p), CONV2D_REFERENCE_EXACT);
  conv2d_reference(&p, e->x, e->w, e->bias, CONV2D_REFERENCE_EXACT, e->ref, e->abs_sum);
  emulate_library(&p, e->x, e->w, e->bias, 0, e->y);
  for (int64_t i = 0; i < e->y_elems; ++i)
    e->y[i] = rounding == ROUND_NEAREST ? test_round_to_type(e->y[i], type)
                                        : truncate_to_type(e->y[i], type);
}

START_TEST(test_16bit_tolerance_passes_correct_results) {
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  const convgemm_conv2d_params_t p = tolerance_problem(_i);
  for (int t = 0; t < 2; ++t) {
    emulated_problem_t e;
    emulate_16bit(&e, &p, 300 + (uint64_t)_i, kTypes[t], ROUND_NEAREST);
    conv_compare_result_t r;
    conv_compare_typed(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, kTypes[t], &r);
    char summary[512];
    conv_compare_describe(&r, summary, sizeof summary);
    ck_assert_msg(conv_compare_passed(&r), "problem %d type %d: %s", _i, (int)kTypes[t], summary);
    /* Tight: the output's rounding alone brings some element's error near its u16 |ref| term (a
     * rounding error near half an ulp at the bottom of a binade is u16 |y|) and the L2 error to
     * about 0.41 u16 (conv_compare.h). */
    double worst = 0.0;
    for (int64_t i = 0; i < e.y_elems; ++i)
      if (e.ref[i] != 0.0) {
        const double ratio = fabs((double)e.y[i] - e.ref[i]) /
                             (test_unit_roundoff(kTypes[t]) * fabs(e.ref[i]));
        if (ratio > worst) worst = ratio;
      }
    ck_assert_msg(worst > 0.25, "problem %d type %d: worst error only %.3g of u16 |ref|", _i,
                  (int)kTypes[t], worst);
    ck_assert_msg(r.rel_l2 > r.rel_l2_limit / 5, "problem %d type %d: rel L2 %.3g far below %.3g",
                  _i, (int)kTypes[t], r.rel_l2, r.rel_l2_limit);
    emulated_free(&e);
  }
}
END_TEST

START_TEST(test_16bit_tolerance_catches_truncation_and_an_ulp) {
  /* Where the output's rounding dominates the bound: reductions up to n = 100. Beyond, the
   * worst-case fp32 accumulation term n 2^-24 S (conv_compare.h) outgrows u16 |ref| (float16:
   * once n S / |ref| > 2^13) and an error of one ulp hides under it; the GPU suites' many short
   * reductions (3x3 and 1x1 filters over a few channels) are where a store that does not round
   * to nearest shows. */
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  const convgemm_conv2d_params_t p = tolerance_problem(_i);
  if (conv_compare_terms(p.c / p.groups, p.r, p.s) > 100) return;
  for (int t = 0; t < 2; ++t) {
    /* A store that truncates (round toward zero) instead of rounding to nearest. */
    emulated_problem_t e;
    emulate_16bit(&e, &p, 400 + (uint64_t)_i, kTypes[t], ROUND_TRUNCATE);
    conv_compare_result_t r;
    conv_compare_typed(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, kTypes[t], &r);
    ck_assert_msg(!conv_compare_passed(&r) && r.failures > 0,
                  "problem %d type %d: truncated outputs passed", _i, (int)kTypes[t]);
    emulated_free(&e);
    /* One output (the largest) one ulp off a correct rounding. */
    emulate_16bit(&e, &p, 500 + (uint64_t)_i, kTypes[t], ROUND_NEAREST);
    int64_t worst = 0;
    for (int64_t i = 1; i < e.y_elems; ++i)
      if (fabsf(e.y[i]) > fabsf(e.y[worst])) worst = i;
    const double err_before = fabs((double)e.y[worst] - e.ref[worst]);
    /* Away from the reference (the bits step the magnitude): the error grows by a whole ulp. */
    const int away = ((double)e.y[worst] >= e.ref[worst]) == (e.y[worst] >= 0.0f);
    if (kTypes[t] == CONVGEMM_DATA_FLOAT16) {
      const uint16_t b = test_float_to_half_bits(e.y[worst]);
      e.y[worst] = test_half_bits_to_float((uint16_t)(away ? b + 1 : b - 1));
    } else {
      const uint16_t b = test_float_to_bf16_bits(e.y[worst]);
      e.y[worst] = test_bf16_bits_to_float((uint16_t)(away ? b + 1 : b - 1));
    }
    ck_assert(fabs((double)e.y[worst] - e.ref[worst]) > err_before);
    conv_compare_typed(e.y, e.ref, e.abs_sum, e.y_elems, e.n_terms, kTypes[t], &r);
    ck_assert_msg(r.failures == 1 && r.first_failure == worst,
                  "problem %d type %d: one output an ulp off: %lld failures, first [%lld]", _i,
                  (int)kTypes[t], (long long)r.failures, (long long)r.first_failure);
    emulated_free(&e);
  }
}
END_TEST

START_TEST(test_16bit_bound_formula) {
  /* u16 |ref| + (1 + u16) B + eta16, B the float32 bound; float32 is B alone. */
  const double b = conv_compare_bound(2.0, 10);
  ck_assert_double_eq(conv_compare_bound_typed(3.0, 2.0, 10, CONVGEMM_DATA_FLOAT32), b);
  ck_assert_double_eq(conv_compare_bound_typed(-3.0, 2.0, 10, CONVGEMM_DATA_FLOAT16),
                      0x1p-11 * 3.0 + (1.0 + 0x1p-11) * b + 0x1p-25);
  ck_assert_double_eq(conv_compare_bound_typed(3.0, 2.0, 10, CONVGEMM_DATA_BFLOAT16),
                      0x1p-8 * 3.0 + (1.0 + 0x1p-8) * b + 0x1p-134);
  ck_assert_double_eq(conv_compare_rel_l2_limit_typed(10, CONVGEMM_DATA_FLOAT32),
                      conv_compare_rel_l2_limit(10));
  ck_assert_double_eq(conv_compare_rel_l2_limit_typed(10, CONVGEMM_DATA_FLOAT16),
                      0x1p-11 + conv_compare_rel_l2_limit(10));
  ck_assert_double_eq(conv_compare_rel_l2_limit_typed(10, CONVGEMM_DATA_BFLOAT16),
                      0x1p-8 + conv_compare_rel_l2_limit(10));
}
END_TEST

static Suite* reference_suite(void) {
  Suite* s = suite_create("cpu_reference");
  TCase* tf32 = tcase_create("tf32_round_host");
  tcase_add_test(tf32, test_tf32_ties_round_away_from_zero);
  tcase_add_test(tf32, test_tf32_non_ties_round_to_nearest);
  tcase_add_test(tf32, test_tf32_zero_inf_nan);
  tcase_add_test(tf32, test_tf32_overflow_goes_to_inf);
  tcase_add_test(tf32, test_tf32_denormals_round_on_their_bits);
  suite_add_tcase(s, tf32);

  TCase* ref = tcase_create("reference");
  tcase_add_test(ref, test_reference_1x1);
  tcase_add_test(ref, test_reference_3x3_padding);
  tcase_add_test(ref, test_reference_stride_2);
  tcase_add_test(ref, test_reference_dilation_2);
  tcase_add_test(ref, test_reference_groups_2);
  tcase_add_test(ref, test_reference_bias);
  tcase_add_test(ref, test_reference_rounds_operands_in_tf32_mode);
  tcase_add_test(ref, test_reference_out_extent);
  tcase_add_test(ref, test_reference_at_indices_matches_full);
  suite_add_tcase(s, ref);

  TCase* tol = tcase_create("tolerance");
  tcase_add_test(tol, test_bound_formula);
  tcase_add_loop_test(tol, test_tolerance_passes_correct_float32_results, 0, kToleranceProblems);
  tcase_add_loop_test(tol, test_tolerance_catches_one_bad_output, 0, kToleranceProblems);
  tcase_add_test(tol, test_tolerance_catches_nan_and_inf);
  tcase_add_loop_test(tol, test_tolerance_catches_unrounded_operands, 0, kToleranceProblems);
  suite_add_tcase(s, tol);

  TCase* split = tcase_create("split_bias");
  tcase_add_test(split, test_split_bias_bounds);
  tcase_add_test(split, test_split_bias_widening_formula);
  tcase_add_loop_test(split, test_split_bias_tolerance_passes_and_catches, 0, kToleranceProblems);
  suite_add_tcase(s, split);

  TCase* enc = tcase_create("16bit_encodings");
  tcase_set_timeout(enc, 60); /* 17 million conversions: a few seconds under sanitizers */
  tcase_add_test(enc, test_16bit_encodings_round_trip);
  tcase_add_test(enc, test_16bit_rounding_matches_the_model);
  tcase_add_test(enc, test_16bit_ties_round_to_even);
  suite_add_tcase(s, enc);

  TCase* tol16 = tcase_create("16bit_tolerance");
  tcase_add_test(tol16, test_16bit_bound_formula);
  tcase_add_loop_test(tol16, test_16bit_tolerance_passes_correct_results, 0, kToleranceProblems);
  tcase_add_loop_test(tol16, test_16bit_tolerance_catches_truncation_and_an_ulp, 0,
                      kToleranceProblems);
  suite_add_tcase(s, tol16);
  return s;
}

int main(void) { return check_main_run(reference_suite(), CK_FORK); }
