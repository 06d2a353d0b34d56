/*
 * IM2COL_GEMM's host-side plan and AUTO's rule, on recorded device facts (fake_device.h):
 *   - the row layout: krg = (C/G)*R*S, bias_rows 0 / 2 (DEFAULT: TF32 high part and remainder)
 *     / 1 (IEEE), krg_pad = krg + bias_rows rounded up to 4, rows = G*krg_pad, pq = P*Q;
 *   - the workspace: 0 < min <= preferred; the minimum is the packed filter, one cuBLASLt
 *     workspace and one column buffer of the smallest chunk (128 pixels, or the image), with
 *     only alignment on top; the preferred is two buffers of the chunk the documented target
 *     (convgemm_im2col_target_col_bytes per buffer) gives;
 *   - convgemm_im2col_gemm_make_plan, for many descriptors and for workspace sizes from the
 *     minimum up (min, min+1, odd sizes, sizes next to plan boundaries, between, preferred, 10x
 *     preferred): the plan fits the size; col_ld is a multiple of 4; the chunks tile every pixel
 *     of every image exactly once; the regions are 256-byte aligned, in bounds and disjoint;
 *     several images per chunk only when whole images fit; never more than 65535 images; more
 *     workspace never gives fewer buffers or (with the same buffers) a smaller chunk; and, as
 *     documented, the plan is the largest chunk up to the preferred one that fits, with two
 *     buffers when two fit (so the preferred size gives the preferred plan);
 *   - convgemm_im2col_gemm_supports: NOT_SUPPORTED with a message past P*Q = 2^31-1, a padded
 *     plane side of 2^31, 65535 im2col row blocks (groups * (ceil((C/G) / channels per block) +
 *     1)) and 2^31-1 column-matrix rows (exactly at each limit: supported), also through the
 *     public queries; AUTO then stays on DIRECT;
 *   - AUTO's rule at its thresholds: K/G 32 and 31 (DEFAULT), 64 and 63 (IEEE), (C/G)*R*S 64
 *     and 63;
 *   - a successful AUTO query leaves the last error alone;
 *   - gpu_im2col_gemm_test's extra cases and workspace lists: valid, affordable, and reaching
 *     every kind of plan on both recorded devices.
 * Expected numbers are worked out by hand in the comments from the layout in im2col_gemm_plan.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "conv/im2col_gemm_plan.h"
#include "conv/internal.h"
#include "im2col/im2col.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/direct_cases.h"
#include "tests/fake_device.h"
#include "tests/im2col_cases.h"
#include "tests/test_assert.h"

static const int64_t kAlign = CONVGEMM_IM2COL_ALIGN;
static const int64_t kCublasWs = CONVGEMM_IM2COL_CUBLAS_WORKSPACE;

static int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }
static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

static struct convgemm_conv_desc validated(const convgemm_conv2d_params_t* p) {
  struct convgemm_conv_desc d;
  CK_CONVGEMM(convgemm_conv_desc_validate(p, &d));
  return d;
}

static struct convgemm_conv_desc make_desc(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                                           int64_t r, int64_t s) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, n, c, h, w, k, r, s);
  return validated(&p);
}

static void describe(const struct convgemm_conv_desc* d, size_t bytes, char* buf, size_t size) {
  char config[256];
  direct_case_describe(&d->params, config, sizeof config);
  snprintf(buf, size, "[%s] P*Q %lld, workspace %zu", config, (long long)(d->p * d->q), bytes);
}

/* ---- the model: what im2col_gemm_plan.h documents, written independently --------------- */

typedef struct row_model {
  int64_t krg, bias_rows, krg_pad, rows, pq;
  int64_t elem; /* bytes per element: 4 (float32), 2 (float16, bfloat16) */
} row_model_t;

static row_model_t rows_of(const struct convgemm_conv_desc* d) {
  const convgemm_conv2d_params_t* p = &d->params;
  row_model_t m;
  const int is32 = p->data_type == CONVGEMM_DATA_FLOAT32;
  m.elem = is32 ? 4 : 2;
  m.krg = (p->c / p->groups) * p->r * p->s;
  /* Two bias rows (TF32 high part and remainder) only for float32 in DEFAULT math with C/G > 1. */
  m.bias_rows = !p->has_bias                                                   ? 0
                : is32 && p->math_mode == CONVGEMM_MATH_DEFAULT && p->c > p->groups ? 2
                                                                                    : 1;
  m.krg_pad = round_up(m.krg + m.bias_rows, 4);
  m.rows = p->groups * m.krg_pad;
  m.pq = d->p * d->q;
  return m;
}

/* Smallest chunk (pixels): 128, or the whole image (rounded up to 4) if smaller. */
static int64_t smallest_pixels(const struct convgemm_conv_desc* d) {
  const int64_t pq_pad = round_up(d->p * d->q, 4);
  return pq_pad < CONVGEMM_IM2COL_MIN_PIXELS ? pq_pad : CONVGEMM_IM2COL_MIN_PIXELS;
}

/* The preferred chunk (pixels): a column buffer of the target size
 * (convgemm_im2col_target_col_bytes: tuned, so taken from the library), in steps of 4 pixels, at
 * least the smallest chunk's 128, at most every image. */
static int64_t preferred_pixels(const struct convgemm_conv_desc* d,
                                const convgemm_device_info_t* info) {
  const row_model_t m = rows_of(d);
  int64_t pixels = convgemm_im2col_target_col_bytes(info) / (m.rows * m.elem) / 4 * 4;
  if (pixels < CONVGEMM_IM2COL_MIN_PIXELS) pixels = CONVGEMM_IM2COL_MIN_PIXELS;
  const int64_t all = round_up(m.pq, 4) * d->params.n;
  return pixels < all ? pixels : all;
}

static size_t chunk_workspace(const struct convgemm_conv_desc* d, int64_t pixels, int buffers) {
  convgemm_im2col_gemm_plan_t plan;
  convgemm_im2col_gemm_plan_for_chunk(d, pixels, buffers, &plan);
  return plan.workspace_bytes;
}

/* The plan the documentation promises for `bytes`: the largest chunk (a multiple of 4 pixels)
 * from the smallest up to the preferred one whose workspace fits, with two buffers when the
 * smallest chunk fits twice, else one. Workspace grows with the chunk, so a binary search finds
 * it. Returns 0 if not even the minimum fits. */
static int documented_plan(const struct convgemm_conv_desc* d, const convgemm_device_info_t* info,
                           size_t bytes, convgemm_im2col_gemm_plan_t* out) {
  const int64_t lo0 = smallest_pixels(d), hi0 = preferred_pixels(d, info);
  for (int buffers = 2; buffers >= 1; --buffers) {
    if (chunk_workspace(d, lo0, buffers) > bytes) continue;
    int64_t lo = lo0 / 4, hi = hi0 / 4; /* in units of 4 pixels; lo fits */
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo + 1) / 2;
      if (chunk_workspace(d, mid * 4, buffers) <= bytes)
        lo = mid;
      else
        hi = mid - 1;
    }
    convgemm_im2col_gemm_plan_for_chunk(d, lo * 4, buffers, out);
    return 1;
  }
  return 0;
}

/* ---- invariants of any plan ------------------------------------------------------------- */

typedef struct region {
  size_t begin, end;
  const char* name;
} region_t;

/* Everything a plan for `bytes` must satisfy, whatever chunk it chose. */
static void check_plan(const struct convgemm_conv_desc* d, size_t bytes,
                       const convgemm_im2col_gemm_plan_t* pl) {
  char ctx[512], plan_text[256];
  describe(d, bytes, ctx, sizeof ctx);
  im2col_describe_plan(pl, plan_text, sizeof plan_text);
  const row_model_t m = rows_of(d);
  const int64_t n = d->params.n;
  ck_assert_msg(pl->krg == m.krg && pl->bias_rows == m.bias_rows && pl->krg_pad == m.krg_pad &&
                    pl->rows == m.rows && pl->pq == m.pq,
                "%s: rows krg %lld bias %lld pad %lld rows %lld pq %lld", ctx,
                (long long)pl->krg, (long long)pl->bias_rows, (long long)pl->krg_pad,
                (long long)pl->rows, (long long)pl->pq);
  ck_assert_msg(pl->workspace_bytes <= bytes, "%s: plan needs %zu bytes (%s)", ctx,
                pl->workspace_bytes, plan_text);
  ck_assert_msg(pl->buffers == 1 || pl->buffers == 2, "%s: %d buffers", ctx, pl->buffers);
  ck_assert_msg(pl->col_ld > 0 && pl->col_ld % 4 == 0, "%s: col_ld %lld", ctx,
                (long long)pl->col_ld);
  ck_assert_msg(pl->images_per_chunk >= 1 && pl->images_per_chunk <= CONVGEMM_IM2COL_MAX_IMAGES &&
                    pl->images_per_chunk <= n,
                "%s: %lld images per chunk", ctx, (long long)pl->images_per_chunk);
  ck_assert_msg(pl->pixels_per_chunk >= 1 && pl->pixels_per_chunk <= pl->col_ld,
                "%s: %s", ctx, plan_text);
  if (pl->pixels_per_chunk >= m.pq) {
    /* Whole images: one chunk per image group, col_ld the image rounded up to 4. */
    ck_assert_msg(pl->pixels_per_chunk == m.pq && pl->chunks_per_image == 1 &&
                      pl->col_ld == round_up(m.pq, 4) &&
                      pl->chunks == ceil_div(n, pl->images_per_chunk),
                  "%s: whole-image plan %s", ctx, plan_text);
  } else {
    /* Pixel chunks of one image: several images per chunk only when whole images fit. */
    ck_assert_msg(pl->images_per_chunk == 1, "%s: %lld images in chunks of part of an image",
                  ctx, (long long)pl->images_per_chunk);
    ck_assert_msg(pl->col_ld == pl->pixels_per_chunk &&
                      pl->chunks_per_image == ceil_div(m.pq, pl->pixels_per_chunk) &&
                      pl->chunks == n * pl->chunks_per_image,
                  "%s: pixel-chunk plan %s", ctx, plan_text);
  }
  /* The chunks tile (image, pixel) exactly once: walk them as the driver does
   * (conv/im2col_gemm.c): chunk i covers images [n0, n0 + images) and pixels [pix0, pix0 + len). */
  int64_t next_image = 0, next_pixel = 0;
  for (int64_t c = 0; c < pl->chunks; ++c) {
    int64_t n0, images, pix0, len;
    if (pl->images_per_chunk > 1) {
      n0 = c * pl->images_per_chunk;
      images = n - n0 < pl->images_per_chunk ? n - n0 : pl->images_per_chunk;
      pix0 = 0;
      len = m.pq;
    } else {
      n0 = c / pl->chunks_per_image;
      images = 1;
      pix0 = (c % pl->chunks_per_image) * pl->pixels_per_chunk;
      len = m.pq - pix0 < pl->pixels_per_chunk ? m.pq - pix0 : pl->pixels_per_chunk;
    }
    if (n0 != next_image || pix0 != next_pixel || images < 1 || len < 1 || n0 + images > n) {
      ck_assert_msg(0, "%s: chunk %lld covers images %lld+%lld pixels %lld+%lld, expected to start "
                    "at image %lld pixel %lld (%s)",
                    ctx, (long long)c, (long long)n0, (long long)images, (long long)pix0,
                    (long long)len, (long long)next_image, (long long)next_pixel, plan_text);
    }
    next_pixel = pix0 + len;
    if (next_pixel == m.pq) {
      next_pixel = 0;
      next_image = n0 + images;
    }
  }
  ck_assert_msg(next_image == n && next_pixel == 0, "%s: chunks end at image %lld pixel %lld",
                ctx, (long long)next_image, (long long)next_pixel);
  /* Regions: the packed filter, `buffers` cuBLASLt workspaces, `buffers` column buffers (each
   * of col_bytes, placed col_bytes rounded up to 256 apart, as the driver does). */
  ck_assert_msg(pl->col_bytes == (size_t)(m.rows * pl->col_ld * pl->images_per_chunk * m.elem),
                "%s: col_bytes %zu", ctx, pl->col_bytes);
  const size_t col_stride = (size_t)round_up((int64_t)pl->col_bytes, kAlign);
  region_t regions[5];
  int count = 0;
  regions[count++] = (region_t){pl->filter_offset,
                                pl->filter_offset + (size_t)(d->params.k * m.krg_pad * m.elem),
                                "packed filter"};
  for (int b = 0; b < pl->buffers; ++b)
    regions[count++] = (region_t){pl->cublas_offset + (size_t)b * (size_t)kCublasWs,
                                  pl->cublas_offset + (size_t)(b + 1) * (size_t)kCublasWs,
                                  "cuBLASLt workspace"};
  for (int b = 0; b < pl->buffers; ++b)
    regions[count++] = (region_t){pl->col_offset + (size_t)b * col_stride,
                                  pl->col_offset + (size_t)b * col_stride + pl->col_bytes,
                                  "column buffer"};
  for (int i = 0; i < count; ++i) {
    ck_assert_msg(regions[i].begin % (size_t)kAlign == 0, "%s: %s %d at %zu is not 256-aligned",
                  ctx, regions[i].name, i, regions[i].begin);
    ck_assert_msg(regions[i].end <= pl->workspace_bytes, "%s: %s %d ends at %zu > %zu", ctx,
                  regions[i].name, i, regions[i].end, pl->workspace_bytes);
    for (int j = 0; j < i; ++j)
      ck_assert_msg(regions[i].end <= regions[j].begin || regions[j].end <= regions[i].begin,
                    "%s: %s %d [%zu, %zu) overlaps %s %d [%zu, %zu)", ctx, regions[i].name, i,
                    regions[i].begin, regions[i].end, regions[j].name, j, regions[j].begin,
                    regions[j].end);
  }
}

/* ---- descriptors to plan ---------------------------------------------------------------- */

typedef struct shape {
  int64_t n, c, h, w, k, r, s, pad, stride, groups;
} shape_t;

/* Whole images of 1 to 42 pixels, P*Q 128 / 129 around the smallest chunk, pixel chunks of a
 * few to thousands per image, many images (past the 65535-image cap), groups, depthwise, wide
 * reductions, problem 55 itself. */
static const shape_t kShapes[] = {
    {1, 3, 3, 3, 8, 3, 3, 0, 1, 1},          /* P*Q 1 */
    {40, 3, 3, 3, 8, 3, 3, 0, 1, 1},         /* P*Q 1, 40 images */
    {65536, 1, 1, 1, 32, 1, 1, 0, 1, 1},     /* P*Q 1, more images than one chunk may hold */
    {5, 4, 6, 7, 32, 3, 3, 1, 1, 1},         /* P*Q 42 */
    {5, 8, 5, 5, 16, 3, 3, 1, 1, 2},         /* P*Q 25, groups 2 */
    {2, 8, 8, 16, 32, 1, 1, 0, 1, 1},        /* P*Q 128 */
    {3, 8, 3, 43, 32, 1, 1, 0, 1, 1},        /* P*Q 129 */
    {2, 5, 19, 23, 40, 3, 3, 1, 1, 1},       /* P*Q 437 */
    {2, 16, 21, 35, 16, 3, 3, 1, 1, 16},     /* depthwise, P*Q 735 */
    {1, 256, 56, 56, 256, 3, 3, 1, 1, 1},    /* wide reduction: 2304 rows */
    {2, 3, 224, 224, 64, 11, 11, 2, 4, 1},   /* the 11x11 stem */
    {8, 64, 512, 1024, 128, 3, 3, 0, 1, 1},  /* problem 55 */
    {1, 2048, 7, 7, 512, 3, 3, 1, 1, 32},    /* many groups */
};
enum { kShapeCount = sizeof kShapes / sizeof kShapes[0] };

/* Shape i in bias variant v: 0 no bias, 1 bias DEFAULT, 2 bias IEEE. */
static struct convgemm_conv_desc shape_desc(int i, int v) {
  const shape_t* s = &kShapes[i];
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, s->n, s->c, s->h, s->w, s->k, s->r, s->s);
  p.pad_h = p.pad_w = s->pad;
  p.stride_h = p.stride_w = s->stride;
  p.groups = s->groups;
  p.has_bias = v != 0;
  p.math_mode = v == 2 || v == 4 ? CONVGEMM_MATH_IEEE : CONVGEMM_MATH_DEFAULT;
  p.data_type = v == 3 ? CONVGEMM_DATA_FLOAT16 : v == 4 ? CONVGEMM_DATA_BFLOAT16
                                                        : CONVGEMM_DATA_FLOAT32;
  return validated(&p);
}

/* Variants of each shape: no bias; bias in DEFAULT math; bias in IEEE math (float32); float16
 * with bias; bfloat16 with bias in IEEE math. */
enum { kVariants = 5 };

/* Workspace sizes from the minimum up: the minimum and the bytes just past it, odd sizes,
 * sizes next to where plans change (each chunk's exact need and one byte less), between, the
 * preferred (and next to it), 10x the preferred. Returns the count. */
enum { kMaxSizes = 48 };
static int sizes_to_try(const struct convgemm_conv_desc* d, const convgemm_device_info_t* info,
                        size_t* sizes) {
  size_t min_b = 0, pref_b = 0;
  convgemm_im2col_gemm_workspace(d, info, &min_b, &pref_b);
  int n = 0;
  sizes[n++] = min_b;
  sizes[n++] = min_b + 1;
  sizes[n++] = min_b + 255;
  sizes[n++] = min_b + 256;
  sizes[n++] = min_b + 257;
  for (int j = 1; j < 8; ++j) sizes[n++] = (min_b + (pref_b - min_b) / 8 * (size_t)j) | 1;
  const int64_t lo = smallest_pixels(d), hi = preferred_pixels(d, info);
  const int64_t chunks[6] = {lo, lo + 4, round_up((3 * lo + hi) / 4, 4), round_up((lo + hi) / 2, 4),
                             hi - 4, hi};
  for (int i = 0; i < 6; ++i)
    for (int b = 1; b <= 2; ++b) {
      if (chunks[i] < lo || chunks[i] > hi) continue;
      const size_t need = chunk_workspace(d, chunks[i], b);
      if (need > min_b) sizes[n++] = need - 1;
      sizes[n++] = need;
    }
  if (pref_b > min_b) sizes[n++] = pref_b - 1;
  sizes[n++] = pref_b;
  sizes[n++] = pref_b + 1;
  sizes[n++] = pref_b * 10;
  ck_assert_int_le(n, kMaxSizes);
  /* Ascending, for the monotonicity checks. */
  for (int i = 1; i < n; ++i)
    for (int j = i; j > 0 && sizes[j - 1] > sizes[j]; --j) {
      const size_t t = sizes[j];
      sizes[j] = sizes[j - 1];
      sizes[j - 1] = t;
    }
  return n;
}

/* ---- row layout ------------------------------------------------------------------------- */

START_TEST(test_row_layout) {
  /* (C/G, R, S, groups, bias variant) -> krg, bias_rows, krg_pad; rows = G * krg_pad. */
  static const struct {
    int64_t cg, r, s, groups;
    int variant; /* 0 none, 1 DEFAULT bias (split in two unless C/G == 1), 2 IEEE bias */
    int64_t krg, bias_rows, krg_pad;
  } kRows[] = {
      {1, 1, 1, 1, 0, 1, 0, 4},     {1, 1, 1, 1, 1, 1, 1, 4},     {1, 1, 1, 1, 2, 1, 1, 4},
      {2, 1, 1, 1, 1, 2, 2, 4},     {2, 1, 1, 1, 2, 2, 1, 4},     /* 2+2 = 4; 2+1 -> 4 */
      {1, 1, 3, 1, 0, 3, 0, 4},     {1, 1, 3, 1, 1, 3, 1, 4},     {1, 1, 3, 1, 2, 3, 1, 4},
      {1, 2, 2, 1, 0, 4, 0, 4},     {1, 2, 2, 1, 1, 4, 1, 8},     {1, 2, 2, 1, 2, 4, 1, 8},
      {6, 1, 1, 1, 1, 6, 2, 8},     {6, 1, 1, 1, 2, 6, 1, 8},     {7, 1, 1, 1, 1, 7, 2, 12},
      {8, 3, 3, 1, 0, 72, 0, 72},   {8, 3, 3, 1, 1, 72, 2, 76},   {8, 3, 3, 1, 2, 72, 1, 76},
      {64, 3, 3, 1, 0, 576, 0, 576}, {3, 11, 11, 1, 1, 363, 2, 368}, {3, 11, 11, 1, 2, 363, 1, 364},
      {1, 3, 3, 32, 1, 9, 1, 12},   {2, 3, 3, 3, 1, 18, 2, 20},   {5, 5, 7, 2, 0, 175, 0, 176},
  };
  for (size_t i = 0; i < sizeof kRows / sizeof kRows[0]; ++i) {
    convgemm_conv2d_params_t p;
    convgemm_conv2d_params_init(&p, 2, kRows[i].cg * kRows[i].groups, 13, 17,
                                2 * kRows[i].groups, kRows[i].r, kRows[i].s);
    p.groups = kRows[i].groups;
    p.has_bias = kRows[i].variant != 0;
    p.math_mode = kRows[i].variant == 2 ? CONVGEMM_MATH_IEEE : CONVGEMM_MATH_DEFAULT;
    const struct convgemm_conv_desc d = validated(&p);
    convgemm_im2col_gemm_plan_t plan;
    convgemm_im2col_gemm_make_plan(&d, &(convgemm_device_info_t){.l2_bytes = 50 << 20},
                                   (size_t)1 << 30, &plan);
    ck_assert_msg(plan.krg == kRows[i].krg && plan.bias_rows == kRows[i].bias_rows &&
                      plan.krg_pad == kRows[i].krg_pad &&
                      plan.rows == kRows[i].groups * kRows[i].krg_pad &&
                      plan.pq == (13 - kRows[i].r + 1) * (17 - kRows[i].s + 1),
                  "row %zu: krg %lld bias_rows %lld krg_pad %lld rows %lld pq %lld", i,
                  (long long)plan.krg, (long long)plan.bias_rows, (long long)plan.krg_pad,
                  (long long)plan.rows, (long long)plan.pq);
    ck_assert(plan.krg_pad % 4 == 0);
    /* plan_for_chunk lays the rows out the same way. */
    convgemm_im2col_gemm_plan_t chunk;
    convgemm_im2col_gemm_plan_for_chunk(&d, 128, 1, &chunk);
    ck_assert(chunk.krg == plan.krg && chunk.bias_rows == plan.bias_rows &&
              chunk.krg_pad == plan.krg_pad && chunk.rows == plan.rows);
  }
}
END_TEST

/* ---- workspace bounds ------------------------------------------------------------------- */

START_TEST(test_workspace_min_and_preferred) {
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int dev = 0; dev < 2; ++dev)
    for (int i = 0; i < kShapeCount; ++i)
      for (int v = 0; v < kVariants; ++v) {
        const struct convgemm_conv_desc d = shape_desc(i, v);
        char ctx[512];
        describe(&d, 0, ctx, sizeof ctx);
        size_t min_b = 0, pref_b = 0;
        convgemm_im2col_gemm_workspace(&d, &devices[dev], &min_b, &pref_b);
        ck_assert_msg(min_b > 0 && min_b <= pref_b, "%s: min %zu, preferred %zu", ctx, min_b,
                      pref_b);
        /* The minimum: filter (K * krg_pad floats), one cuBLASLt workspace, one column buffer
         * of the smallest chunk; only the 256-byte rounding of two regions on top. */
        const row_model_t m = rows_of(&d);
        const size_t essentials = (size_t)(d.params.k * m.krg_pad * m.elem + kCublasWs +
                                           m.rows * smallest_pixels(&d) * m.elem);
        ck_assert_msg(min_b >= essentials && min_b < essentials + 2 * (size_t)kAlign,
                      "%s: min %zu for essentials of %zu bytes", ctx, min_b, essentials);
        /* The preferred: two buffers of the documented preferred chunk. */
        ck_assert_msg(pref_b == chunk_workspace(&d, preferred_pixels(&d, &devices[dev]), 2),
                      "%s: preferred %zu, two buffers of %lld pixels take %zu", ctx, pref_b,
                      (long long)preferred_pixels(&d, &devices[dev]),
                      chunk_workspace(&d, preferred_pixels(&d, &devices[dev]), 2));
        /* Its column buffer is at most the target, unless the smallest chunk already is more. */
        convgemm_im2col_gemm_plan_t pref_plan;
        convgemm_im2col_gemm_plan_for_chunk(&d, preferred_pixels(&d, &devices[dev]), 2,
                                            &pref_plan);
        const int64_t target = convgemm_im2col_target_col_bytes(&devices[dev]);
        ck_assert_int_gt(target, 0);
        ck_assert_msg((int64_t)pref_plan.col_bytes <= target ||
                          (int64_t)pref_plan.col_bytes <=
                              m.rows * m.elem * CONVGEMM_IM2COL_MIN_PIXELS,
                      "%s: preferred column buffer %zu bytes, target %lld", ctx,
                      pref_plan.col_bytes, (long long)target);
        /* Both sizes give a valid plan. */
        convgemm_im2col_gemm_plan_t plan;
        convgemm_im2col_gemm_make_plan(&d, &devices[dev], min_b, &plan);
        check_plan(&d, min_b, &plan);
        ck_assert_msg(plan.buffers == 1, "%s: the minimum holds one buffer", ctx);
        convgemm_im2col_gemm_make_plan(&d, &devices[dev], pref_b, &plan);
        check_plan(&d, pref_b, &plan);
        ck_assert_msg(plan.buffers == 2, "%s: the preferred holds two buffers", ctx);
      }
}
END_TEST

START_TEST(test_workspace_of_problem_55) {
  /* Problem 55 on the H100: krg 576, no bias: krg_pad 576, rows 576, 2304 bytes per pixel.
   * Minimum (1 MiB of cuBLASLt workspace, 128-pixel chunks): filter 128*576*4 = 294912
   * (256-aligned) + 1048576 + 576*128*4 = 294912: 1638400. Preferred: the target column buffer
   * over 2304 bytes per pixel, down to a multiple of 4 pixels, two buffers of it (every region a
   * multiple of 256 bytes here: 576*4*4 = 9216 per 4 pixels). */
  ck_assert_int_eq(CONVGEMM_IM2COL_CUBLAS_WORKSPACE, 1048576);
  ck_assert_int_eq(CONVGEMM_IM2COL_MIN_PIXELS, 128);
  const struct convgemm_conv_desc d = make_desc(8, 64, 512, 1024, 128, 3, 3);
  size_t min_b = 0, pref_b = 0;
  const convgemm_device_info_t h100 = fake_device_h100();
  convgemm_im2col_gemm_workspace(&d, &h100, &min_b, &pref_b);
  ck_assert_uint_eq(min_b, 1638400);
  int64_t pixels = convgemm_im2col_target_col_bytes(&h100) / 2304 / 4 * 4;
  if (pixels > 8 * 521220) pixels = 8 * 521220;
  ck_assert_uint_eq(pref_b, 294912 + 2 * 1048576 + 2 * (size_t)(576 * 4 * pixels));
  convgemm_im2col_gemm_plan_t plan;
  convgemm_im2col_gemm_make_plan(&d, &h100, min_b, &plan);
  ck_assert_int_eq(plan.pixels_per_chunk, 128);
  ck_assert_int_eq(plan.chunks_per_image, 4073); /* ceil(510*1022 / 128) = ceil(4072.03) */
  ck_assert_int_eq(plan.chunks, 8 * 4073);
  ck_assert_int_eq(plan.buffers, 1);
}
END_TEST

/* ---- make_plan over many sizes ---------------------------------------------------------- */

START_TEST(test_workspace_of_problem_55_in_16bit) {
  /* The same in bfloat16 (and float16): 1152 bytes per pixel. Minimum: filter 128*576*2 = 147456
   * (a multiple of 256) + 1048576 + 576*128*2 = 147456: 1343488. Preferred: twice the pixels of
   * float32's target buffer, two buffers. The bias is one row whatever the math mode. */
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  const convgemm_device_info_t h100 = fake_device_h100();
  for (int t = 0; t < 2; ++t) {
    convgemm_conv2d_params_t p;
    convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
    p.data_type = kTypes[t];
    const struct convgemm_conv_desc d = validated(&p);
    size_t min_b = 0, pref_b = 0;
    convgemm_im2col_gemm_workspace(&d, &h100, &min_b, &pref_b);
    ck_assert_uint_eq(min_b, 1343488);
    int64_t pixels = convgemm_im2col_target_col_bytes(&h100) / 1152 / 4 * 4;
    if (pixels > 8 * 521220) pixels = 8 * 521220;
    ck_assert_uint_eq(pref_b, 147456 + 2 * 1048576 + 2 * (size_t)(576 * 2 * pixels));
    convgemm_im2col_gemm_plan_t plan;
    convgemm_im2col_gemm_make_plan(&d, &h100, pref_b, &plan);
    ck_assert_int_eq(plan.buffers, 2);
    ck_assert_int_eq(plan.pixels_per_chunk, pixels);
    p.has_bias = 1;
    const struct convgemm_conv_desc db = validated(&p);
    convgemm_im2col_gemm_make_plan(&db, &h100, pref_b, &plan);
    ck_assert_int_eq(plan.bias_rows, 1);
    ck_assert_int_eq(plan.krg_pad, 580);
  }
}
END_TEST

START_TEST(test_make_plan_invariants) {
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  int plans = 0, whole = 0, multi = 0, pixel = 0, one_buffer = 0, two_buffers = 0;
  for (int dev = 0; dev < 2; ++dev)
    for (int i = 0; i < kShapeCount; ++i)
      for (int v = 0; v < kVariants; ++v) {
        const struct convgemm_conv_desc d = shape_desc(i, v);
        size_t sizes[kMaxSizes];
        const int count = sizes_to_try(&d, &devices[dev], sizes);
        convgemm_im2col_gemm_plan_t prev;
        for (int j = 0; j < count; ++j) {
          convgemm_im2col_gemm_plan_t plan;
          convgemm_im2col_gemm_make_plan(&d, &devices[dev], sizes[j], &plan);
          check_plan(&d, sizes[j], &plan);
          ++plans;
          whole += plan.pixels_per_chunk == plan.pq;
          multi += plan.images_per_chunk > 1;
          pixel += plan.pixels_per_chunk < plan.pq;
          one_buffer += plan.buffers == 1;
          two_buffers += plan.buffers == 2;
          if (j > 0) {
            /* More workspace: never fewer buffers; with the same buffers, never less per chunk. */
            char ctx[512];
            describe(&d, sizes[j], ctx, sizeof ctx);
            ck_assert_msg(plan.buffers >= prev.buffers, "%s: %d buffers after %d", ctx,
                          plan.buffers, prev.buffers);
            if (plan.buffers == prev.buffers)
              ck_assert_msg(plan.pixels_per_chunk * plan.images_per_chunk >=
                                prev.pixels_per_chunk * prev.images_per_chunk,
                            "%s: chunk of %lld x %lld after %lld x %lld", ctx,
                            (long long)plan.pixels_per_chunk, (long long)plan.images_per_chunk,
                            (long long)prev.pixels_per_chunk, (long long)prev.images_per_chunk);
          }
          prev = plan;
        }
      }
  /* Every kind of plan was checked. */
  ck_assert_msg(whole > 0 && multi > 0 && pixel > 0 && one_buffer > 0 && two_buffers > 0,
                "%d plans: whole %d, multi-image %d, pixel chunks %d, 1 buffer %d, 2 buffers %d",
                plans, whole, multi, pixel, one_buffer, two_buffers);
}
END_TEST

START_TEST(test_image_cap) {
  /* 65536 images of one pixel, C 1 1x1 without bias: krg 1 -> krg_pad 4, 16 bytes per pixel.
   * The target buffer over 16 bytes is far above all 65536*4 pixels, so the preferred chunk is
   * every image, capped at 65535 per chunk: two chunks (65535 and 1). (Ten times the preferred
   * workspace: what the preferred size itself gives is test_preferred_size_gives_the_preferred_
   * plan's business.) */
  const struct convgemm_conv_desc d = make_desc(65536, 1, 1, 1, 32, 1, 1);
  const convgemm_device_info_t h100 = fake_device_h100();
  ck_assert_int_ge(convgemm_im2col_target_col_bytes(&h100), 65536 * 16);
  size_t min_b = 0, pref_b = 0;
  convgemm_im2col_gemm_workspace(&d, &h100, &min_b, &pref_b);
  convgemm_im2col_gemm_plan_t plan;
  convgemm_im2col_gemm_make_plan(&d, &h100, 10 * pref_b, &plan);
  check_plan(&d, 10 * pref_b, &plan);
  ck_assert_int_eq(plan.images_per_chunk, CONVGEMM_IM2COL_MAX_IMAGES);
  ck_assert_int_eq(plan.chunks, 2);
}
END_TEST

START_TEST(test_make_plan_takes_the_largest_chunk_that_fits) {
  /* im2col_gemm_plan.h: "the largest chunk up to the preferred one that fits, two buffers when
   * two fit". Checked against a binary search over chunk sizes (documented_plan). */
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int dev = 0; dev < 2; ++dev)
    for (int i = 0; i < kShapeCount; ++i)
      for (int v = 0; v < kVariants; ++v) {
        const struct convgemm_conv_desc d = shape_desc(i, v);
        size_t sizes[kMaxSizes];
        const int count = sizes_to_try(&d, &devices[dev], sizes);
        for (int j = 0; j < count; ++j) {
          convgemm_im2col_gemm_plan_t plan, want;
          convgemm_im2col_gemm_make_plan(&d, &devices[dev], sizes[j], &plan);
          ck_assert(documented_plan(&d, &devices[dev], sizes[j], &want));
          char ctx[512], got_text[256], want_text[256];
          describe(&d, sizes[j], ctx, sizeof ctx);
          im2col_describe_plan(&plan, got_text, sizeof got_text);
          im2col_describe_plan(&want, want_text, sizeof want_text);
          ck_assert_msg(im2col_same_geometry(&plan, &want),
                        "%s: plan %s; the largest that fits: %s", ctx, got_text, want_text);
        }
      }
}
END_TEST

START_TEST(test_preferred_size_gives_the_preferred_plan) {
  /* The preferred workspace, and anything larger, gives the preferred plan (two buffers of the
   * preferred chunk), which needs exactly the preferred workspace. */
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int dev = 0; dev < 2; ++dev)
    for (int i = 0; i < kShapeCount; ++i)
      for (int v = 0; v < kVariants; ++v) {
        const struct convgemm_conv_desc d = shape_desc(i, v);
        size_t min_b = 0, pref_b = 0;
        convgemm_im2col_gemm_workspace(&d, &devices[dev], &min_b, &pref_b);
        convgemm_im2col_gemm_plan_t want;
        convgemm_im2col_gemm_plan_for_chunk(&d, preferred_pixels(&d, &devices[dev]), 2, &want);
        const size_t sizes[3] = {pref_b, pref_b + 4096, 10 * pref_b};
        for (int j = 0; j < 3; ++j) {
          convgemm_im2col_gemm_plan_t plan;
          convgemm_im2col_gemm_make_plan(&d, &devices[dev], sizes[j], &plan);
          char ctx[512], got_text[256], want_text[256];
          describe(&d, sizes[j], ctx, sizeof ctx);
          im2col_describe_plan(&plan, got_text, sizeof got_text);
          im2col_describe_plan(&want, want_text, sizeof want_text);
          ck_assert_msg(im2col_same_geometry(&plan, &want) &&
                            plan.workspace_bytes == pref_b,
                        "%s (preferred %zu): plan %s, the preferred plan %s", ctx, pref_b,
                        got_text, want_text);
        }
      }
}
END_TEST

/* ---- support limits --------------------------------------------------------------------- */

static void expect_supported(const convgemm_conv2d_params_t* p, const char* what) {
  const struct convgemm_conv_desc d = validated(p);
  const convgemm_status_t s = convgemm_im2col_gemm_supports(&d);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: %s: %s", what, convgemm_status_string(s),
                convgemm_get_last_error());
}

/* NOT_SUPPORTED with a message naming IM2COL_GEMM and `needle`, from the plan's check and from
 * every public entry that resolves the algorithm (on a fake handle: all of it is host code). */
static void expect_unsupported(const convgemm_conv2d_params_t* p, const char* needle,
                               const char* what) {
  const struct convgemm_conv_desc d = validated(p);
  CK_CONVGEMM_STATUS(convgemm_im2col_gemm_supports(&d), CONVGEMM_STATUS_NOT_SUPPORTED);
  const char* msg = convgemm_get_last_error();
  ck_assert_msg(strstr(msg, "IM2COL_GEMM") != NULL && strstr(msg, needle) != NULL,
                "%s: message \"%s\" does not name IM2COL_GEMM and \"%s\"", what, msg, needle);
  struct convgemm_handle fake = fake_device_handle(fake_device_h100());
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, p));
  CK_CONVGEMM_STATUS(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_IM2COL_GEMM),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), needle));
  size_t min_b = 7, pref_b = 7;
  CK_CONVGEMM_STATUS(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_IM2COL_GEMM, &min_b,
                                                 &pref_b),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_uint_eq(min_b, 7); /* outputs left alone on failure */
  float dummy[4];
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc, CONVGEMM_ALGO_IM2COL_GEMM, dummy, dummy,
                                      p->has_bias ? dummy : NULL, dummy, dummy, 1 << 30, NULL),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  /* AUTO never picks what can't run (DIRECT, or IMPLICIT_GEMM where it runs), whatever the
   * thresholds say, and asks for that algorithm's workspace. */
  convgemm_algo_t algo = CONVGEMM_ALGO_AUTO;
  CK_CONVGEMM(convgemm_get_algorithm(&fake, desc, &algo));
  ck_assert_int_ne(algo, CONVGEMM_ALGO_IM2COL_GEMM);
  CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, algo));
  size_t want_min = 0, want_pref = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, algo, &want_min, &want_pref));
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_AUTO, &min_b, &pref_b));
  ck_assert_uint_eq(min_b, want_min);
  ck_assert_uint_eq(pref_b, want_pref);
  convgemm_conv_desc_destroy(desc);
}

START_TEST(test_pixels_per_image_limit) {
  /* P*Q at most 2^31-1 (a prime: 1 x (2^31-1)); 2 x 2^30 = 2^31 is over. K 32 and C/G*R*S 64
   * put both past AUTO's thresholds. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 64, 1, INT32_MAX, 32, 1, 1);
  expect_supported(&p, "P*Q = 2^31-1");
  convgemm_conv2d_params_init(&p, 1, 64, 2, 1 << 30, 32, 1, 1);
  expect_unsupported(&p, "P*Q", "P*Q = 2^31");
  convgemm_conv2d_params_init(&p, 1, 64, 65536, 32769, 32, 1, 1); /* 2^31 + 2^16 */
  expect_unsupported(&p, "P*Q", "P*Q = 65536 x 32769");
}
END_TEST

START_TEST(test_padded_plane_limit) {
  /* H + 2*pad_h at most 2^31-1. H 2^31-3 with pad 1 and R 3: padded 2^31-1, P 2^31-3, Q 1. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 8, INT32_MAX - 2, 1, 32, 3, 1);
  p.pad_h = 1;
  expect_supported(&p, "padded height 2^31-1");
  /* H 2^31-1 with pad 1: padded 2^31 + 1 (P 2^31-1 stays in range). */
  convgemm_conv2d_params_init(&p, 1, 8, INT32_MAX, 1, 32, 3, 1);
  p.pad_h = 1;
  expect_unsupported(&p, "padded", "padded height 2^31+1");
  convgemm_conv2d_params_init(&p, 1, 8, 1, INT32_MAX, 32, 1, 3);
  p.pad_w = 1;
  expect_unsupported(&p, "padded", "padded width 2^31+1");
}
END_TEST

START_TEST(test_row_block_limit) {
  /* The im2col grid's y extent: groups * (ceil((C/G) / channels per block) + 1) (one block per
   * group for the bias and padding rows) at most CONVGEMM_IM2COL_MAX_ROW_BLOCKS. */
  const int64_t per_block = CONVGEMM_IM2COL_CHANNELS_PER_BLOCK;
  const int64_t max_blocks = CONVGEMM_IM2COL_MAX_ROW_BLOCKS;
  ck_assert_int_eq(max_blocks, 65535);
  /* One group: (max - 1) channel blocks of full channels fit; one channel more is one block
   * more. K 32 and C/G*R*S >= 64 put these past AUTO's thresholds. */
  convgemm_conv2d_params_t p;
  const int64_t c_ok = (max_blocks - 1) * per_block;
  convgemm_conv2d_params_init(&p, 1, c_ok, 1, 1, 32, 1, 1);
  expect_supported(&p, "one group at the row-block limit");
  p.has_bias = 1; /* bias rows live in the extra block: no block more */
  expect_supported(&p, "one group at the row-block limit, bias");
  convgemm_conv2d_params_init(&p, 1, c_ok + 1, 1, 1, 32, 1, 1);
  expect_unsupported(&p, "row blocks", "one group one channel past the row-block limit");
  /* Groups of one channel: two blocks each. */
  const int64_t g_ok = max_blocks / 2;
  convgemm_conv2d_params_init(&p, 1, g_ok, 1, 1, g_ok, 1, 1);
  p.groups = g_ok;
  expect_supported(&p, "groups at the row-block limit");
  convgemm_conv2d_params_init(&p, 1, g_ok + 1, 1, 1, g_ok + 1, 1, 1);
  p.groups = g_ok + 1;
  const struct convgemm_conv_desc d = validated(&p);
  CK_CONVGEMM_STATUS(convgemm_im2col_gemm_supports(&d), CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "row blocks"));
}
END_TEST

START_TEST(test_row_limit) {
  /* Rows (G * krg_pad) are indexed with 32 bits: at most 2^31-1. One channel, R*S = 2^31-4 =
   * 932 x 2304167 (2^31-4 = 4 * 233 * 1103 * 2089), a 1x1 output: krg = krg_pad = 2^31-4
   * (IEEE's bias row pushes it to 2^31, DEFAULT's two as well). */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 1, 932, 2304167, 32, 932, 2304167);
  expect_supported(&p, "2^31-4 rows");
  /* The message names the row count that is over (2^31 both ways: padded to 4). */
  p.has_bias = 1;
  expect_unsupported(&p, "2147483648", "2^31-4 rows + 2 bias rows");
  p.math_mode = CONVGEMM_MATH_IEEE;
  expect_unsupported(&p, "2147483648", "2^31-4 rows + 1 bias row");
}
END_TEST

/* ---- AUTO's rule ------------------------------------------------------------------------ */

START_TEST(test_auto_thresholds) {
  /* IM2COL_GEMM exactly when K/G >= 32 (TF32: DEFAULT math, C/G > 1) or 64 (fp32: IEEE math, or
   * C/G == 1) and (C/G)*R*S >= 64.
   * Reductions of 64 and 63 made several ways (channels, filter area, groups); K/G at, one and
   * two below, and one above the threshold, with and without groups. */
  static const struct {
    int64_t cg, r, s;
  } kReductions[] = {{64, 1, 1}, {16, 2, 2}, {1, 8, 8}, {4, 4, 4}, /* 64 */
                     {63, 1, 1}, {7, 3, 3},  {1, 9, 7}, {21, 3, 1}}; /* 63 */
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  int gemm = 0, direct = 0;
  for (int math = 0; math < 2; ++math)
  for (int dev = 0; dev < 2; ++dev)
    for (size_t i = 0; i < sizeof kReductions / sizeof kReductions[0]; ++i)
      for (int64_t kg = (math ? 64 : 32) - 2; kg <= (math ? 64 : 32) + 1; ++kg)
        for (int64_t groups = 1; groups <= 3; groups += 2)
          for (int bias = 0; bias < 2; ++bias) {
            convgemm_conv2d_params_t p;
            convgemm_conv2d_params_init(&p, 2, kReductions[i].cg * groups, 12, 12, kg * groups,
                                        kReductions[i].r, kReductions[i].s);
            p.groups = groups;
            p.has_bias = bias;
            p.math_mode = math ? CONVGEMM_MATH_IEEE : CONVGEMM_MATH_DEFAULT;
            struct convgemm_conv_desc d = validated(&p);
            const int64_t reduction = kReductions[i].cg * kReductions[i].r * kReductions[i].s;
            /* C/G == 1 is fp32 in DEFAULT math too, so it takes the FP32 threshold. */
            const int64_t threshold = math || kReductions[i].cg == 1 ? 64 : 32;
            const convgemm_algo_t want = kg >= threshold && reduction >= 64
                                             ? CONVGEMM_ALGO_IM2COL_GEMM
                                             : CONVGEMM_ALGO_DIRECT;
            const convgemm_algo_t got = convgemm_select_algorithm(&d, &devices[dev]);
            ck_assert_msg(got == want, "K/G %lld, C/G*R*S %lld (%lldx%lldx%lld), groups %lld: %d",
                          (long long)kg, (long long)reduction, (long long)kReductions[i].cg,
                          (long long)kReductions[i].r, (long long)kReductions[i].s,
                          (long long)groups, (int)got);
            gemm += want == CONVGEMM_ALGO_IM2COL_GEMM;
            direct += want == CONVGEMM_ALGO_DIRECT;
            /* The public query agrees, and AUTO's workspace is the chosen algorithm's. */
            struct convgemm_handle fake = fake_device_handle(devices[dev]);
            convgemm_algo_t algo = CONVGEMM_ALGO_AUTO;
            CK_CONVGEMM(convgemm_get_algorithm(&fake, &d, &algo));
            ck_assert_int_eq(algo, want);
            size_t auto_min = 1, auto_pref = 1, min_b = 0, pref_b = 0;
            CK_CONVGEMM(convgemm_get_workspace_size(&fake, &d, CONVGEMM_ALGO_AUTO, &auto_min,
                                                    &auto_pref));
            if (want == CONVGEMM_ALGO_IM2COL_GEMM) {
              convgemm_im2col_gemm_workspace(&d, &devices[dev], &min_b, &pref_b);
              ck_assert(min_b > 0);
            }
            ck_assert_uint_eq(auto_min, min_b);
            ck_assert_uint_eq(auto_pref, pref_b);
          }
  /* reductions of 64, K/G at and above the threshold: 4 in IEEE math, 3 in DEFAULT math (C/G 1
   * is fp32 there, so K/G 32 and 33 stay DIRECT) */
  ck_assert_int_eq(gemm, 2 * (4 + 3) * 2 * 2 * 2);
  ck_assert_int_eq(direct, 2 * 2 * 8 * 4 * 2 * 2 - gemm);
}
END_TEST

START_TEST(test_successful_auto_query_keeps_the_last_error) {
  /* convgemm.h: the last error is "the message of the most recent call on this host thread that
   * did not return SUCCESS". AUTO asks IM2COL_GEMM whether it can run a descriptor past its
   * thresholds; when it can't, AUTO picks DIRECT and the call succeeds, so the message of the
   * last failed call must still be there. */
  convgemm_conv2d_params_t bad;
  convgemm_conv2d_params_init(&bad, 1, 1, 1, 1, 1, 1, 1);
  bad.stride_h = 0;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM_STATUS(convgemm_conv_desc_create(&desc, &bad), CONVGEMM_STATUS_BAD_STRIDE);
  char before[512];
  snprintf(before, sizeof before, "%s", convgemm_get_last_error());
  ck_assert_ptr_nonnull(strstr(before, "stride_h"));

  convgemm_conv2d_params_t p; /* one row block too many for IM2COL_GEMM; K/G 32 */
  convgemm_conv2d_params_init(&p, 1, (CONVGEMM_IM2COL_MAX_ROW_BLOCKS - 1) *
                                             CONVGEMM_IM2COL_CHANNELS_PER_BLOCK + 1,
                              1, 1, 32, 1, 1);
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  struct convgemm_handle fake = fake_device_handle(fake_device_h100());
  convgemm_algo_t algo = CONVGEMM_ALGO_AUTO;
  CK_CONVGEMM(convgemm_get_algorithm(&fake, desc, &algo));
  ck_assert_int_eq(algo, CONVGEMM_ALGO_DIRECT);
  ck_assert_msg(strcmp(convgemm_get_last_error(), before) == 0,
                "a successful get_algorithm replaced the last error \"%s\" with \"%s\"", before,
                convgemm_get_last_error());
  size_t min_b = 1, pref_b = 1;
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_AUTO, &min_b, &pref_b));
  CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_AUTO));
  ck_assert_msg(strcmp(convgemm_get_last_error(), before) == 0,
                "a successful AUTO query replaced the last error \"%s\" with \"%s\"", before,
                convgemm_get_last_error());
  convgemm_conv_desc_destroy(desc);
}
END_TEST

/* ---- gpu_im2col_gemm_test's lists ------------------------------------------------------- */

/* Case c in both math modes: valid, supported, a workspace list as promised (the minimum
 * first, ascending, the preferred in it), every plan valid; counted into cov. */
static void cover_case(const direct_case_t* c, const convgemm_device_info_t* info,
                       im2col_coverage_t* cov) {
  char config[256];
  direct_case_describe(&c->params, config, sizeof config);
  for (int mode = 0; mode < 2; ++mode) {
    convgemm_conv2d_params_t p = c->params;
    p.math_mode = (convgemm_math_mode_t)mode;
    struct convgemm_conv_desc d;
    const convgemm_status_t s = convgemm_conv_desc_validate(&p, &d);
    ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "case '%s' [%s]: %s", c->name, config,
                  convgemm_get_last_error());
    CK_CONVGEMM(convgemm_im2col_gemm_supports(&d));
    size_t sizes[IM2COL_MAX_WORKSPACES];
    const int count = im2col_workspace_sizes(&d, info, sizes);
    size_t min_b = 0, pref_b = 0;
    convgemm_im2col_gemm_workspace(&d, info, &min_b, &pref_b);
    ck_assert_msg(count >= 2 && count <= IM2COL_MAX_WORKSPACES && sizes[0] == min_b,
                  "case '%s': %d sizes, first %zu, min %zu", c->name, count, sizes[0], min_b);
    int has_pref = 0;
    for (int i = 0; i < count; ++i) {
      has_pref += sizes[i] == pref_b;
      ck_assert(sizes[i] >= min_b && (i == 0 || sizes[i] > sizes[i - 1]));
      convgemm_im2col_gemm_plan_t plan;
      convgemm_im2col_gemm_make_plan(&d, info, sizes[i], &plan);
      check_plan(&d, sizes[i], &plan);
    }
    ck_assert_msg(has_pref == 1, "case '%s': the preferred size %zu is not listed", c->name,
                  pref_b);
    im2col_coverage_add(&d, info, cov);
  }
}

START_TEST(test_gpu_lists_are_valid_affordable_and_cover_every_plan_kind) {
  int64_t extra_macs = 0;
  for (int i = 0; i < im2col_extra_case_count(); ++i) {
    direct_case_t c;
    im2col_extra_case(i, &c);
    extra_macs += direct_case_macs(&c.params);
  }
  ck_assert_msg(extra_macs <= IM2COL_EXTRA_MAX_TOTAL_MACS, "extra cases need %lld MACs",
                (long long)extra_macs);
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int dev = 0; dev < 2; ++dev) {
    im2col_coverage_t cov = {0};
    for (int i = 0; i < direct_fixed_case_count(); ++i) {
      direct_case_t c;
      direct_fixed_case(i, &c);
      cover_case(&c, &devices[dev], &cov);
    }
    for (int i = 0; i < im2col_extra_case_count(); ++i) {
      direct_case_t c;
      im2col_extra_case(i, &c);
      cover_case(&c, &devices[dev], &cov);
    }
    /* The fixed lists alone reach every kind (the random cases vary with the seed). */
    char counts[512];
    ck_assert_msg(im2col_coverage_complete(&cov, counts, sizeof counts), "device %d: %s", dev,
                  counts);
    for (int i = 0; i < DIRECT_RANDOM_CASES; ++i) {
      direct_case_t c;
      direct_random_case(777 + (uint64_t)i, &c);
      cover_case(&c, &devices[dev], &cov);
    }
  }
}
END_TEST

static Suite* im2col_plan_suite(void) {
  Suite* s = suite_create("cpu_im2col_plan");
  TCase* plan = tcase_create("plan");
  tcase_add_test(plan, test_row_layout);
  tcase_add_test(plan, test_workspace_min_and_preferred);
  tcase_add_test(plan, test_workspace_of_problem_55);
  tcase_add_test(plan, test_workspace_of_problem_55_in_16bit);
  tcase_add_test(plan, test_make_plan_invariants);
  tcase_add_test(plan, test_image_cap);
  suite_add_tcase(s, plan);

  TCase* contract = tcase_create("plan_contract");
  tcase_add_test(contract, test_make_plan_takes_the_largest_chunk_that_fits);
  tcase_add_test(contract, test_preferred_size_gives_the_preferred_plan);
  suite_add_tcase(s, contract);

  TCase* limits = tcase_create("support_limits");
  tcase_add_test(limits, test_pixels_per_image_limit);
  tcase_add_test(limits, test_padded_plane_limit);
  tcase_add_test(limits, test_row_block_limit);
  tcase_add_test(limits, test_row_limit);
  suite_add_tcase(s, limits);

  TCase* algo = tcase_create("auto");
  tcase_add_test(algo, test_auto_thresholds);
  tcase_add_test(algo, test_successful_auto_query_keeps_the_last_error);
  suite_add_tcase(s, algo);

  TCase* lists = tcase_create("gpu_lists");
  tcase_add_test(lists, test_gpu_lists_are_valid_affordable_and_cover_every_plan_kind);
  suite_add_tcase(s, lists);
  return s;
}

int main(void) { return check_main_run(im2col_plan_suite(), CK_FORK); }
