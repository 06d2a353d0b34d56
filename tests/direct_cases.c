/* The fixed and random convolutions of gpu_direct_test (direct_cases.h). */
#include "tests/direct_cases.h"

#include <stdio.h>

#include <check.h>

#include "tests/conv2d_reference.h"
#include "tests/test_random.h"

typedef struct case_row {
  const char* name;
  int64_t n, c, h, w, k, r, s;
  int64_t pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w, groups;
  int has_bias;
} case_row_t;

/* Tile kinds (direct_conv2d_plan.h): K64 when K/G >= 48, K16 when >= 8, else K1; tiles are
 * 8 / 16 / 64 output rows x 32 columns; input channels go in chunks of up to 8. ROW_STRIP when
 * 2 <= C/G <= 4, R*S >= 25 and K/G fills 3/4 of its 96-channel tiles: 96 channels x 32 groups
 * of 5 columns over rows of min(ceil(Q/5), 32) groups; its register-window path for stride_w 4,
 * dilation_w 1, S 11 (the AlexNet stem), the general one for everything else.
 *   name                                            n   c    h    w    k   r   s  ph pw sh sw dh   dw   g  bias */
static const case_row_t kRows[] = {
    {"1x1, K64 tile",                                2, 16,   9,  33,  64,  1,  1, 0, 0, 1, 1, 1,    1,  1, 0},
    {"3x3, K16 tile",                                2,  8,  16,  16,  16,  3,  3, 0, 0, 1, 1, 1,    1,  1, 0},
    {"3x3 pad 1 with bias",                          2,  8,  16,  16,  16,  3,  3, 1, 1, 1, 1, 1,    1,  1, 1},
    {"3x3 pad (2,0) stride (2,1)",                   1,  6,  19,  23,  24,  3,  3, 2, 0, 2, 1, 1,    1,  1, 1},
    {"3x3 stride 2 pad 1",                           2,  5,  31,  29,  32,  3,  3, 1, 1, 2, 2, 1,    1,  1, 0},
    {"5x5 stride 3 pad 2",                           1,  4,  40,  37,  20,  5,  5, 2, 2, 3, 3, 1,    1,  1, 1},
    {"3x3 dilation 2 pad 2",                         2,  6,  20,  21,  16,  3,  3, 2, 2, 1, 1, 2,    2,  1, 0},
    {"3x3 dilation (3,2) stride (2,1)",              1,  5,  30,  26,  12,  3,  3, 1, 0, 2, 1, 3,    2,  1, 1},
    {"groups 2, K/G 8",                              2,  8,  14,  18,  16,  3,  3, 1, 1, 1, 1, 1,    1,  2, 0},
    {"groups 4, K/G 64",                             1, 16,  12,  20, 256,  3,  3, 1, 1, 1, 1, 1,    1,  4, 1},
    {"depthwise C=K=G=16",                           2, 16,  21,  35,  16,  3,  3, 1, 1, 1, 1, 1,    1, 16, 1},
    {"depthwise 5x5 stride 2, C=K=G=32",             1, 32,  33,  33,  32,  5,  5, 2, 2, 2, 2, 1,    1, 32, 1},
    {"channel multiplier K=2G",                      2,  8,  17,  19,  16,  3,  3, 1, 1, 1, 1, 1,    1,  8, 0},
    {"5x7 kernel pad (2,3)",                         2,  3,  24,  30,  20,  5,  7, 2, 3, 1, 1, 1,    1,  1, 1},
    {"11x11 stride 4 pad 2, C=3 stem",               2,  3,  63,  63,  64, 11, 11, 2, 2, 4, 4, 1,    1,  1, 1},
    {"11x11 K/G 16, channel chunk below 8",          1, 16,  12,  12,  16, 11, 11, 5, 5, 1, 1, 1,    1,  1, 0},
    {"odd 13x17, K=1",                               2,  3,  13,  17,   1,  3,  3, 0, 0, 1, 1, 1,    1,  1, 1},
    {"odd 13x17, K16 tile",                          2,  5,  13,  17,  16,  3,  3, 1, 1, 1, 1, 1,    1,  1, 0},
    {"odd 13x17, K64 tile",                          1,  7,  13,  17,  64,  3,  3, 1, 1, 1, 1, 1,    1,  1, 1},
    {"N=1 K=1, P=150 over 64-row tiles",             1,  3, 150,  40,   1,  3,  3, 1, 1, 1, 1, 1,    1,  1, 0},
    {"K=200 (partial 64-channel tile)",              1,  4,  20,  40, 200,  3,  3, 0, 0, 1, 1, 1,    1,  1, 1},
    {"K/G=48, smallest K64",                         1,  4,   9,  35,  48,  1,  3, 0, 1, 1, 1, 1,    1,  1, 0},
    {"K/G=47, largest K16",                          1,  4,   9,  35,  47,  1,  3, 0, 1, 1, 1, 1,    1,  1, 1},
    {"K/G=8, smallest K16",                          2,  4,  11,  21,   8,  3,  1, 1, 0, 1, 1, 1,    1,  1, 0},
    {"K/G=7, largest K1",                            2,  4,  11,  21,   7,  3,  1, 1, 0, 1, 1, 1,    1,  1, 1},
    {"C=20 (channel chunks 8, 8, 4)",                1, 20,  12,  36,  48,  3,  3, 1, 1, 1, 1, 1,    1,  1, 1},
    {"C=13 K=9",                                     2, 13,  11,  45,   9,  3,  3, 1, 1, 1, 1, 1,    1,  1, 0},
    {"C/G=7 groups 3",                               1, 21,  10,  20,  24,  3,  3, 1, 1, 1, 1, 1,    1,  3, 1},
    {"K64 tile, P=68 Q=64",                          1,  3,  70,  66,  64,  3,  3, 0, 0, 1, 1, 1,    1,  1, 0},
    {"filter covers the padded input, P=Q=1",        2,  4,   5,   5,   8,  7,  7, 1, 1, 1, 1, 1,    1,  1, 1},
    {"padding wider than the filter: bias-only rows",1,  3,   6,   7,  16,  1,  1, 3, 2, 1, 1, 1,    1,  1, 1},
    {"width 1",                                      2,  3,   9,   1,  16,  3,  1, 1, 0, 1, 1, 1,    1,  1, 0},
    {"1x1 image, 1x1 filter",                        3,  5,   1,   1,   7,  1,  1, 0, 0, 1, 1, 1,    1,  1, 1},
    {"stride 40 along W (GENERIC)",                  1,  2,   8, 200,   4,  1,  3, 0, 0, 1, 40, 1,   1,  1, 1},
    {"dilation 1000 along H (GENERIC)",              1,  2, 2100,  6,   4,  3,  2, 0, 0, 1, 1, 1000, 1,  1, 0},
    /* AUTO's rule (IM2COL_GEMM once K/G >= 32 (DEFAULT; 64 in IEEE) and (C/G)*R*S >= 64): at
     * and just below it. */
    {"AUTO at its thresholds: K/G=32, C/G*R*S=64",   2, 16,   9,   9,  32,  2,  2, 0, 0, 1, 1, 1,    1,  1, 0},
    {"AUTO below: K/G=31, C/G*R*S=64",               1, 16,   9,   9,  31,  2,  2, 0, 0, 1, 1, 1,    1,  1, 1},
    {"AUTO IM2COL_GEMM without bias, K/G=64",        1, 16,  10,  14,  64,  3,  3, 1, 1, 1, 1, 1,    1,  1, 0},
    /* IMPLICIT_GEMM's wgmma kernel with its TMA window (sm_90; W a multiple of 4, the 68-float
     * box within W, C/G >= 8): padding (negative box corners), partial P and Q tiles, a partial
     * channel chunk inside a group (the box reads the next group's channels as zeros), K/G
     * past 128 (two k tiles), R = 1 with the box starting 2 columns early. Stride or dilation
     * along H widens the window past the TMA limit: the cp.async path runs those. */
    {"TMA window: pad 1, partial tiles, bias",       2, 16,  19, 132,  40,  3,  3, 1, 1, 1, 1, 1,    1,  1, 1},
    {"TMA window: groups 2, C/G=12, K/G=136",        1, 24,  10,  72, 272,  3,  3, 0, 1, 1, 1, 1,    1,  2, 0},
    {"TMA window: 1x3 filter, pad_w 2",              1,  8,  23,  96,  24,  1,  3, 0, 2, 1, 1, 1,    1,  1, 1},
    /* 594 tiles over 132 persistent blocks: both compute warpgroups take several tiles each. */
    {"TMA window: 594 tiles, ping-pong",             2,  8, 200, 132,   8,  3,  3, 1, 1, 1, 1, 1,    1,  1, 0},
    /* The same for 16-bit data (W a multiple of 8, C/G >= 16: 16-channel boxes, 80 columns
     * wide with pad_w 1), in the float16 and bfloat16 passes; float32 runs them too. Two
     * channel chunks, a partial chunk inside a group, one filter row per stage (5x5), an odd Q
     * (the epilogue's 2-byte stores; even Q takes 4-byte pixel pairs). */
    {"16-bit TMA window: pad 1, partial tiles, bias",1, 32,   6, 136,   8,  3,  3, 1, 1, 1, 1, 1,    1,  1, 1},
    {"16-bit TMA window: groups 2, C/G=24",          1, 48,   6,  88,  16,  3,  3, 0, 1, 1, 1, 1,    1,  2, 0},
    {"16-bit TMA window: 1x3 filter, pad_w 2",       1, 16,   6,  96,  16,  1,  3, 0, 2, 1, 1, 1,    1,  1, 1},
    {"16-bit TMA window: 5x5, a filter row a stage", 1, 16,   6,  80,  16,  5,  5, 2, 2, 1, 1, 1,    1,  1, 1},
    {"16-bit TMA window: 3x4, Q 79 (2-byte stores)", 1, 16,   6,  80,   8,  3,  4, 1, 1, 1, 1, 1,    1,  1, 1},
    /* ROW_STRIP. The stem's rows (Q 55: 11 groups a row, strips over 4 rows, the second one
     * partial), then its register window with C 4 (four one-channel chunks), K/G 80
     * (a partial 96-channel tile) and odd P, Q; the general path at stride 1 (conflict-free
     * pitch), groups, dilation along both axes, unequal strides with two column tiles (Q 170
     * over 160-column rows), Q <= 5 (one group a row, 32-row strips), two k tiles. */
    {"ROW_STRIP: stem rows, Q 55, K 96",             1,  3,  19, 224,  96, 11, 11, 2, 2, 4, 4, 1,    1,  1, 1},
    {"ROW_STRIP: window path, C 4, K 80, P 3 Q 11",  2,  4,  15,  47,  80, 11, 11, 2, 2, 4, 4, 1,    1,  1, 0},
    {"ROW_STRIP: 5x5 stride 1, C 2, Q 55",           1,  2,   7,  55,  96,  5,  5, 2, 2, 1, 1, 1,    1,  1, 1},
    {"ROW_STRIP: groups 2, C/G 3, 5x5 stride 2",     1,  6,  13,  29, 192,  5,  5, 1, 1, 2, 2, 1,    1,  2, 0},
    {"ROW_STRIP: dilation 2 stride 2, K 72",         1,  3,  21,  25,  72,  5,  5, 2, 2, 2, 2, 2,    2,  1, 1},
    {"ROW_STRIP: stride (3,2) 7x7, two column tiles",1,  2,   6, 340,  96,  7,  7, 1, 3, 3, 2, 1,    1,  1, 0},
    {"ROW_STRIP: Q 5, 32-row strips, dilation (2,1)",1,  3,  44,   9,  96,  5,  5, 0, 0, 1, 1, 2,    1,  1, 1},
    {"ROW_STRIP: K 144 (two k tiles), dilation_w 2", 1,  2,   9,  31, 144,  5,  5, 2, 4, 1, 1, 1,    2,  1, 1},
};

int direct_fixed_case_count(void) { return (int)(sizeof kRows / sizeof kRows[0]); }

static void fill_params(convgemm_conv2d_params_t* p, const case_row_t* row) {
  convgemm_conv2d_params_init(p, row->n, row->c, row->h, row->w, row->k, row->r, row->s);
  p->pad_h = row->pad_h;
  p->pad_w = row->pad_w;
  p->stride_h = row->stride_h;
  p->stride_w = row->stride_w;
  p->dilation_h = row->dilation_h;
  p->dilation_w = row->dilation_w;
  p->groups = row->groups;
  p->has_bias = row->has_bias;
}

void direct_fixed_case(int i, direct_case_t* out) {
  out->name = kRows[i].name;
  out->seed = 1000 + (uint64_t)i;
  fill_params(&out->params, &kRows[i]);
}

int64_t direct_case_macs(const convgemm_conv2d_params_t* p) {
  return conv2d_reference_y_elems(p) * (p->c / p->groups) * p->r * p->s;
}

/* One draw of every parameter; the caller retries until the reference cost fits. */
static void draw(test_rng_t* rng, case_row_t* row) {
  static const int64_t kGroups[] = {1, 1, 1, 2, 3, 4};
  static const int64_t kFilter[] = {1, 2, 3, 3, 4, 5, 7};
  row->groups = kGroups[test_rng_int(rng, 0, 5)];
  const int64_t c_per_group = test_rng_int(rng, 1, 12);
  /* K/G from each tile kind's range alike (K1 < 8 <= K16 < 48 <= K64). */
  int64_t k_per_group;
  switch (test_rng_int(rng, 0, 2)) {
    case 0: k_per_group = test_rng_int(rng, 1, 7); break;
    case 1: k_per_group = test_rng_int(rng, 8, 47); break;
    default: k_per_group = test_rng_int(rng, 48, 80); break;
  }
  row->c = row->groups * c_per_group;
  row->k = row->groups * k_per_group;
  row->n = test_rng_int(rng, 1, 3);
  row->r = kFilter[test_rng_int(rng, 0, 6)];
  row->s = kFilter[test_rng_int(rng, 0, 6)];
  row->stride_h = test_rng_int(rng, 1, 3);
  row->stride_w = test_rng_int(rng, 1, 3);
  row->dilation_h = test_rng_int(rng, 1, 3);
  row->dilation_w = test_rng_int(rng, 1, 3);
  row->pad_h = test_rng_int(rng, 0, 3);
  row->pad_w = test_rng_int(rng, 0, 3);
  /* Smallest input the dilated filter fits in (with the padding), up to 40. */
  const int64_t min_h = row->dilation_h * (row->r - 1) + 1 - 2 * row->pad_h;
  const int64_t min_w = row->dilation_w * (row->s - 1) + 1 - 2 * row->pad_w;
  row->h = test_rng_int(rng, min_h < 1 ? 1 : min_h, 40);
  row->w = test_rng_int(rng, min_w < 1 ? 1 : min_w, 40);
  row->has_bias = (int)test_rng_int(rng, 0, 1);
}

/* Whether some output along one axis has a filter tap inside the input. Without one on both
 * axes every output is bias alone: a valid convolution, but one that checks nothing about the
 * products (the fixed list has its padding-only rows already). */
static int axis_reaches_input(int64_t in, int64_t pad, int64_t filter, int64_t stride,
                              int64_t dilation) {
  const int64_t out = conv2d_reference_out_extent(in, pad, filter, stride, dilation);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t f = 0; f < filter; ++f) {
      const int64_t i = o * stride - pad + f * dilation;
      if (i >= 0 && i < in) return 1;
    }
  return 0;
}

static int worth_running(const convgemm_conv2d_params_t* p) {
  return direct_case_macs(p) <= DIRECT_RANDOM_MAX_MACS &&
         axis_reaches_input(p->h, p->pad_h, p->r, p->stride_h, p->dilation_h) &&
         axis_reaches_input(p->w, p->pad_w, p->s, p->stride_w, p->dilation_w);
}

void direct_random_case(uint64_t seed, direct_case_t* out) {
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  case_row_t row;
  row.name = "random";
  do {
    draw(&rng, &row);
    fill_params(&out->params, &row);
  } while (!worth_running(&out->params));
  out->name = row.name;
  out->seed = seed;
}

void direct_case_describe(const convgemm_conv2d_params_t* p, char* buf, size_t size) {
  snprintf(buf, size,
           "N%lld C%lld H%lld W%lld K%lld R%lld S%lld pad %lld,%lld stride %lld,%lld "
           "dilation %lld,%lld groups %lld bias %d math %s type %s",
           (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->k,
           (long long)p->r, (long long)p->s, (long long)p->pad_h, (long long)p->pad_w,
           (long long)p->stride_h, (long long)p->stride_w, (long long)p->dilation_h,
           (long long)p->dilation_w, (long long)p->groups, p->has_bias,
           p->math_mode == CONVGEMM_MATH_DEFAULT ? "DEFAULT"
           : p->math_mode == CONVGEMM_MATH_IEEE  ? "IEEE"
                                                 : "?",
           p->data_type == CONVGEMM_DATA_FLOAT32   ? "float32"
           : p->data_type == CONVGEMM_DATA_FLOAT16 ? "float16"
           : p->data_type == CONVGEMM_DATA_BFLOAT16 ? "bfloat16"
                                                    : "?");
}

convgemm_conv_desc_t direct_case_open(const direct_case_t* c, convgemm_math_mode_t mode,
                                      convgemm_conv2d_params_t* p, char* ctx, size_t ctx_size) {
  *p = c->params;
  p->math_mode = mode;
  char config[256];
  direct_case_describe(p, config, sizeof config);
  snprintf(ctx, ctx_size, "case '%s' seed %llu [%s]", c->name, (unsigned long long)c->seed,
           config);
  convgemm_conv_desc_t desc = NULL;
  const convgemm_status_t s = convgemm_conv_desc_create(&desc, p);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: desc_create returned %s: %s", ctx,
                convgemm_status_string(s), convgemm_get_last_error());
  int64_t on = 0, ok = 0, op = 0, oq = 0;
  const convgemm_status_t shape = convgemm_get_output_shape(desc, &on, &ok, &op, &oq);
  ck_assert_msg(shape == CONVGEMM_STATUS_SUCCESS, "%s: get_output_shape returned %s", ctx,
                convgemm_status_string(shape));
  const int64_t want_p =
      conv2d_reference_out_extent(p->h, p->pad_h, p->r, p->stride_h, p->dilation_h);
  const int64_t want_q =
      conv2d_reference_out_extent(p->w, p->pad_w, p->s, p->stride_w, p->dilation_w);
  ck_assert_msg(on == p->n && ok == p->k && op == want_p && oq == want_q,
                "%s: output shape %lld x %lld x %lld x %lld, want %lld x %lld x %lld x %lld", ctx,
                (long long)on, (long long)ok, (long long)op, (long long)oq, (long long)p->n,
                (long long)p->k, (long long)want_p, (long long)want_q);
  return desc;
}
