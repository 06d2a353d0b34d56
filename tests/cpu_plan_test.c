/*
 * DIRECT's host-side plan and the algorithm rules, on recorded device facts (fake_device.h):
 *   - the tile kind follows K/G (>= 48: K64, >= 8: K16, else K1), at the exact thresholds;
 *   - the channel chunk is the largest of C/G (at most 8), halved, whose shared memory fits the
 *     96 KB budget and the device's limit, and the plan's byte count is that of its chunk;
 *   - one channel's window beyond the device limit falls back to GENERIC (tiles = outputs);
 *   - tile counts are the ceilings of K/G, P and Q over the tile and multiply out;
 *   - AUTO picks DIRECT; IM2COL_GEMM is NOT_SUPPORTED with a message naming
 *     them; DIRECT needs no workspace;
 *   - float16 / bfloat16: IMPLICIT_GEMM runs in its sm_90 TMA kernel (C/G >= 16, W a multiple
 *     of 8, the box within the tensor, shared memory fitting), elsewhere in its mma.sync kernel
 *     where two stages fit (else NOT_SUPPORTED for shared memory); AUTO picks the TMA kernel by
 *     the wgmma rule, else IM2COL_GEMM from K/G 8 on, else DIRECT.
 *   - ROW_STRIP exactly when 2 <= C/G <= 4, R*S >= 25, K/G fills 3/4 of its 96-channel tiles
 *     and one channel fits the budget (the AlexNet stem takes it; problem 55 and depthwise keep
 *     their tiles), its window pitch conflicts least, and its sizes follow its layout;
 * Expected numbers are worked out by hand in the comments, from the layout in
 * direct_conv2d_plan.h (filter slice c*R*S rows of w_ld floats, input window c*halo_h*halo_w;
 * ROW_STRIP: 128 bytes of tile slots, filter slice c*R*S rows of 104 floats, window
 * c*halo_h*x_row_ld floats, c*R*S int tap offsets).
 */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "conv/direct_conv2d_plan.h"
#include "conv/implicit_gemm_plan.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/fake_device.h"
#include "tests/test_assert.h"

static struct convgemm_conv_desc make_desc(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                                           int64_t r, int64_t s) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, n, c, h, w, k, r, s);
  struct convgemm_conv_desc d;
  CK_CONVGEMM(convgemm_conv_desc_validate(&p, &d));
  return d;
}

static struct convgemm_conv_desc revalidate(convgemm_conv2d_params_t p) {
  struct convgemm_conv_desc d;
  CK_CONVGEMM(convgemm_conv_desc_validate(&p, &d));
  return d;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Shared memory of a chunk of `c` channels, from the layout (independent of the library's). */
static int64_t chunk_bytes(const struct convgemm_conv_desc* d, const convgemm_direct_plan_t* pl,
                           int64_t c) {
  if (pl->tile == CONVGEMM_DIRECT_DEPTHWISE) /* two stages of (filter padded to 4, window) */
    return 2 * 4 * (ceil_div(d->params.r * d->params.s, 4) * 4 + pl->halo_h * pl->halo_w);
  return 4 * (c * d->params.r * d->params.s * pl->shape.w_ld + c * pl->halo_h * pl->halo_w);
}

/* Invariants every tiled plan must satisfy on a device with `max_smem` bytes per block. */
static void check_tiled_plan(const struct convgemm_conv_desc* d, const convgemm_direct_plan_t* pl,
                             int max_smem) {
  const convgemm_conv2d_params_t* p = &d->params;
  ck_assert_int_ne(pl->tile, CONVGEMM_DIRECT_GENERIC);
  const convgemm_direct_tile_shape_t shape = convgemm_direct_tile_shape(pl->tile);
  ck_assert_int_eq(pl->shape.block_k, shape.block_k);
  ck_assert_int_eq(pl->shape.tile_p, shape.tile_p);
  ck_assert_int_eq(pl->shape.w_ld, shape.w_ld);
  ck_assert_int_eq(pl->halo_h, (shape.tile_p - 1) * p->stride_h + (p->r - 1) * p->dilation_h + 1);
  ck_assert_int_eq(pl->shape.tile_q, shape.tile_q);
  ck_assert_int_eq(pl->halo_w, (shape.tile_q - 1) * p->stride_w + (p->s - 1) * p->dilation_w + 1);
  /* The chunk: the first of first, first/2, first/4, ... (first = min(C/G, 8)) that fits the
   * budget, or 1. */
  const int64_t first = d->c_per_group < 8 ? d->c_per_group : 8;
  const int64_t budget = max_smem < 96 * 1024 ? max_smem : 96 * 1024;
  int64_t want = first;
  while (want > 1 && chunk_bytes(d, pl, want) > budget) want /= 2;
  ck_assert_int_eq(pl->c_chunk, want);
  ck_assert_int_eq((int64_t)pl->smem_bytes, chunk_bytes(d, pl, pl->c_chunk));
  ck_assert_int_le((int64_t)pl->smem_bytes, max_smem);
  if (pl->c_chunk > 1) ck_assert_int_le((int64_t)pl->smem_bytes, budget);
  ck_assert_int_eq(pl->k_tiles, ceil_div(d->k_per_group, shape.block_k));
  ck_assert_int_eq(pl->p_tiles, ceil_div(d->p, shape.tile_p));
  ck_assert_int_eq(pl->q_tiles, ceil_div(d->q, shape.tile_q));
  ck_assert_int_eq(pl->tiles, p->n * p->groups * pl->k_tiles * pl->p_tiles * pl->q_tiles);
}

static void check_generic_plan(const struct convgemm_conv_desc* d,
                               const convgemm_direct_plan_t* plan) {
  ck_assert_int_eq(plan->tile, CONVGEMM_DIRECT_GENERIC);
  ck_assert_int_eq(plan->tiles, d->y_elems);
  ck_assert_uint_eq(plan->smem_bytes, 0);
  ck_assert_int_eq(plan->c_chunk, 0);
}

START_TEST(test_tile_shapes) {
  convgemm_direct_tile_shape_t s = convgemm_direct_tile_shape(CONVGEMM_DIRECT_TILE_K64);
  ck_assert_int_eq(s.block_k, 64);
  ck_assert_int_eq(s.tile_p, 8);
  ck_assert_int_eq(s.w_ld, 72);
  s = convgemm_direct_tile_shape(CONVGEMM_DIRECT_TILE_K16);
  ck_assert_int_eq(s.block_k, 16);
  ck_assert_int_eq(s.tile_p, 16);
  ck_assert_int_eq(s.w_ld, 24);
  s = convgemm_direct_tile_shape(CONVGEMM_DIRECT_TILE_K1);
  ck_assert_int_eq(s.block_k, 1);
  ck_assert_int_eq(s.tile_p, 64);
  ck_assert_int_eq(s.w_ld, 1);
  s = convgemm_direct_tile_shape(CONVGEMM_DIRECT_DEPTHWISE);
  ck_assert_int_eq(s.block_k, 1);
  ck_assert_int_eq(s.tile_p, 32);
  ck_assert_int_eq(s.tile_q, 128);
  ck_assert_int_eq(s.w_ld, 1);
  /* Depthwise: each thread 4 x 4 outputs of one channel. */
  ck_assert_int_eq(s.tile_p * s.tile_q, CONVGEMM_DIRECT_THREADS * 16);
  s = convgemm_direct_tile_shape(CONVGEMM_DIRECT_ROW_STRIP);
  ck_assert_int_eq(s.block_k, 96);
  ck_assert_int_eq(s.tile_p, 0); /* the plan's, from Q */
  ck_assert_int_eq(s.tile_q, 0);
  ck_assert_int_eq(s.w_ld, 104);
  /* ROW_STRIP: 8 warps x 12 channels, 32 lanes x 5 columns. */
  ck_assert_int_eq(CONVGEMM_DIRECT_STRIP_BLOCK_K * CONVGEMM_DIRECT_STRIP_GROUPS *
                       CONVGEMM_DIRECT_STRIP_TP,
                   CONVGEMM_DIRECT_THREADS * 12 * 5);
  s = convgemm_direct_tile_shape(CONVGEMM_DIRECT_GENERIC);
  ck_assert_int_eq(s.block_k, 0);
  /* Each tiled shape is exactly the 256-thread block times its thread tile (8x8, 4x8, 1x8
   * channels x pixels, direct_conv2d_plan.h). */
  static const int kThreadTile[3] = {8 * 8, 4 * 8, 1 * 8};
  for (int t = 0; t < 3; ++t) {
    s = convgemm_direct_tile_shape((convgemm_direct_tile_t)t);
    ck_assert_int_eq(s.block_k * s.tile_p * CONVGEMM_DIRECT_TILE_Q,
                     CONVGEMM_DIRECT_THREADS * kThreadTile[t]);
  }
}
END_TEST

START_TEST(test_tile_kind_follows_k_per_group) {
  const convgemm_device_info_t h100 = fake_device_h100();
  static const struct {
    int64_t k, groups;
    convgemm_direct_tile_t want;
  } kCases[] = {
      {128, 1, CONVGEMM_DIRECT_TILE_K64}, {48, 1, CONVGEMM_DIRECT_TILE_K64},
      {47, 1, CONVGEMM_DIRECT_TILE_K16},  {8, 1, CONVGEMM_DIRECT_TILE_K16},
      {7, 1, CONVGEMM_DIRECT_TILE_K1},    {1, 1, CONVGEMM_DIRECT_TILE_K1},
      {96, 2, CONVGEMM_DIRECT_TILE_K64},  {94, 2, CONVGEMM_DIRECT_TILE_K16}, /* K/G 48, 47 */
      {16, 2, CONVGEMM_DIRECT_TILE_K16},  {14, 2, CONVGEMM_DIRECT_TILE_K1},  /* K/G 8, 7 */
      {32, 32, CONVGEMM_DIRECT_DEPTHWISE}, {64, 32, CONVGEMM_DIRECT_DEPTHWISE}, /* C/G 1 */
      {200, 1, CONVGEMM_DIRECT_TILE_K64},
  };
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; ++i) {
    convgemm_conv2d_params_t p;
    convgemm_conv2d_params_init(&p, 1, 32, 20, 40, kCases[i].k, 3, 3);
    p.groups = kCases[i].groups;
    const struct convgemm_conv_desc d = revalidate(p);
    convgemm_direct_plan_t plan;
    convgemm_direct_make_plan(&d, h100.max_smem_per_block, &plan);
    ck_assert_msg(plan.tile == kCases[i].want, "K %lld groups %lld: tile %d, want %d",
                  (long long)kCases[i].k, (long long)kCases[i].groups, (int)plan.tile,
                  (int)kCases[i].want);
    check_tiled_plan(&d, &plan, h100.max_smem_per_block);
  }
}
END_TEST

START_TEST(test_problem_55_plan) {
  /* K64 tile; halo 7*1 + 2 + 1 = 10 rows x 31 + 2 + 1 = 34 columns; 8 channels: filter
   * 8*9*72 = 5184 floats + window 8*10*34 = 2720 floats = 7904 floats = 31616 bytes.
   * Tiles: K 128/64 = 2, P ceil(510/8) = 64, Q ceil(1022/32) = 32; 8 images: 32768. */
  const struct convgemm_conv_desc d = make_desc(8, 64, 512, 1024, 128, 3, 3);
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(&d, fake_device_h100().max_smem_per_block, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_TILE_K64);
  ck_assert_int_eq(plan.c_chunk, 8);
  ck_assert_int_eq(plan.halo_h, 10);
  ck_assert_int_eq(plan.halo_w, 34);
  ck_assert_uint_eq(plan.smem_bytes, 31616);
  ck_assert_int_eq(plan.k_tiles, 2);
  ck_assert_int_eq(plan.p_tiles, 64);
  ck_assert_int_eq(plan.q_tiles, 32);
  ck_assert_int_eq(plan.tiles, 32768);
}
END_TEST

START_TEST(test_depthwise_plan) {
  /* KernelBench 82: 16x64x512x512, 3x3, groups 64. DEPTHWISE tile: window (32-1) + 2 + 1 = 34
   * rows x (127 + 2 + 1) = 130 columns; two stages of (9 filter floats padded to 12 + 4420)
   * = 35456 bytes. Tiles: 16 images x 64 channels x ceil(510/32) = 16 x ceil(510/128) = 4. */
  struct convgemm_conv_desc d = make_desc(16, 64, 512, 512, 64, 3, 3);
  d.params.groups = 64;
  d = revalidate(d.params);
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(&d, fake_device_h100().max_smem_per_block, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_DEPTHWISE);
  ck_assert_int_eq(plan.c_chunk, 1);
  ck_assert_int_eq(plan.halo_h, 34);
  ck_assert_int_eq(plan.halo_w, 130);
  ck_assert_uint_eq(plan.smem_bytes, 35456);
  ck_assert_int_eq(plan.tiles, 16 * 64 * 16 * 4);
  check_tiled_plan(&d, &plan, fake_device_h100().max_smem_per_block);
  /* Stride 2: 127*2 + 2 + 1 = 257 columns. */
  d.params.stride_h = d.params.stride_w = 2;
  d = revalidate(d.params);
  convgemm_direct_make_plan(&d, fake_device_h100().max_smem_per_block, &plan);
  ck_assert_int_eq(plan.halo_w, 257);
  check_tiled_plan(&d, &plan, fake_device_h100().max_smem_per_block);
}
END_TEST

START_TEST(test_channel_chunk_halves_to_fit_the_budget) {
  /* 11x11, K64 tile: per channel 121*72 = 8712 filter floats + (7 + 10 + 1) * (31 + 10 + 1) =
   * 18*42 = 756 window floats = 9468 floats = 37872 bytes. 8 channels 302976, 4: 151488 (both
   * over 96 KB = 98304), 2: 75744 fits. */
  const struct convgemm_conv_desc d = make_desc(1, 16, 32, 64, 64, 11, 11);
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(&d, fake_device_h100().max_smem_per_block, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_TILE_K64);
  ck_assert_int_eq(plan.c_chunk, 2);
  ck_assert_uint_eq(plan.smem_bytes, 75744);
  check_tiled_plan(&d, &plan, fake_device_h100().max_smem_per_block);
  /* Fewer channels than 8 start from C/G: 6 -> 3 (113616 > 98304) -> 1. */
  const struct convgemm_conv_desc d6 = make_desc(1, 6, 32, 64, 64, 11, 11);
  convgemm_direct_make_plan(&d6, fake_device_h100().max_smem_per_block, &plan);
  ck_assert_int_eq(plan.c_chunk, 1);
  ck_assert_uint_eq(plan.smem_bytes, 37872);
  /* A device with less than 96 KB per block sets the budget: 48 KB leaves 1 channel. */
  convgemm_direct_make_plan(&d, 48 * 1024, &plan);
  ck_assert_int_eq(plan.c_chunk, 1);
  ck_assert_uint_eq(plan.smem_bytes, 37872);
  check_tiled_plan(&d, &plan, 48 * 1024);
}
END_TEST

START_TEST(test_one_channel_over_budget_but_within_device_stays_tiled) {
  /* 1x1, stride_w 129, K64 tile: window 8 rows x (31*129 + 1) = 4000 columns: per channel
   * 72 + 32000 = 32072 floats = 128288 bytes, over the 96 KB budget (so one channel) but within
   * the H100's 232448 bytes: tiled, at 128288 bytes. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 4, 16, 5000, 64, 1, 1);
  p.stride_w = 129;
  const struct convgemm_conv_desc d = revalidate(p);
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(&d, fake_device_h100().max_smem_per_block, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_TILE_K64);
  ck_assert_int_eq(plan.c_chunk, 1);
  ck_assert_int_eq(plan.halo_w, 4000);
  ck_assert_uint_eq(plan.smem_bytes, 128288);
  check_tiled_plan(&d, &plan, fake_device_h100().max_smem_per_block);
  /* The device limit is inclusive: exactly 128288 bytes still runs tiled, 4 bytes less can't. */
  convgemm_direct_make_plan(&d, 128288, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_TILE_K64);
  convgemm_direct_make_plan(&d, 128284, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_GENERIC);
}
END_TEST


START_TEST(test_huge_dilation_falls_back_to_generic) {
  /* R 3 dilation 20000: K1 tile window (63 + 40000 + 1) x 34 floats = 5.4 MB for one channel. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 2, 40001, 8, 4, 3, 3);
  p.dilation_h = 20000;
  const struct convgemm_conv_desc d = revalidate(p);
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(&d, fake_device_h100().max_smem_per_block, &plan);
  check_generic_plan(&d, &plan);
  ck_assert_int_eq(plan.tiles, 1 * 4 * 1 * 6); /* P = 40001 - 40000 = 1, Q = 8 - 2 = 6 */
}
END_TEST

START_TEST(test_gpu_suite_fallback_cases_are_generic) {
  /* The two GENERIC cases of gpu_direct_test, on both recorded devices. The dilation one:
   * K1 window (63 + 2000 + 1) x (31 + 1 + 1) = 2064 x 33 floats + a 3*2-float filter = 272472
   * bytes > 232448. The stride one: 64 x (31*40 + 2 + 1) = 64 x 1243 floats + 3 = 318220 bytes. */
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int i = 0; i < 2; ++i) {
    convgemm_conv2d_params_t p;
    convgemm_conv2d_params_init(&p, 1, 2, 2100, 6, 4, 3, 2);
    p.dilation_h = 1000;
    struct convgemm_conv_desc d = revalidate(p);
    convgemm_direct_plan_t plan;
    convgemm_direct_make_plan(&d, devices[i].max_smem_per_block, &plan);
    check_generic_plan(&d, &plan);
    convgemm_conv2d_params_init(&p, 1, 2, 8, 200, 4, 1, 3);
    p.stride_w = 40;
    p.has_bias = 1;
    d = revalidate(p);
    convgemm_direct_make_plan(&d, devices[i].max_smem_per_block, &plan);
    check_generic_plan(&d, &plan);
  }
}
END_TEST

START_TEST(test_tile_counts_with_groups_and_partial_tiles) {
  /* K16 tile (K/G 20): K tiles ceil(20/16) = 2, P 37 (pad 1) over 16 rows: 3, Q 70 over 32: 3;
   * N 3 x G 2 x 2 x 3 x 3 = 108. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 3, 6, 37, 70, 40, 3, 3);
  p.groups = 2;
  p.pad_h = p.pad_w = 1;
  const struct convgemm_conv_desc d = revalidate(p);
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(&d, fake_device_h100().max_smem_per_block, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_TILE_K16);
  ck_assert_int_eq(plan.c_chunk, 3);
  ck_assert_int_eq(plan.k_tiles, 2);
  ck_assert_int_eq(plan.p_tiles, 3);
  ck_assert_int_eq(plan.q_tiles, 3);
  ck_assert_int_eq(plan.tiles, 108);
  check_tiled_plan(&d, &plan, fake_device_h100().max_smem_per_block);
}
END_TEST

START_TEST(test_plan_invariants_over_many_shapes) {
  /* Every combination of a few values of each parameter, on both devices, against a model of the
   * rule written here: the tile by K/G, GENERIC exactly when one channel's window and filter
   * exceed the device limit, otherwise the invariants of check_tiled_plan. */
  static const int64_t kCg[] = {1, 3, 8, 13};
  static const int64_t kKg[] = {1, 7, 8, 47, 48, 130};
  static const int64_t kFilter[] = {1, 3, 7};
  static const int64_t kStride[] = {1, 2, 5};
  static const int64_t kDilation[] = {1, 4};
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  int tiled = 0, generic = 0;
  for (int dev = 0; dev < 2; ++dev)
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 6; ++b)
        for (int f = 0; f < 3; ++f)
          for (int st = 0; st < 3; ++st)
            for (int dl = 0; dl < 2; ++dl) {
              convgemm_conv2d_params_t p;
              convgemm_conv2d_params_init(&p, 2, 2 * kCg[a], 60, 70, 2 * kKg[b], kFilter[f],
                                          kFilter[2 - f]);
              p.groups = 2;
              p.stride_h = p.stride_w = kStride[st];
              p.dilation_h = p.dilation_w = kDilation[dl];
              const struct convgemm_conv_desc d = revalidate(p);
              const int max_smem = devices[dev].max_smem_per_block;
              convgemm_direct_plan_t plan;
              convgemm_direct_make_plan(&d, max_smem, &plan);
              const convgemm_direct_tile_t by_k = kCg[a] == 1     ? CONVGEMM_DIRECT_DEPTHWISE
                                                  : kKg[b] >= 48  ? CONVGEMM_DIRECT_TILE_K64
                                                  : kKg[b] >= 8   ? CONVGEMM_DIRECT_TILE_K16
                                                                  : CONVGEMM_DIRECT_TILE_K1;
              const convgemm_direct_tile_shape_t shape = convgemm_direct_tile_shape(by_k);
              const int64_t halo_h = (shape.tile_p - 1) * p.stride_h + (p.r - 1) * p.dilation_h + 1;
              const int64_t halo_w = (shape.tile_q - 1) * p.stride_w + (p.s - 1) * p.dilation_w + 1;
              const int64_t one_channel =
                  by_k == CONVGEMM_DIRECT_DEPTHWISE
                      ? 2 * 4 * (ceil_div(p.r * p.s, 4) * 4 + halo_h * halo_w)
                      : 4 * (p.r * p.s * shape.w_ld + halo_h * halo_w);
              if (one_channel > max_smem) {
                check_generic_plan(&d, &plan);
                ++generic;
              } else {
                ck_assert_int_eq(plan.tile, by_k);
                check_tiled_plan(&d, &plan, max_smem);
                ++tiled;
              }
            }
  ck_assert_int_eq(tiled + generic, 2 * 4 * 6 * 3 * 3 * 2);
  ck_assert_int_gt(generic, 0); /* the model's fallback branch was exercised too */
}
END_TEST

/* ---- ROW_STRIP ---------------------------------------------------------------------------- */

/* The most lanes of a warp whose window reads share a bank (independent of the library's
 * search): lane l computes group (offset + l) of a strip starting `offset` groups into a row of
 * `row_groups`, and reads word row * stride_h * row_ld + 5 * group; strips start at multiples of
 * 32 groups. */
static int strip_conflicts(int64_t row_groups, int64_t stride_h, int64_t row_ld) {
  int worst = 0;
  for (int64_t start = 0; start < 32 * row_groups; start += 32) {
    const int64_t offset = start % row_groups;
    int banks[32] = {0};
    for (int64_t lane = 0; lane < 32; ++lane) {
      const int64_t row = (offset + lane) / row_groups, group = (offset + lane) % row_groups;
      const int64_t bank = (row * stride_h * row_ld + 5 * group) % 32;
      if (++banks[bank] > worst) worst = banks[bank];
    }
  }
  return worst;
}

/* ROW_STRIP's shared memory for c channels, from its layout. */
static int64_t strip_bytes(const struct convgemm_conv_desc* d, const convgemm_direct_plan_t* pl,
                           int64_t c) {
  const int64_t taps = c * d->params.r * d->params.s;
  return 128 + 4 * (taps * 104 + c * pl->halo_h * pl->x_row_ld + taps);
}

/* Invariants of a ROW_STRIP plan on a device with `max_smem` bytes per block. */
static void check_strip_plan(const struct convgemm_conv_desc* d, const convgemm_direct_plan_t* pl,
                             int max_smem) {
  const convgemm_conv2d_params_t* p = &d->params;
  ck_assert_int_eq(pl->tile, CONVGEMM_DIRECT_ROW_STRIP);
  ck_assert_int_eq(pl->shape.block_k, 96);
  ck_assert_int_eq(pl->shape.w_ld, 104);
  /* Rows of ceil(Q/5) groups, at most 32; the rows a strip of 32 groups spans at most, counted
   * here by walking the offsets strips start at (multiples of 32 groups) within a row. */
  const int64_t row_groups = ceil_div(d->q, 5) < 32 ? ceil_div(d->q, 5) : 32;
  ck_assert_int_eq(pl->shape.tile_q, 5 * row_groups);
  int64_t rows = 0;
  for (int64_t start = 0; start < 32 * row_groups; start += 32) {
    const int64_t first = start % row_groups, last = first + 31;
    const int64_t span = last / row_groups + 1;
    if (span > rows) rows = span;
  }
  if (rows > d->p) rows = d->p;
  ck_assert_int_eq(pl->shape.tile_p, rows);
  ck_assert_int_eq(pl->halo_h, (rows - 1) * p->stride_h + (p->r - 1) * p->dilation_h + 1);
  ck_assert_int_eq(pl->halo_w,
                   (5 * row_groups - 1) * p->stride_w + (p->s - 1) * p->dilation_w + 1);
  ck_assert_int_eq(pl->x_phase_ld, ceil_div(pl->halo_w, p->stride_w));
  /* The pitch: the first of the 32 from stride_w * x_phase_ld on that conflicts least. */
  const int64_t min_ld = p->stride_w * pl->x_phase_ld;
  ck_assert_int_ge(pl->x_row_ld, min_ld);
  ck_assert_int_lt(pl->x_row_ld, min_ld + 32);
  const int chosen = strip_conflicts(row_groups, p->stride_h, pl->x_row_ld);
  for (int64_t ld = min_ld; ld < min_ld + 32; ++ld) {
    const int conflicts = strip_conflicts(row_groups, p->stride_h, ld);
    ck_assert_int_ge(conflicts, chosen);
    if (ld < pl->x_row_ld) ck_assert_int_gt(conflicts, chosen);
  }
  /* The chunk: C/G halved until it fits the budget (one channel always does: else no
   * ROW_STRIP). */
  const int64_t budget = max_smem < 96 * 1024 ? max_smem : 96 * 1024;
  int64_t want = d->c_per_group;
  while (want > 1 && strip_bytes(d, pl, want) > budget) want /= 2;
  ck_assert_int_eq(pl->c_chunk, want);
  ck_assert_int_eq((int64_t)pl->smem_bytes, strip_bytes(d, pl, want));
  ck_assert_int_le((int64_t)pl->smem_bytes, budget);
  ck_assert_int_eq(pl->k_tiles, ceil_div(d->k_per_group, 96));
  ck_assert_int_eq(pl->p_tiles, ceil_div(d->p * row_groups, 32));
  ck_assert_int_eq(pl->q_tiles, ceil_div(d->q, 5 * row_groups));
  ck_assert_int_eq(pl->tiles, p->n * p->groups * pl->k_tiles * pl->p_tiles * pl->q_tiles);
}

START_TEST(test_alexnet_stem_plan) {
  /* KernelBench 50: 256 x 3 x 224 x 224, K 96, 11x11, stride 4, padding 2 -> 55 x 55. Q 55 is 11
   * groups of 5 a row (no padding column); strips start at row offsets 0 .. 10 and span up to
   * (10 + 31) / 11 + 1 = 4 rows: window (4-1)*4 + 10 + 1 = 23 rows x 54*4 + 10 + 1 = 227
   * columns, 57 per phase; pitch 228 (4*228 = 0 mod 32 would be 3-way: 228 = 4 mod 32, and 4
   * rows apart are 16 banks apart: 2-way). One channel: 128 + 4 * (121*104 + 23*228 + 121) =
   * 71924 bytes (3 would be 215516 > 96 KB: chunks of 1). Strips: ceil(55*11/32) = 19 a
   * picture, 256 pictures: 4864 blocks. */
  struct convgemm_conv_desc d = make_desc(256, 3, 224, 224, 96, 11, 11);
  d.params.stride_h = d.params.stride_w = 4;
  d.params.pad_h = d.params.pad_w = 2;
  d.params.has_bias = 1;
  d = revalidate(d.params);
  ck_assert_int_eq(d.p, 55);
  ck_assert_int_eq(d.q, 55);
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (int dev = 0; dev < 2; ++dev) {
    convgemm_direct_plan_t plan;
    convgemm_direct_make_plan(&d, devices[dev].max_smem_per_block, &plan);
    ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_ROW_STRIP);
    ck_assert_int_eq(plan.shape.tile_q, 55);
    ck_assert_int_eq(plan.shape.tile_p, 4);
    ck_assert_int_eq(plan.halo_h, 23);
    ck_assert_int_eq(plan.halo_w, 227);
    ck_assert_int_eq(plan.x_phase_ld, 57);
    ck_assert_int_eq(plan.x_row_ld, 228);
    ck_assert_int_eq(plan.c_chunk, 1);
    ck_assert_uint_eq(plan.smem_bytes, 71924);
    ck_assert_int_eq(plan.k_tiles, 1);
    ck_assert_int_eq(plan.p_tiles, 19);
    ck_assert_int_eq(plan.q_tiles, 1);
    ck_assert_int_eq(plan.tiles, 4864);
    check_strip_plan(&d, &plan, devices[dev].max_smem_per_block);
    /* Two blocks per SM fit the H100's 228 KB (and the A100's 164 KB). */
    ck_assert_int_le(2 * ((int64_t)plan.smem_bytes + 1024), 164 * 1024);
  }
  /* At stride 1 the pitch can make a warp's reads conflict-free: 5x5 over Q 55 (11 groups a
   * row): rows 1 * pitch apart, conflict-free only for pitch = 23 mod 32; the window is 59
   * columns (one phase), so the first such pitch from 59 is 87. */
  struct convgemm_conv_desc s1 = make_desc(1, 2, 20, 55, 96, 5, 5);
  s1.params.pad_h = s1.params.pad_w = 2;
  s1 = revalidate(s1.params);
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(&s1, fake_device_h100().max_smem_per_block, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_ROW_STRIP);
  ck_assert_int_eq(plan.halo_w, 59);
  ck_assert_int_eq(plan.x_row_ld, 87);
  ck_assert_int_eq(strip_conflicts(11, 1, 87), 1);
  check_strip_plan(&s1, &plan, fake_device_h100().max_smem_per_block);
}
END_TEST

START_TEST(test_row_strip_selection_rule) {
  /* Around each threshold of the rule, on the stem's geometry (11x11, stride 4, padding 2) over a
   * 64 x 64 input unless a filter says otherwise; problem 55 and depthwise keep their tiles
   * (test_problem_55_plan, test_depthwise_plan). */
  static const struct {
    int64_t c, k, r, s, groups;
    convgemm_direct_tile_t want;
  } kCases[] = {
      {3, 96, 11, 11, 1, CONVGEMM_DIRECT_ROW_STRIP},  /* the stem's channels */
      {2, 96, 11, 11, 1, CONVGEMM_DIRECT_ROW_STRIP},  /* C/G 2 */
      {4, 96, 11, 11, 1, CONVGEMM_DIRECT_ROW_STRIP},  /* C/G 4 */
      {5, 96, 11, 11, 1, CONVGEMM_DIRECT_TILE_K64},   /* C/G 5 */
      {1, 96, 11, 11, 1, CONVGEMM_DIRECT_GENERIC},    /* C/G 1: DEPTHWISE's, whose 32 x 128
                                                         window at stride 4 exceeds the device */
      {3, 72, 11, 11, 1, CONVGEMM_DIRECT_ROW_STRIP},  /* K/G 72: 3/4 of one tile */
      {3, 71, 11, 11, 1, CONVGEMM_DIRECT_TILE_K64},
      {3, 64, 11, 11, 1, CONVGEMM_DIRECT_TILE_K64},   /* K 64 (the ResNet stem's) */
      {3, 40, 11, 11, 1, CONVGEMM_DIRECT_TILE_K16},
      {3, 97, 11, 11, 1, CONVGEMM_DIRECT_TILE_K64},   /* two tiles, 97 of 192 channels used */
      {3, 143, 11, 11, 1, CONVGEMM_DIRECT_TILE_K64},
      {3, 144, 11, 11, 1, CONVGEMM_DIRECT_ROW_STRIP}, /* 144 of 192: 3/4 */
      {3, 192, 11, 11, 1, CONVGEMM_DIRECT_ROW_STRIP},
      {3, 96, 5, 5, 1, CONVGEMM_DIRECT_ROW_STRIP},    /* R*S 25 */
      {3, 96, 4, 6, 1, CONVGEMM_DIRECT_TILE_K64},     /* R*S 24 */
      {3, 96, 1, 25, 1, CONVGEMM_DIRECT_ROW_STRIP},
      {6, 192, 11, 11, 2, CONVGEMM_DIRECT_ROW_STRIP}, /* groups 2: C/G 3, K/G 96 */
      {6, 142, 11, 11, 2, CONVGEMM_DIRECT_TILE_K64},  /* groups 2: K/G 71 */
      {96, 96, 11, 11, 32, CONVGEMM_DIRECT_TILE_K1},  /* C/G 3 but K/G 3 */
      /* R*S 225: one channel's filter slice alone is 225*104*4 = 93600 bytes, with the window
       * over the 96 KB budget: not ROW_STRIP. */
      {3, 96, 15, 15, 1, CONVGEMM_DIRECT_TILE_K64},
  };
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; ++i)
    for (int dev = 0; dev < 2; ++dev) {
      convgemm_conv2d_params_t p;
      convgemm_conv2d_params_init(&p, 1, kCases[i].c, 64, 64, kCases[i].k, kCases[i].r,
                                  kCases[i].s);
      p.groups = kCases[i].groups;
      p.stride_h = p.stride_w = 4;
      p.pad_h = p.pad_w = 2;
      const struct convgemm_conv_desc d = revalidate(p);
      const int max_smem = devices[dev].max_smem_per_block;
      convgemm_direct_plan_t plan;
      convgemm_direct_make_plan(&d, max_smem, &plan);
      ck_assert_msg(plan.tile == kCases[i].want, "case %zu (C %lld K %lld %lldx%lld G %lld): "
                    "tile %d, want %d", i, (long long)kCases[i].c, (long long)kCases[i].k,
                    (long long)kCases[i].r, (long long)kCases[i].s, (long long)kCases[i].groups,
                    (int)plan.tile, (int)kCases[i].want);
      if (plan.tile == CONVGEMM_DIRECT_ROW_STRIP) {
        check_strip_plan(&d, &plan, max_smem);
      } else {
        ck_assert_int_eq(plan.x_phase_ld, 0);
        ck_assert_int_eq(plan.x_row_ld, 0);
      }
    }
  /* The stem on a device with 48 KB per block: one channel (71924 bytes) does not fit, so not
   * ROW_STRIP (the K64 tile's 11x11 window does not fit either: GENERIC). */
  struct convgemm_conv_desc stem = make_desc(2, 3, 224, 224, 96, 11, 11);
  stem.params.stride_h = stem.params.stride_w = 4;
  stem.params.pad_h = stem.params.pad_w = 2;
  stem = revalidate(stem.params);
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(&stem, 48 * 1024, &plan);
  ck_assert_int_ne(plan.tile, CONVGEMM_DIRECT_ROW_STRIP);
  convgemm_direct_make_plan(&stem, 71924, &plan);
  ck_assert_int_eq(plan.tile, CONVGEMM_DIRECT_ROW_STRIP);
  convgemm_direct_make_plan(&stem, 71920, &plan);
  ck_assert_int_ne(plan.tile, CONVGEMM_DIRECT_ROW_STRIP);
}
END_TEST

START_TEST(test_row_strip_plan_invariants_over_many_shapes) {
  /* Every combination of a few values of each parameter the kernel's indexing depends on (Q over
   * 5-column groups and past one strip row, P, stride, dilation, filter, C/G for the chunks,
   * K/G for partial tiles, groups), on both recorded devices and a small one. */
  static const int64_t kW[] = {6, 31, 57, 230, 700};
  static const int64_t kH[] = {9, 40};
  static const int64_t kStride[][2] = {{1, 1}, {4, 4}, {3, 2}, {2, 5}};
  static const int64_t kDilation[][2] = {{1, 1}, {2, 2}, {1, 3}};
  static const int64_t kFilter[][2] = {{5, 5}, {11, 11}, {3, 9}};
  static const int64_t kCg[] = {2, 3, 4};
  static const int64_t kKg[] = {72, 96, 150};
  const int max_smems[3] = {fake_device_h100().max_smem_per_block,
                            fake_device_a100().max_smem_per_block, 64 * 1024};
  int strips = 0;
  for (int wi = 0; wi < 5; ++wi)
    for (int hi = 0; hi < 2; ++hi)
      for (int st = 0; st < 4; ++st)
        for (int dl = 0; dl < 3; ++dl)
          for (int f = 0; f < 3; ++f)
            for (int c = 0; c < 3; ++c)
              for (int k = 0; k < 3; ++k) {
                convgemm_conv2d_params_t p;
                convgemm_conv2d_params_init(&p, 2, 2 * kCg[c], kH[hi] + 30, kW[wi] + 30,
                                            2 * kKg[k], kFilter[f][0], kFilter[f][1]);
                p.groups = 2;
                p.stride_h = kStride[st][0];
                p.stride_w = kStride[st][1];
                p.dilation_h = kDilation[dl][0];
                p.dilation_w = kDilation[dl][1];
                p.pad_h = p.pad_w = 1;
                const struct convgemm_conv_desc d = revalidate(p);
                for (int dev = 0; dev < 3; ++dev) {
                  convgemm_direct_plan_t plan;
                  convgemm_direct_make_plan(&d, max_smems[dev], &plan);
                  if (plan.tile != CONVGEMM_DIRECT_ROW_STRIP) continue;
                  check_strip_plan(&d, &plan, max_smems[dev]);
                  ++strips;
                }
              }
  ck_assert_int_gt(strips, 1000);
}
END_TEST

/* ---- algorithm rules -------------------------------------------------------------------- */

START_TEST(test_auto_rule) {
  /* AUTO: IM2COL_GEMM once K/G >= 32 (DEFAULT math; 64 in IEEE) and (C/G)*R*S >= 64, else
   * DIRECT; DIRECT where its plan is ROW_STRIP. */
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  struct convgemm_conv_desc depthwise = make_desc(16, 64, 512, 512, 64, 3, 3);
  depthwise.params.groups = 64;
  CK_CONVGEMM(convgemm_conv_desc_validate(&depthwise.params, &depthwise));
  const struct convgemm_conv_desc gemm_cases[2] = {make_desc(8, 64, 512, 1024, 128, 3, 3),
                                                   make_desc(2, 8, 32, 32, 32, 3, 3)};
  const struct convgemm_conv_desc direct_cases[4] = {
      make_desc(2, 1, 5, 5, 1, 1, 1), make_desc(2, 8, 32, 32, 31, 3, 3),
      make_desc(2, 7, 32, 32, 64, 3, 3), depthwise};
  for (int i = 0; i < 2; ++i) {
    /* Problem 55 (3x3, stride 1, Q 1022) goes to IMPLICIT_GEMM; Q 30 < 64 to IM2COL_GEMM. */
    ck_assert_int_eq(convgemm_select_algorithm(&gemm_cases[0], &devices[i]),
                     CONVGEMM_ALGO_IMPLICIT_GEMM);
    ck_assert_int_eq(convgemm_select_algorithm(&gemm_cases[1], &devices[i]),
                     CONVGEMM_ALGO_IM2COL_GEMM);
    /* 1x1 filters: IMPLICIT_GEMM where its wgmma kernel runs (sm_90), else IM2COL_GEMM; stride 2
     * at Q >= 64: IM2COL_GEMM. */
    const struct convgemm_conv_desc pointwise = make_desc(8, 64, 256, 256, 128, 1, 1);
    const int sm90 = devices[i].cc_major == 9 && devices[i].cc_minor == 0;
    ck_assert_int_eq(convgemm_select_algorithm(&pointwise, &devices[i]),
                     sm90 ? CONVGEMM_ALGO_IMPLICIT_GEMM : CONVGEMM_ALGO_IM2COL_GEMM);
    convgemm_device_info_t mma_only = devices[i];
    mma_only.no_wgmma = 1;
    ck_assert_int_eq(convgemm_select_algorithm(&pointwise, &mma_only), CONVGEMM_ALGO_IM2COL_GEMM);
    struct convgemm_conv_desc strided = make_desc(8, 64, 256, 256, 128, 3, 3);
    strided.params.stride_h = strided.params.stride_w = 2;
    CK_CONVGEMM(convgemm_conv_desc_validate(&strided.params, &strided));
    ck_assert_int_eq(convgemm_select_algorithm(&strided, &devices[i]), CONVGEMM_ALGO_IM2COL_GEMM);
    struct convgemm_conv_desc ieee55 = gemm_cases[0];
    ieee55.params.math_mode = CONVGEMM_MATH_IEEE;
    CK_CONVGEMM(convgemm_conv_desc_validate(&ieee55.params, &ieee55));
    /* IEEE math: the wgmma kernel's 3xTF32 on sm_90 (C/G >= 16, K/G >= 32), else IM2COL_GEMM;
     * C/G 16 with K/G 32 is enough, K/G 31 or C/G 15 is not. */
    ck_assert_int_eq(convgemm_select_algorithm(&ieee55, &devices[i]),
                     sm90 ? CONVGEMM_ALGO_IMPLICIT_GEMM : CONVGEMM_ALGO_IM2COL_GEMM);
    {
      static const int64_t kSplitCK[3][2] = {{16, 32}, {16, 31}, {15, 64}};
      for (int j = 0; j < 3; ++j) {
        struct convgemm_conv_desc e = make_desc(8, kSplitCK[j][0], 256, 256, kSplitCK[j][1], 3, 3);
        e.params.math_mode = CONVGEMM_MATH_IEEE;
        CK_CONVGEMM(convgemm_conv_desc_validate(&e.params, &e));
        const convgemm_algo_t got = convgemm_select_algorithm(&e, &devices[i]);
        if (sm90 && j == 0)
          ck_assert_int_eq(got, CONVGEMM_ALGO_IMPLICIT_GEMM);
        else
          ck_assert_int_ne(got, CONVGEMM_ALGO_IMPLICIT_GEMM);
      }
    }
    /* mma.sync (no_wgmma): Q exactly 64 is enough, 63 is not. wgmma (sm_90): Q 32 is enough
     * for 3x3, 31 is not; C/G and K/G 8 are enough, 7 are not. */
    const struct convgemm_conv_desc q64 = make_desc(1, 64, 66, 66, 64, 3, 3);
    const struct convgemm_conv_desc q63 = make_desc(1, 64, 66, 65, 64, 3, 3);
    convgemm_device_info_t mma = devices[i];
    mma.no_wgmma = 1;
    ck_assert_int_eq(convgemm_select_algorithm(&q64, &mma), CONVGEMM_ALGO_IMPLICIT_GEMM);
    ck_assert_int_eq(convgemm_select_algorithm(&q63, &mma), CONVGEMM_ALGO_IM2COL_GEMM);
    ck_assert_int_eq(convgemm_select_algorithm(&q63, &devices[i]),
                     sm90 ? CONVGEMM_ALGO_IMPLICIT_GEMM : CONVGEMM_ALGO_IM2COL_GEMM);
    const struct convgemm_conv_desc q32 = make_desc(1, 64, 34, 34, 64, 3, 3);
    const struct convgemm_conv_desc q31 = make_desc(1, 64, 34, 33, 64, 3, 3);
    ck_assert_int_eq(convgemm_select_algorithm(&q32, &devices[i]),
                     sm90 ? CONVGEMM_ALGO_IMPLICIT_GEMM : CONVGEMM_ALGO_IM2COL_GEMM);
    ck_assert_int_eq(convgemm_select_algorithm(&q31, &devices[i]), CONVGEMM_ALGO_IM2COL_GEMM);
    const struct convgemm_conv_desc c8 = make_desc(8, 8, 256, 256, 8, 3, 3);
    const struct convgemm_conv_desc c7 = make_desc(8, 7, 256, 256, 7, 3, 3);
    ck_assert_int_eq(convgemm_select_algorithm(&c8, &devices[i]),
                     sm90 ? CONVGEMM_ALGO_IMPLICIT_GEMM : CONVGEMM_ALGO_DIRECT);
    ck_assert_int_eq(convgemm_select_algorithm(&c7, &devices[i]), CONVGEMM_ALGO_DIRECT);
    for (int j = 0; j < 4; ++j)
      ck_assert_int_eq(convgemm_select_algorithm(&direct_cases[j], &devices[i]),
                       CONVGEMM_ALGO_DIRECT);
    /* IEEE math: K/G 32 stays DIRECT (FP32 GEMMs gain less), K/G 64 goes to IM2COL_GEMM. */
    struct convgemm_conv_desc ieee32 = gemm_cases[1], ieee64 = make_desc(2, 8, 32, 32, 64, 3, 3);
    ieee32.params.math_mode = CONVGEMM_MATH_IEEE;
    ieee64.params.math_mode = CONVGEMM_MATH_IEEE;
    CK_CONVGEMM(convgemm_conv_desc_validate(&ieee32.params, &ieee32));
    CK_CONVGEMM(convgemm_conv_desc_validate(&ieee64.params, &ieee64));
    ck_assert_int_eq(convgemm_select_algorithm(&ieee32, &devices[i]), CONVGEMM_ALGO_DIRECT);
    ck_assert_int_eq(convgemm_select_algorithm(&ieee64, &devices[i]), CONVGEMM_ALGO_IM2COL_GEMM);
    /* The AlexNet stem (KernelBench 50) takes DIRECT's ROW_STRIP register-window path in both
     * math modes, where the GEMM rule alone would pick IM2COL_GEMM; ROW_STRIP's general path
     * (5x5 stride 1, C 3, K 96: a GEMM) and the ResNet stem (7x7 stride 2, K 64: not
     * ROW_STRIP) keep the GEMM rule. */
    struct convgemm_conv_desc stem = make_desc(256, 3, 224, 224, 96, 11, 11);
    stem.params.stride_h = stem.params.stride_w = 4;
    stem.params.pad_h = stem.params.pad_w = 2;
    stem.params.has_bias = 1;
    for (int mode = 0; mode < 2; ++mode) {
      stem.params.math_mode = (convgemm_math_mode_t)mode;
      CK_CONVGEMM(convgemm_conv_desc_validate(&stem.params, &stem));
      ck_assert_int_eq(convgemm_select_algorithm(&stem, &devices[i]), CONVGEMM_ALGO_DIRECT);
    }
    struct convgemm_conv_desc general = make_desc(64, 3, 224, 224, 96, 5, 5);
    general.params.pad_h = general.params.pad_w = 2;
    CK_CONVGEMM(convgemm_conv_desc_validate(&general.params, &general));
    convgemm_direct_plan_t general_plan;
    convgemm_direct_make_plan(&general, devices[i].max_smem_per_block, &general_plan);
    ck_assert_int_eq(general_plan.tile, CONVGEMM_DIRECT_ROW_STRIP);
    ck_assert_int_eq(general_plan.strip_window, 0);
    ck_assert_int_ne(convgemm_select_algorithm(&general, &devices[i]), CONVGEMM_ALGO_DIRECT);
    struct convgemm_conv_desc resnet_stem = make_desc(32, 3, 224, 224, 64, 7, 7);
    resnet_stem.params.stride_h = resnet_stem.params.stride_w = 2;
    resnet_stem.params.pad_h = resnet_stem.params.pad_w = 3;
    CK_CONVGEMM(convgemm_conv_desc_validate(&resnet_stem.params, &resnet_stem));
    ck_assert_int_eq(convgemm_select_algorithm(&resnet_stem, &devices[i]),
                     CONVGEMM_ALGO_IM2COL_GEMM);
  }
}
END_TEST

START_TEST(test_auto_rule_16bit) {
  /* float16 and bfloat16, either math mode. IMPLICIT_GEMM runs 16-bit data in its sm_90 TMA
   * kernel (stride_w 1, C/G >= 16: one stage's 16 channels, W a multiple of 8: 16-byte rows,
   * the TMA box within W and H, shared memory fitting), else in its mma.sync kernel where the
   * two stages fit (not 5x5 on the A100); AUTO takes the TMA kernel where the wgmma rule holds
   * (C/G and K/G >= 8, Q >= 32 or 64 for 1x1), never the mma.sync one, else IM2COL_GEMM once
   * K/G >= 8 and (C/G)*R*S >= 64 (the 16-bit GEMM runs on tensor cores; measured,
   * conv/internal.h), else DIRECT. So the A100's column is that GEMM rule. */
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  const convgemm_device_info_t devices[2] = {fake_device_h100(), fake_device_a100()};
  const convgemm_algo_t kIgemm = CONVGEMM_ALGO_IMPLICIT_GEMM, kGemm = CONVGEMM_ALGO_IM2COL_GEMM,
                        kDirect = CONVGEMM_ALGO_DIRECT;
  /* tma: IMPLICIT_GEMM runs the TMA kernel on the H100. A 3x3 TMA box is 72 columns (66 rounded
   * up to 8), a 1x1 one 64, so W below those keeps the kernel out too. */
  struct {
    int64_t n, c, h, w, k, r, s, groups;
    int tma;
    convgemm_algo_t want[2]; /* H100, A100 */
  } kCases[] = {
      {8, 64, 512, 1024, 128, 3, 3, 1, 1, {kIgemm, kGemm}},  /* problem 55 */
      {8, 64, 256, 256, 128, 1, 1, 1, 1, {kIgemm, kGemm}},   /* pointwise, (C/G) 64 */
      {2, 8, 32, 32, 32, 3, 3, 1, 0, {kGemm, kGemm}},        /* both at the GEMM thresholds */
      {2, 16, 9, 9, 32, 2, 2, 1, 0, {kGemm, kGemm}},         /* C/G*R*S exactly 64; W 9 */
      {2, 8, 32, 32, 7, 3, 3, 1, 0, {kDirect, kDirect}},     /* K/G 7 */
      {2, 8, 32, 32, 31, 3, 3, 1, 0, {kGemm, kGemm}},        /* K/G 31 */
      {2, 7, 32, 32, 64, 3, 3, 1, 0, {kDirect, kDirect}},    /* (C/G)*R*S 63 */
      {8, 8, 256, 256, 8, 3, 3, 1, 0, {kGemm, kGemm}},       /* C = K = 8: C/G < 16 */
      {8, 4, 256, 256, 4, 3, 3, 1, 0, {kDirect, kDirect}},   /* C = K = 4 */
      {8, 64, 256, 256, 64, 3, 3, 16, 0, {kDirect, kDirect}}, /* groups 16: K/G 4 */
      {8, 64, 256, 256, 64, 3, 3, 8, 0, {kGemm, kGemm}},     /* groups 8: K/G 8, C/G 8 */
      {16, 64, 512, 512, 64, 3, 3, 64, 0, {kDirect, kDirect}}, /* depthwise */
      {2, 64, 32, 32, 64, 3, 3, 2, 0, {kGemm, kGemm}},       /* groups 2: W 32 < the box */
      {2, 64, 32, 32, 64, 1, 1, 2, 0, {kDirect, kDirect}},   /* the same 1x1: C/G*R*S 32 */
      {8, 64, 512, 1020, 128, 3, 3, 1, 0, {kGemm, kGemm}},   /* problem 55, W 1020 (8 | W no) */
      {8, 8, 512, 1024, 128, 3, 3, 1, 0, {kGemm, kGemm}},    /* problem 55, C 8 */
      {1, 16, 64, 72, 8, 3, 3, 1, 1, {kIgemm, kGemm}},       /* C/G 16, K/G 8, W = the box */
      {1, 15, 64, 72, 8, 3, 3, 1, 0, {kGemm, kGemm}},        /* C/G 15 */
      {1, 16, 64, 72, 4, 3, 3, 1, 1, {kDirect, kDirect}},    /* K/G 4: runs, AUTO declines */
      {1, 16, 64, 64, 8, 3, 3, 1, 0, {kGemm, kGemm}},        /* W 64 < the 72-column box */
      {1, 16, 64, 72, 64, 5, 5, 1, 1, {kIgemm, kGemm}},      /* 5x5: one filter row a stage */
      {1, 32, 64, 128, 32, 3, 3, 2, 1, {kIgemm, kGemm}},     /* groups 2: C/G = K/G = 16 */
  };
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; ++i)
    for (int t = 0; t < 2; ++t)
      for (int mode = 0; mode < 2; ++mode)
        for (int dev = 0; dev < 2; ++dev) {
          convgemm_conv2d_params_t p;
          convgemm_conv2d_params_init(&p, kCases[i].n, kCases[i].c, kCases[i].h, kCases[i].w,
                                      kCases[i].k, kCases[i].r, kCases[i].s);
          p.groups = kCases[i].groups;
          p.data_type = kTypes[t];
          p.math_mode = (convgemm_math_mode_t)mode;
          const struct convgemm_conv_desc d = revalidate(p);
          const convgemm_algo_t got = convgemm_select_algorithm(&d, &devices[dev]);
          ck_assert_msg(got == kCases[i].want[dev],
                        "case %zu type %d mode %d device %d: AUTO %s, want %s", i,
                        (int)kTypes[t], mode, dev, convgemm_algo_name(got),
                        convgemm_algo_name(kCases[i].want[dev]));
          CK_CONVGEMM(convgemm_algorithm_supports(&d, &devices[dev], got));
          const convgemm_status_t s =
              convgemm_algorithm_supports(&d, &devices[dev], CONVGEMM_ALGO_IMPLICIT_GEMM);
          const int tma = dev == 0 && kCases[i].tma;
          /* The mma.sync kernel's two 5x5 stages (2 x 122 KB) exceed the A100's 163 KB. */
          const int runs = tma || kCases[i].r != 5;
          ck_assert_msg(s == (runs ? CONVGEMM_STATUS_SUCCESS : CONVGEMM_STATUS_NOT_SUPPORTED),
                        "case %zu type %d mode %d device %d: IMPLICIT_GEMM %s: %s", i,
                        (int)kTypes[t], mode, dev, convgemm_status_string(s),
                        convgemm_get_last_error());
          convgemm_igemm_plan_t plan;
          convgemm_igemm_make_plan(&d, &devices[dev], &plan);
          if (tma) {
            ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
            ck_assert_int_eq(plan.tma, 1);
            ck_assert_int_eq(plan.split, 0);
            /* 5x5 with all filter rows: 8 x 68 = 544 window pixels, over the TMA's 448. */
            ck_assert_int_eq(plan.stage_rows, kCases[i].r == 5 ? 1 : (int)kCases[i].r);
          } else {
            ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_MMA_SYNC);
            ck_assert_int_eq(plan.c_chunks, (kCases[i].c / kCases[i].groups + 15) / 16);
            if (!runs)
              ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "shared-memory"));
          }
        }
  /* Where the TMA kernel doesn't run on the H100, IMPLICIT_GEMM runs the mma.sync kernel and
   * AUTO keeps the GEMM: problem 55 with stride 2, or on an H100 told not to use wgmma. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
  p.data_type = CONVGEMM_DATA_FLOAT16;
  convgemm_conv2d_params_t strided_p = p;
  strided_p.stride_h = strided_p.stride_w = 2;
  const struct convgemm_conv_desc strided = revalidate(strided_p);
  const struct convgemm_conv_desc d55 = revalidate(p);
  convgemm_device_info_t mma_only = devices[0];
  mma_only.no_wgmma = 1;
  const struct {
    const struct convgemm_conv_desc* d;
    const convgemm_device_info_t* info;
  } kMmaSync[2] = {{&strided, &devices[0]}, {&d55, &mma_only}};
  for (int i = 0; i < 2; ++i) {
    CK_CONVGEMM(
        convgemm_algorithm_supports(kMmaSync[i].d, kMmaSync[i].info, CONVGEMM_ALGO_IMPLICIT_GEMM));
    convgemm_igemm_plan_t plan;
    convgemm_igemm_make_plan(kMmaSync[i].d, kMmaSync[i].info, &plan);
    ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_MMA_SYNC);
    ck_assert_int_eq(convgemm_select_algorithm(kMmaSync[i].d, kMmaSync[i].info),
                     CONVGEMM_ALGO_IM2COL_GEMM);
  }
  /* 11x17 taps: the TMA kernel's 3 stages of one filter row (17 taps x 4 KB + the window) exceed
   * the H100's shared memory, refused for that (with the numbers); 11x16 fits. */
  convgemm_conv2d_params_t wide = p;
  wide.n = 1;
  wide.c = 16;
  wide.h = 64;
  wide.w = 256;
  wide.k = 64;
  wide.r = 11;
  wide.s = 17;
  const struct convgemm_conv_desc r11s17 = revalidate(wide);
  CK_CONVGEMM_STATUS(convgemm_algorithm_supports(&r11s17, &devices[0],
                                                 CONVGEMM_ALGO_IMPLICIT_GEMM),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "shared-memory"));
  ck_assert_int_eq(convgemm_select_algorithm(&r11s17, &devices[0]), CONVGEMM_ALGO_IM2COL_GEMM);
  wide.s = 16;
  const struct convgemm_conv_desc r11s16 = revalidate(wide);
  CK_CONVGEMM(convgemm_algorithm_supports(&r11s16, &devices[0], CONVGEMM_ALGO_IMPLICIT_GEMM));
  /* Problem 55 with C 8 in float32 DEFAULT math takes IMPLICIT_GEMM on the H100 (its TF32
   * stages hold 8 channels); in 16 bits it takes IM2COL_GEMM (table above): only the data type
   * changed the choice. */
  convgemm_conv2d_params_t c8 = p;
  c8.c = 8;
  c8.data_type = CONVGEMM_DATA_FLOAT32;
  const struct convgemm_conv_desc c8_32 = revalidate(c8);
  ck_assert_int_eq(convgemm_select_algorithm(&c8_32, &devices[0]), CONVGEMM_ALGO_IMPLICIT_GEMM);
  /* The public query through a handle says the same: problem 55 in bfloat16 takes
   * IMPLICIT_GEMM on the H100 and IM2COL_GEMM on the A100. */
  p.data_type = CONVGEMM_DATA_BFLOAT16;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  for (int dev = 0; dev < 2; ++dev) {
    struct convgemm_handle fake = fake_device_handle(devices[dev]);
    convgemm_algo_t algo = CONVGEMM_ALGO_AUTO;
    CK_CONVGEMM(convgemm_get_algorithm(&fake, desc, &algo));
    ck_assert_int_eq(algo, dev == 0 ? CONVGEMM_ALGO_IMPLICIT_GEMM : CONVGEMM_ALGO_IM2COL_GEMM);
  }
  convgemm_conv_desc_destroy(desc);
}
END_TEST

START_TEST(test_algorithm_support) {
  const convgemm_device_info_t h100 = fake_device_h100();
  const struct convgemm_conv_desc d = make_desc(8, 64, 512, 1024, 128, 3, 3);
  CK_CONVGEMM(convgemm_algorithm_supports(&d, &h100, CONVGEMM_ALGO_DIRECT));
  CK_CONVGEMM(convgemm_algorithm_supports(&d, &h100, CONVGEMM_ALGO_IM2COL_GEMM));
  CK_CONVGEMM(convgemm_algorithm_supports(&d, &h100, CONVGEMM_ALGO_IMPLICIT_GEMM));
  /* IEEE math: 3xTF32 in the sm_90 TMA kernel only, in tiles of 2 output rows (one per
   * warpgroup). Problem 55 then takes one filter row per stage (all three: 91 KB a stage, 3 of
   * them exceed the H100): 4 x 2 window rows x 66 pixels -> 136-pixel planes, big and small
   * (16 x 136 floats), 3 taps x 2 x 1024 floats of filter: 33280 bytes a stage, as many stages as
   * fit (6) + 192 bytes of barriers = 199872 bytes; the packed filter holds both parts (twice the
   * TF32 one). An even number of stages and a 132-pixel window (at most 64 x 5 / 2): two producer
   * groups. KernelBench 56 (5x7) in IEEE math: 3 stages of 66560 bytes, one group. */
  struct convgemm_conv_desc ieee = d;
  ieee.params.math_mode = CONVGEMM_MATH_IEEE;
  CK_CONVGEMM(convgemm_conv_desc_validate(&ieee.params, &ieee));
  CK_CONVGEMM(convgemm_algorithm_supports(&ieee, &h100, CONVGEMM_ALGO_IMPLICIT_GEMM));
  convgemm_igemm_plan_t split_plan;
  convgemm_igemm_make_plan(&ieee, &h100, &split_plan);
  ck_assert_int_eq(split_plan.split, 1);
  ck_assert_int_eq(split_plan.tma, 1);
  ck_assert_int_eq(split_plan.stage_rows, 1);
  ck_assert_int_eq(split_plan.stages, 6);
  ck_assert_int_eq(split_plan.tile_p, 2);
  ck_assert_int_eq(split_plan.halo_h, 2);
  ck_assert_int_eq(split_plan.p_tiles, 255);
  ck_assert_int_eq(split_plan.x_stage_floats, 16 * 136);
  ck_assert_int_eq(split_plan.w_stage_floats, 3 * 2048);
  ck_assert_uint_eq(split_plan.smem_bytes, 199872);
  ck_assert_uint_eq(split_plan.packed_floats, 2 * 8 * 9 * 8 * 128);
  ck_assert_int_eq(split_plan.producer_groups, 2);
  struct convgemm_conv_desc k56_ieee = make_desc(8, 64, 512, 256, 128, 5, 7);
  k56_ieee.params.math_mode = CONVGEMM_MATH_IEEE;
  CK_CONVGEMM(convgemm_conv_desc_validate(&k56_ieee.params, &k56_ieee));
  convgemm_igemm_make_plan(&k56_ieee, &h100, &split_plan);
  ck_assert_int_eq(split_plan.split, 1);
  ck_assert_int_eq(split_plan.stages, 3);
  ck_assert_uint_eq(split_plan.smem_bytes, 3 * 66560 + 192);
  ck_assert_int_eq(split_plan.producer_groups, 1);
  convgemm_igemm_make_plan(&d, &h100, &split_plan);
  ck_assert_int_eq(split_plan.split, 0);
  ck_assert_int_eq(split_plan.producer_groups, 1);
  /* Not where TMA can't load the window (W = 1023), nor on an A100 (mma.sync only). */
  struct convgemm_conv_desc ieee_w1023 = make_desc(8, 64, 512, 1023, 128, 3, 3);
  ieee_w1023.params.math_mode = CONVGEMM_MATH_IEEE;
  CK_CONVGEMM(convgemm_conv_desc_validate(&ieee_w1023.params, &ieee_w1023));
  CK_CONVGEMM_STATUS(
      convgemm_algorithm_supports(&ieee_w1023, &h100, CONVGEMM_ALGO_IMPLICIT_GEMM),
      CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "IEEE"));
  const convgemm_device_info_t a100_info = fake_device_a100();
  CK_CONVGEMM_STATUS(convgemm_algorithm_supports(&ieee, &a100_info, CONVGEMM_ALGO_IMPLICIT_GEMM),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "IEEE"));
  /* KernelBench 62 (5x9) in IEEE math: 9 taps x 2 x 4 KB of filter a stage; 3 stages exceed the
   * H100: refused for shared memory. */
  struct convgemm_conv_desc k62 = make_desc(8, 32, 512, 512, 64, 5, 9);
  k62.params.math_mode = CONVGEMM_MATH_IEEE;
  CK_CONVGEMM(convgemm_conv_desc_validate(&k62.params, &k62));
  CK_CONVGEMM_STATUS(convgemm_algorithm_supports(&k62, &h100, CONVGEMM_ALGO_IMPLICIT_GEMM),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "shared-memory"));
  /* Depthwise (C/G == 1: fp32 operands in DEFAULT math too) can't fill a TMA window of 8
   * channels. */
  struct convgemm_conv_desc dw = make_desc(8, 64, 64, 64, 64, 3, 3);
  dw.params.groups = 64;
  CK_CONVGEMM(convgemm_conv_desc_validate(&dw.params, &dw));
  CK_CONVGEMM_STATUS(convgemm_algorithm_supports(&dw, &h100, CONVGEMM_ALGO_IMPLICIT_GEMM),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "C/G == 1"));
  /* MMA_SYNC (sm_80, or sm_90 with no_wgmma): two stages of (R*S taps x 8 channels x 136 floats
   * + 8 window planes of 424 floats): 5x3 needs 157696 bytes and fits the H100's 232448; 5x5
   * needs 244736 and does not. */
  convgemm_device_info_t mma_only = h100;
  mma_only.no_wgmma = 1;
  const struct convgemm_conv_desc f53 = make_desc(1, 16, 64, 64, 64, 5, 3);
  CK_CONVGEMM(convgemm_algorithm_supports(&f53, &mma_only, CONVGEMM_ALGO_IMPLICIT_GEMM));
  convgemm_igemm_plan_t plan;
  convgemm_igemm_make_plan(&f53, &mma_only, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_MMA_SYNC);
  ck_assert_uint_eq(plan.smem_bytes, 157696);
  ck_assert_int_eq(plan.blocks, plan.tiles);
  const struct convgemm_conv_desc f55 = make_desc(1, 16, 64, 64, 64, 5, 5);
  convgemm_igemm_make_plan(&f55, &mma_only, &plan);
  ck_assert_uint_eq(plan.smem_bytes, 244736);
  CK_CONVGEMM_STATUS(convgemm_algorithm_supports(&f55, &mma_only, CONVGEMM_ALGO_IMPLICIT_GEMM),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "shared-memory"));
  /* WGMMA on the H100: problem 55 takes 4 stages of (9 taps x 1024 floats + its window: the TMA
   * box of 8 channels x 6 rows x 68 floats, larger than 2 planes of 400 16-byte pixels) + 192
   * bytes of barriers = 199872 bytes, one persistent block per SM. 5x3 would need 3 stages of
   * 78336 bytes (235008 > 232448) with all 5 filter rows, so its stages hold one filter row
   * each (3 taps x 4096 bytes + 8 channels of a 4 x 66 -> 264-pixel plane: 20736 bytes, W 64
   * holding no TMA box; 8 stages, the most); so do 5x5 and KernelBench 56 (5x7), which fit 7
   * and 6 stages of 29184 and 37888 bytes. */
  convgemm_device_info_t h100_tf32 = h100; /* TF32 wgmmas: fp16 products are their own test */
  h100_tf32.no_f16_products = 1;
  convgemm_igemm_make_plan(&d, &h100_tf32, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.f16_products, 0);
  ck_assert_int_eq(plan.stages, 4);
  ck_assert_int_eq(plan.x_plane_ld, 400);
  ck_assert_int_eq(plan.tma, 1);
  ck_assert_int_eq(plan.tma_box_w, 68);
  ck_assert_int_eq(plan.x_stage_floats, 3264);
  ck_assert_uint_eq(plan.smem_bytes, 199872);
  ck_assert_int_eq(plan.blocks, 132);
  ck_assert_int_eq(plan.tiles, 8 * 128 * 16);
  ck_assert_int_eq(plan.stage_rows, 3);
  convgemm_igemm_make_plan(&f53, &h100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.stage_rows, 1);
  ck_assert_int_eq(plan.stages, 8);
  ck_assert_uint_eq(plan.smem_bytes, 8 * 20736 + 192);
  ck_assert_int_eq(plan.halo_h, 4);
  const struct convgemm_conv_desc f33 = make_desc(1, 16, 64, 64, 64, 3, 3);
  convgemm_igemm_make_plan(&f33, &h100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.stages, 4);
  convgemm_igemm_make_plan(&f55, &h100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.stage_rows, 1);
  ck_assert_int_eq(plan.stages, 7);
  CK_CONVGEMM(convgemm_algorithm_supports(&f55, &h100, CONVGEMM_ALGO_IMPLICIT_GEMM));
  const struct convgemm_conv_desc k56 = make_desc(8, 64, 512, 256, 128, 5, 7);
  convgemm_igemm_make_plan(&k56, &h100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.stage_rows, 1);
  ck_assert_int_eq(plan.stages, 6);
  ck_assert_uint_eq(plan.smem_bytes, 6 * 37888 + 192);
  ck_assert_int_eq(plan.tma, 1);
  /* One filter row per stage takes any R and S up to 16 (3 stages of 16 taps x 4 KB + the
   * window fit the H100's 227 KB; 17 don't, and MMA_SYNC can't hold 11 x 17 taps either).
   * K/G 96: above 64, tap pairs would halve the taps. */
  const struct convgemm_conv_desc r11s16 = make_desc(1, 16, 64, 256, 96, 11, 16);
  convgemm_igemm_make_plan(&r11s16, &h100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.stage_rows, 1);
  ck_assert_int_eq(plan.stages, 3);
  const struct convgemm_conv_desc r11s17 = make_desc(1, 16, 64, 256, 96, 11, 17);
  CK_CONVGEMM_STATUS(convgemm_algorithm_supports(&r11s17, &h100, CONVGEMM_ALGO_IMPLICIT_GEMM),
                     CONVGEMM_STATUS_NOT_SUPPORTED);
  /* Stride or dilation along W: MMA_SYNC; an A100 never takes WGMMA. */
  struct convgemm_conv_desc strided = make_desc(8, 64, 64, 64, 64, 3, 3);
  strided.params.stride_w = 2;
  CK_CONVGEMM(convgemm_conv_desc_validate(&strided.params, &strided));
  convgemm_igemm_make_plan(&strided, &h100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_MMA_SYNC);
  const convgemm_device_info_t a100 = fake_device_a100();
  convgemm_igemm_make_plan(&d, &a100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_MMA_SYNC);
  /* The public query says the same through a handle. */
  struct convgemm_handle fake = fake_device_handle(h100);
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &d.params));
  CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_DIRECT));
  CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_AUTO));
  CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_IM2COL_GEMM));
  CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_IMPLICIT_GEMM));
  /* Its workspace (fp16 products): the fp16 filter, 4 chunks x 9 taps x 16 x 128 values; the
   * info ints and one list int per tile (16384), rounded up to 256 bytes; the packed TF32 filter
   * of the recomputation, 8 chunks x 9 taps x 8 x 128 floats (TF32 wgmmas: that filter alone). */
  size_t igemm_min = 0, igemm_pref = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, &igemm_min,
                                          &igemm_pref));
  ck_assert_uint_eq(igemm_min, 4 * 9 * 16 * 128 * 2 + (4 + 16384) * 4 + 240 + 64 * 9 * 128 * 4);
  struct convgemm_handle fake_tf32 = fake_device_handle(h100_tf32);
  size_t tf32_min = 0, tf32_pref = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(&fake_tf32, desc, CONVGEMM_ALGO_IMPLICIT_GEMM,
                                          &tf32_min, &tf32_pref));
  ck_assert_uint_eq(tf32_min, 8 * 9 * 8 * 128 * 4);
  ck_assert_uint_eq(igemm_pref, igemm_min);
  size_t min_bytes = 0, pref_bytes = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_IM2COL_GEMM, &min_bytes,
                                          &pref_bytes));
  ck_assert_uint_gt(min_bytes, 0);
  ck_assert_uint_ge(pref_bytes, min_bytes);
  convgemm_algo_t algo = CONVGEMM_ALGO_AUTO;
  CK_CONVGEMM(convgemm_get_algorithm(&fake, desc, &algo));
  ck_assert_int_eq(algo, CONVGEMM_ALGO_IMPLICIT_GEMM);
  /* AUTO's workspace is IMPLICIT_GEMM's. */
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_AUTO, &min_bytes,
                                          &pref_bytes));
  ck_assert_uint_eq(min_bytes, igemm_min);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

START_TEST(test_direct_needs_no_workspace) {
  const convgemm_device_info_t h100 = fake_device_h100();
  const struct convgemm_conv_desc d = make_desc(8, 64, 512, 1024, 128, 3, 3);
  size_t min_bytes = 123, pref_bytes = 456;
  CK_CONVGEMM(convgemm_workspace_bytes(&d, &h100, CONVGEMM_ALGO_DIRECT, &min_bytes, &pref_bytes));
  ck_assert_uint_eq(min_bytes, 0);
  ck_assert_uint_eq(pref_bytes, 0);
  struct convgemm_handle fake = fake_device_handle(h100);
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &d.params));
  min_bytes = 123;
  pref_bytes = 456;
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_DIRECT, &min_bytes,
                                          &pref_bytes));
  ck_assert_uint_eq(min_bytes, 0);
  ck_assert_uint_eq(pref_bytes, 0);
  convgemm_conv_desc_destroy(desc);
  /* AUTO on a descriptor it runs with DIRECT (depthwise) needs none either. */
  convgemm_conv2d_params_t dw = d.params;
  dw.k = dw.c;
  dw.groups = dw.c;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &dw));
  min_bytes = 123;
  pref_bytes = 456;
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_AUTO, &min_bytes,
                                          &pref_bytes));
  ck_assert_uint_eq(min_bytes, 0);
  ck_assert_uint_eq(pref_bytes, 0);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

/* The carry epilogue (plan->carry): store-bound TF32 tiles whose rows are off 32-byte sector
 * boundaries. KernelBench 63 (C 16, 3x3, Q 1022: 18 k steps) takes it: a run is a row's 16 q
 * tiles and 4 x 128 x 8 floats of carry follow the 4 stages. Problem 55 (72 k steps), C/G 40
 * (45), K 64, IEEE math (3xTF32), 16-bit data, Q a multiple of 8 and K/G over 128 (k_tiles 2)
 * don't. */
START_TEST(test_carry_rule) {
  const convgemm_device_info_t h100 = fake_device_h100();
  convgemm_igemm_plan_t plan;
  const struct convgemm_conv_desc k63 = make_desc(16, 16, 1024, 1024, 128, 3, 3);
  convgemm_igemm_make_plan(&k63, &h100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.carry, 1);
  ck_assert_int_eq(plan.run_tiles, 16);
  ck_assert_int_eq(plan.q_tiles, 16);
  ck_assert_int_eq(plan.stages, 4);
  ck_assert_uint_eq(plan.smem_bytes, 199872 + 4 * 128 * 8 * 4);
  ck_assert_uint_le(plan.smem_bytes, (size_t)h100.max_smem_per_block);
  const struct convgemm_conv_desc c32 = make_desc(8, 32, 1024, 1024, 128, 3, 3);
  convgemm_igemm_make_plan(&c32, &h100, &plan);
  ck_assert_int_eq(plan.carry, 1);
  const struct convgemm_conv_desc k96 = make_desc(8, 16, 1024, 1024, 96, 3, 3);
  convgemm_igemm_make_plan(&k96, &h100, &plan);
  ck_assert_int_eq(plan.carry, 1);
  const struct convgemm_conv_desc no_carry[] = {
      make_desc(8, 64, 512, 1024, 128, 3, 3),  /* problem 55 */
      make_desc(8, 40, 1024, 1024, 128, 3, 3), /* 45 k steps */
      make_desc(8, 16, 1024, 1024, 64, 3, 3),  /* K/G 64 */
      make_desc(8, 16, 1024, 1026, 128, 3, 3), /* Q 1024 */
      make_desc(8, 16, 1024, 1024, 256, 3, 3), /* k_tiles 2 */
      make_desc(8, 16, 1024, 66, 128, 3, 3),   /* Q 64: one q tile */
  };
  for (size_t i = 0; i < sizeof no_carry / sizeof no_carry[0]; ++i) {
    convgemm_igemm_make_plan(&no_carry[i], &h100, &plan);
    ck_assert_msg(plan.carry == 0 && plan.run_tiles == 1, "shape %zu", i);
  }
  convgemm_conv2d_params_t ieee = k63.params;
  ieee.math_mode = CONVGEMM_MATH_IEEE;
  const struct convgemm_conv_desc k63_ieee = revalidate(ieee);
  convgemm_igemm_make_plan(&k63_ieee, &h100, &plan);
  ck_assert_int_eq(plan.split, 1);
  ck_assert_int_eq(plan.carry, 0);
  convgemm_conv2d_params_t bf16 = k63.params;
  bf16.data_type = CONVGEMM_DATA_BFLOAT16;
  const struct convgemm_conv_desc k63_bf16 = revalidate(bf16);
  convgemm_igemm_make_plan(&k63_bf16, &h100, &plan);
  ck_assert_int_eq(plan.carry, 0);
  /* Nor the cp.async kernel (x off 16 bytes), nor an A100 (mma.sync). */
  convgemm_igemm_make_plan_for_x(&k63, &h100, 0, &plan);
  ck_assert_int_eq(plan.carry, 0);
  ck_assert_int_eq(plan.run_tiles, 1);
  const convgemm_device_info_t a100 = fake_device_a100();
  convgemm_igemm_make_plan(&k63, &a100, &plan);
  ck_assert_int_eq(plan.carry, 0);
  ck_assert_int_eq(plan.run_tiles, 1);
}
END_TEST

/* Tap pairs (plan->tap_pairs) where K/G <= 64 fills only half of a tile's 128 channels:
 * KernelBench 62 (5x9, K 64) packs 5 taps per filter row (4 pairs and the last tap alone), tiles
 * step 60 columns (Q 504: 9 q tiles), one filter row per stage of 5 x 1024 floats + the window.
 * 80 (dilation_w 3) too; not K/G 65, S 1, dilation_w 5, IEEE math or 16-bit data. */
static convgemm_igemm_plan_t igemm_plan_of(convgemm_conv2d_params_t p,
                                           const convgemm_device_info_t* info) {
  const struct convgemm_conv_desc d = revalidate(p);
  convgemm_igemm_plan_t plan;
  convgemm_igemm_make_plan(&d, info, &plan);
  return plan;
}

START_TEST(test_tap_pairs_rule) {
  const convgemm_device_info_t h100 = fake_device_h100();
  convgemm_igemm_plan_t plan;
  const struct convgemm_conv_desc k62 = make_desc(8, 32, 512, 512, 64, 5, 9);
  convgemm_igemm_make_plan(&k62, &h100, &plan);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.tap_pairs, 1);
  ck_assert_int_eq(plan.s_taps, 5);
  ck_assert_int_eq(plan.tile_q_step, 60);
  ck_assert_int_eq(plan.q_tiles, 9);
  ck_assert_int_eq(plan.stage_rows, 1);
  ck_assert_int_eq(plan.w_stage_floats, 5 * 1024);
  ck_assert_uint_eq(plan.packed_floats, 4 * 5 * 5 * 1024);
  ck_assert_int_eq(plan.carry, 0);
  /* With x off 16 bytes (the cp.async kernel): no pairs, in the same workspace, which has room
   * for all 45 taps. */
  const size_t pairs_workspace = plan.workspace_bytes;
  ck_assert_uint_eq(pairs_workspace, 4 * 5 * 9 * 1024 * 4);
  convgemm_igemm_make_plan_for_x(&k62, &h100, 0, &plan);
  ck_assert_int_eq(plan.tap_pairs, 0);
  ck_assert_int_eq(plan.s_taps, 9);
  ck_assert_int_eq(plan.tile_q_step, 64);
  ck_assert_uint_eq(plan.workspace_bytes, pairs_workspace);
  convgemm_conv2d_params_t p80 = k62.params;
  p80.pad_h = 2;
  p80.pad_w = 4;
  p80.dilation_h = 2;
  p80.dilation_w = 3;
  const struct convgemm_conv_desc k80 = revalidate(p80);
  convgemm_igemm_make_plan(&k80, &h100, &plan);
  ck_assert_int_eq(plan.tap_pairs, 1);
  ck_assert_int_eq(plan.q_tiles, (k80.q + 59) / 60);
  convgemm_conv2d_params_t p = k62.params;
  p.k = 65;
  plan = igemm_plan_of(p, &h100);
  ck_assert_int_eq(plan.tap_pairs, 0);
  ck_assert_int_eq(plan.tile_q_step, 64);
  ck_assert_int_eq(plan.s_taps, 9);
  p = k62.params;
  p.s = 1;
  ck_assert_int_eq(igemm_plan_of(p, &h100).tap_pairs, 0);
  p = k80.params;
  p.dilation_w = 5;
  ck_assert_int_eq(igemm_plan_of(p, &h100).tap_pairs, 0);
  p = k62.params;
  p.math_mode = CONVGEMM_MATH_IEEE;
  ck_assert_int_eq(igemm_plan_of(p, &h100).tap_pairs, 0);
  p = k62.params;
  p.data_type = CONVGEMM_DATA_BFLOAT16;
  ck_assert_int_eq(igemm_plan_of(p, &h100).tap_pairs, 0);
}
END_TEST

/* WGMMA's 16-bit TMA kernel keeps the whole filter in shared memory where it fits with one group
 * and one k tile (plan->resident_filter): problem 55 in bfloat16 takes 4 C16 chunks x 9 taps of
 * 4 KB (144 KB) and the epilogue's own 18 KB. With its 36 k steps per tile the warpgroups take
 * tiles of their own (plan->ping_pong): 2-row tiles, 7 window stages of 9 KB; without ping-pong
 * 4-row tiles and 4 stages of 13.5 KB. */
START_TEST(test_resident_filter_rule) {
  const convgemm_device_info_t h100 = fake_device_h100();
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
  p.data_type = CONVGEMM_DATA_BFLOAT16;
  convgemm_igemm_plan_t plan = igemm_plan_of(p, &h100);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.tma, 1);
  ck_assert_int_eq(plan.resident_filter, 1);
  ck_assert_int_eq(plan.ping_pong, 1);
  ck_assert_int_eq(plan.tile_p, CONVGEMM_IGEMM_WG_TILE_P_PING_PONG);
  ck_assert_int_eq(plan.halo_h, 4);
  ck_assert_int_eq(plan.p_tiles, 255);
  ck_assert_int_eq(plan.tiles, 8 * 255 * 16);
  ck_assert_int_eq(plan.blocks, h100.sm_count);
  ck_assert_int_eq(plan.w_stage_floats, 0);
  ck_assert_int_eq(plan.x_stage_floats, 8 * 4 * 72);
  ck_assert_int_eq(plan.stages, 7);
  ck_assert_uint_eq(plan.smem_bytes, 7 * 8 * 4 * 72 * 4 + CONVGEMM_IGEMM_WG_BARRIER_BYTES +
                                         CONVGEMM_IGEMM_WG_PING_PONG_BARRIER_BYTES +
                                         CONVGEMM_IGEMM_WG_STAGING16_BYTES + 4 * 9 * 4096);
  ck_assert_uint_le(plan.smem_bytes, (size_t)h100.max_smem_per_block);
  ck_assert_uint_eq(plan.packed_floats, 4 * 9 * 1024);
  convgemm_device_info_t h100_shared = h100;
  h100_shared.no_ping_pong = 1;
  plan = igemm_plan_of(p, &h100_shared);
  ck_assert_int_eq(plan.resident_filter, 1);
  ck_assert_int_eq(plan.ping_pong, 0);
  ck_assert_int_eq(plan.tile_p, CONVGEMM_IGEMM_WG_TILE_P);
  ck_assert_int_eq(plan.x_stage_floats, 8 * 6 * 72);
  ck_assert_int_eq(plan.stages, 4);
  ck_assert_uint_eq(plan.smem_bytes, 4 * 8 * 6 * 72 * 4 + CONVGEMM_IGEMM_WG_BARRIER_BYTES +
                                         CONVGEMM_IGEMM_WG_STAGING16_BYTES + 4 * 9 * 4096);
  /* Ping-pong needs PING_PONG_MIN_KSTEPS k steps per tile: C/G 32 at 3x3 has 18, C/G 16 (63)
   * has 9 and keeps shared tiles. */
  convgemm_conv2d_params_t few = p;
  few.c = 32;
  ck_assert_int_eq(igemm_plan_of(few, &h100).ping_pong, 1);
  few.c = 16;
  plan = igemm_plan_of(few, &h100);
  ck_assert_int_eq(plan.resident_filter, 1);
  ck_assert_int_eq(plan.ping_pong, 0);
  ck_assert_int_eq(plan.tile_p, CONVGEMM_IGEMM_WG_TILE_P);
  /* Stages stay below WG_MAX_STAGES (the last `full` barrier counts the filter): 1x1. */
  convgemm_conv2d_params_t pw = p;
  pw.r = pw.s = 1;
  plan = igemm_plan_of(pw, &h100);
  ck_assert_int_eq(plan.resident_filter, 1);
  ck_assert_int_eq(plan.stages, CONVGEMM_IGEMM_WG_MAX_STAGES - 1);
  ck_assert_int_eq(plan.ping_pong, 0); /* 4 k steps */
  /* float16 too; not float32, groups, two k tiles, one filter row per stage, or an x off 16
   * bytes (no TMA). */
  convgemm_conv2d_params_t q = p;
  q.data_type = CONVGEMM_DATA_FLOAT16;
  ck_assert_int_eq(igemm_plan_of(q, &h100).resident_filter, 1);
  q = p;
  q.data_type = CONVGEMM_DATA_FLOAT32; /* only with fp16 products (test_f16_products_rule) */
  convgemm_device_info_t h100_tf32 = h100;
  h100_tf32.no_f16_products = 1;
  ck_assert_int_eq(igemm_plan_of(q, &h100_tf32).resident_filter, 0);
  q = p;
  q.groups = 2;
  ck_assert_int_eq(igemm_plan_of(q, &h100).resident_filter, 0);
  q = p;
  q.k = 136;
  plan = igemm_plan_of(q, &h100);
  ck_assert_int_eq(plan.k_tiles, 2);
  ck_assert_int_eq(plan.resident_filter, 0);
  ck_assert_int_ne(plan.w_stage_floats, 0);
  q = p;
  q.r = q.s = 7; /* 7x7: a chunk's 49 taps don't fit a stage: one filter row per stage */
  plan = igemm_plan_of(q, &h100);
  ck_assert_int_eq(plan.resident_filter, 0);
  q = p;
  q.c = 256; /* 576 KB of filter */
  ck_assert_int_eq(igemm_plan_of(q, &h100).resident_filter, 0);
  const struct convgemm_conv_desc d = revalidate(p);
  convgemm_igemm_make_plan_for_x(&d, &h100, 0, &plan);
  ck_assert_int_eq(plan.resident_filter, 0);
  ck_assert_int_eq(plan.ping_pong, 0);
}
END_TEST

/* WGMMA's TMA kernel computes TF32 operands' products on fp16 tensor cores where the fp16 filter
 * stays resident beside 3 or more stages of a 16-channel fp32 box (plan->f16_products): problem
 * 55 takes 4 C16 chunks x 9 taps of 4 KB (144 KB) and 3 stages of 16 x 6 x 68 floats (26112
 * bytes; 4 would need 252160). Its workspace: the fp16 filter, the info ints and one list int
 * per tile, then the packed TF32 filter of the recomputation (the TF32 plan's). */
START_TEST(test_f16_products_rule) {
  const convgemm_device_info_t h100 = fake_device_h100();
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
  convgemm_igemm_plan_t plan = igemm_plan_of(p, &h100);
  ck_assert_int_eq(plan.variant, CONVGEMM_IGEMM_WGMMA);
  ck_assert_int_eq(plan.tma, 1);
  ck_assert_int_eq(plan.f16_products, 1);
  ck_assert_int_eq(plan.resident_filter, 1);
  ck_assert_int_eq(plan.split, 0);
  ck_assert_int_eq(plan.c_chunks, 4);
  ck_assert_int_eq(plan.w_stage_floats, 0);
  ck_assert_int_eq(plan.x_stage_floats, 16 * 6 * 68);
  ck_assert_int_eq(plan.stages, 3);
  ck_assert_uint_eq(plan.smem_bytes, 3 * 16 * 6 * 68 * 4 + CONVGEMM_IGEMM_WG_BARRIER_BYTES +
                                         CONVGEMM_IGEMM_WG_TILE_INFO_BYTES + 4 * 9 * 4096);
  ck_assert_uint_le(plan.smem_bytes, (size_t)h100.max_smem_per_block);
  ck_assert_uint_eq(plan.packed_floats, 4 * 9 * 1024);
  ck_assert_uint_eq(plan.f16_info_offset, 4 * 9 * 4096);
  ck_assert_uint_ge(plan.f16_w_offset,
                    plan.f16_info_offset + 4 * (CONVGEMM_IGEMM_F16_INFO_INTS + plan.tiles));
  ck_assert_uint_eq(plan.f16_w_offset % 256, 0);
  /* The recomputation's TF32 tiling: the plan test_algorithm_support checks with TF32 wgmmas. */
  ck_assert_int_eq(plan.f16_fallback.stages, 4);
  ck_assert_int_eq(plan.f16_fallback.x_stage_floats, 3264);
  ck_assert_int_eq(plan.f16_fallback.w_stage_floats, 9 * 1024);
  ck_assert_uint_eq(plan.f16_fallback.smem_bytes, 199872);
  ck_assert_int_eq(plan.f16_fallback.c_chunks, 8);
  ck_assert_uint_eq(plan.f16_fallback.packed_floats, 8 * 9 * 1024);
  ck_assert_uint_eq(plan.workspace_bytes, plan.f16_w_offset + 8 * 9 * 1024 * 4);
  ck_assert_int_eq(plan.tiles, 8 * 128 * 16);
  /* An x off 16 bytes takes the cp.async TF32 plan, in no more workspace. */
  const struct convgemm_conv_desc d = revalidate(p);
  convgemm_igemm_plan_t off;
  convgemm_igemm_make_plan_for_x(&d, &h100, 0, &off);
  ck_assert_int_eq(off.f16_products, 0);
  ck_assert_uint_le(off.workspace_bytes, plan.workspace_bytes);
  /* Not: the test hook, IEEE math (3xTF32), 16-bit data, groups, two k tiles, C/G < 16 (the
   * box's 16 channels), tap pairs (K/G <= 64), one filter row per stage (7x7), a filter too
   * large to stay resident, or a device without wgmma. */
  convgemm_device_info_t no_f16 = h100;
  no_f16.no_f16_products = 1;
  ck_assert_int_eq(igemm_plan_of(p, &no_f16).f16_products, 0);
  convgemm_conv2d_params_t q = p;
  q.math_mode = CONVGEMM_MATH_IEEE;
  ck_assert_int_eq(igemm_plan_of(q, &h100).f16_products, 0);
  q = p;
  q.data_type = CONVGEMM_DATA_BFLOAT16;
  ck_assert_int_eq(igemm_plan_of(q, &h100).f16_products, 0);
  q = p;
  q.groups = 2;
  ck_assert_int_eq(igemm_plan_of(q, &h100).f16_products, 0);
  q = p;
  q.k = 136;
  ck_assert_int_eq(igemm_plan_of(q, &h100).f16_products, 0);
  q = p;
  q.c = 8;
  ck_assert_int_eq(igemm_plan_of(q, &h100).f16_products, 0);
  q = p;
  q.k = 64;
  plan = igemm_plan_of(q, &h100);
  ck_assert_int_eq(plan.tap_pairs, 1);
  ck_assert_int_eq(plan.f16_products, 0);
  q = p;
  q.r = q.s = 7;
  ck_assert_int_eq(igemm_plan_of(q, &h100).f16_products, 0);
  q = p;
  q.c = 256; /* 576 KB of fp16 filter */
  ck_assert_int_eq(igemm_plan_of(q, &h100).f16_products, 0);
  convgemm_device_info_t mma_only = h100;
  mma_only.no_wgmma = 1;
  ck_assert_int_eq(igemm_plan_of(p, &mma_only).f16_products, 0);
  /* gpu_direct_large_test's output past 2^31 elements with C 16 takes it (pad 1, Q 4112). */
  convgemm_conv2d_params_t big;
  convgemm_conv2d_params_init(&big, 1, 16, 4112, 4112, 128, 3, 3);
  big.pad_h = big.pad_w = 1;
  ck_assert_int_eq(igemm_plan_of(big, &h100).f16_products, 1);
  /* C/G 16 and 1x1 take it too (one chunk; the 1x1 window has 64 columns). */
  q = p;
  q.c = 16;
  q.r = q.s = 1;
  plan = igemm_plan_of(q, &h100);
  ck_assert_int_eq(plan.f16_products, 1);
  ck_assert_int_eq(plan.c_chunks, 1);
}
END_TEST

static Suite* plan_suite(void) {
  Suite* s = suite_create("cpu_plan");
  TCase* plan = tcase_create("direct_plan");
  tcase_add_test(plan, test_tile_shapes);
  tcase_add_test(plan, test_tile_kind_follows_k_per_group);
  tcase_add_test(plan, test_problem_55_plan);
  tcase_add_test(plan, test_depthwise_plan);
  tcase_add_test(plan, test_channel_chunk_halves_to_fit_the_budget);
  tcase_add_test(plan, test_one_channel_over_budget_but_within_device_stays_tiled);
  tcase_add_test(plan, test_huge_dilation_falls_back_to_generic);
  tcase_add_test(plan, test_gpu_suite_fallback_cases_are_generic);
  tcase_add_test(plan, test_tile_counts_with_groups_and_partial_tiles);
  tcase_add_test(plan, test_plan_invariants_over_many_shapes);
  tcase_add_test(plan, test_alexnet_stem_plan);
  tcase_add_test(plan, test_row_strip_selection_rule);
  tcase_add_test(plan, test_row_strip_plan_invariants_over_many_shapes);
  tcase_add_test(plan, test_carry_rule);
  tcase_add_test(plan, test_tap_pairs_rule);
  tcase_add_test(plan, test_resident_filter_rule);
  tcase_add_test(plan, test_f16_products_rule);
  suite_add_tcase(s, plan);

  TCase* algo = tcase_create("algorithm");
  tcase_add_test(algo, test_auto_rule);
  tcase_add_test(algo, test_auto_rule_16bit);
  tcase_add_test(algo, test_algorithm_support);
  tcase_add_test(algo, test_direct_needs_no_workspace);
  suite_add_tcase(s, algo);
  return s;
}

int main(void) { return check_main_run(plan_suite(), CK_FORK); }
