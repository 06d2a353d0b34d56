/*
 * Seeded fuzzing of every entry point that runs without a GPU, with hostile values
 * (tests/fuzz_params.h) checked against an independent model (tests/fuzz_model.h):
 *   - every call returns, with a status that is one of the enum's values;
 *   - a descriptor is created exactly when the model calls the parameters valid; otherwise the
 *     status is one of those the model says apply, *desc is NULL and a fresh message is left;
 *   - a valid descriptor's derived sizes, its parameters and the output-shape query agree with
 *     the model (P, Q by convgemm.h's formula; element counts without overflow);
 *   - on recorded and on randomised device facts: AUTO's choice supports the descriptor and the
 *     public queries say the same; IM2COL_GEMM is supported exactly within its documented limits;
 *     DIRECT's plan stays within the device's shared memory and matches its layout, or falls
 *     back to GENERIC only when even one channel does not fit; IM2COL_GEMM's plans fit the
 *     workspace they are given, cover every pixel and image, keep every region aligned, and
 *     the minimum and preferred sizes give the minimum and preferred plans;
 *   - NULL pointers anywhere give NULL_POINTER (or the check that comes first), never a crash;
 *     convgemm_forward's argument checks fail before any CUDA call;
 *   - convgemm_status_string(any int) is a name, and a distinct one for each status.
 * Non-NULL garbage handles and descriptors are not tried: no C API can detect them.
 *
 * Seed: $CONVGEMM_TEST_SEED (decimal; default below), printed at start and in every failure.
 * Cases per suite: $CONVGEMM_FUZZ_CASES (default 1000000 for the descriptors, a fifth of that
 * for the handle queries). Deterministic for a given seed and count.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conv/convgemm.h"
#include "conv/direct_conv2d_plan.h"
#include "conv/im2col_gemm_plan.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/fake_device.h"
#include "tests/fuzz_model.h"
#include "tests/fuzz_params.h"
#include "tests/test_random.h"

enum { kDefaultCases = 1000000 };
static const uint64_t kDefaultSeed = 20261127;

static uint64_t g_seed;
static int64_t g_cases;

/* Check's ck_assert records every passing assertion (a write per check): too slow for millions
 * of cases, so the fuzzer asserts with its own macro that costs nothing until it fails. Every
 * failure names the seed, the case and its parameters. */
#define FUZZ_EXPECT(ctx, cond, ...)                                                          \
  do {                                                                                       \
    if (!(cond)) fuzz_fail((ctx), __LINE__, #cond, __VA_ARGS__);                             \
  } while (0)

typedef struct fuzz_ctx {
  const char* suite;
  int64_t index;
  const convgemm_conv2d_params_t* params; /* may be NULL */
} fuzz_ctx_t;

static void describe(const convgemm_conv2d_params_t* p, char* out, size_t size) {
  if (p == NULL) {
    snprintf(out, size, "-");
    return;
  }
  snprintf(out, size,
           "n %" PRId64 " c %" PRId64 " h %" PRId64 " w %" PRId64 " k %" PRId64 " r %" PRId64
           " s %" PRId64 " pad %" PRId64 ",%" PRId64 " stride %" PRId64 ",%" PRId64
           " dilation %" PRId64 ",%" PRId64 " groups %" PRId64 " bias %d type %d math %d",
           p->n, p->c, p->h, p->w, p->k, p->r, p->s, p->pad_h, p->pad_w, p->stride_h, p->stride_w,
           p->dilation_h, p->dilation_w, p->groups, p->has_bias, (int)p->data_type,
           (int)p->math_mode);
}

static void fuzz_fail(const fuzz_ctx_t* ctx, int line, const char* cond, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fuzz_fail(const fuzz_ctx_t* ctx, int line, const char* cond, const char* fmt, ...) {
  char what[512], params[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(what, sizeof what, fmt, args);
  va_end(args);
  describe(ctx->params, params, sizeof params);
  ck_abort_msg("line %d: %s failed: %s [%s case %" PRId64 ", CONVGEMM_TEST_SEED=%" PRIu64
               ", params: %s; last error: %s]",
               line, cond, what, ctx->suite, ctx->index, g_seed, params,
               convgemm_get_last_error());
}

static int status_is_valid(convgemm_status_t s) {
  return (int)s >= (int)CONVGEMM_STATUS_SUCCESS && (int)s <= (int)CONVGEMM_STATUS_INTERNAL_ERROR;
}

static const char* name(convgemm_status_t s) { return convgemm_status_string(s); }

/* Leaves a known message as the last error, so a failure that writes none is caught. */
static const char kSentinel[] = "params is NULL";
static void set_sentinel_message(void) { convgemm_conv2d_params_init(NULL, 1, 1, 1, 1, 1, 1, 1); }

/* ---- device facts ----------------------------------------------------------------------- */

/* H100, A100, or a random device: any shared-memory limit from 0 to 256 KB (tiny ones force
 * GENERIC), any L2 from 0 to 256 MB, 1 to 256 SMs. */
static convgemm_device_info_t pick_device(test_rng_t* rng) {
  switch (test_rng_next(rng) % 4) {
    case 0: return fake_device_h100();
    case 1: return fake_device_a100();
    default: {
      convgemm_device_info_t info = fake_device_h100();
      info.cc_major = (int)test_rng_int(rng, 8, 12);
      info.cc_minor = (int)test_rng_int(rng, 0, 9);
      info.sm_count = (int)test_rng_int(rng, 1, 256);
      info.max_smem_per_block = (int)test_rng_int(rng, 0, 256 * 1024);
      info.l2_bytes = (int)test_rng_int(rng, 0, 256 << 20);
      return info;
    }
  }
}

/* ---- DIRECT's plan ---------------------------------------------------------------------- */

/* ROW_STRIP's plan, when its rule holds: taken exactly when one channel fits the budget (its
 * window pitch is within 31 floats of stride_w * x_phase_ld, so between the two bounds either
 * choice is allowed), and then with sizes that follow its layout. Returns whether the plan is
 * ROW_STRIP (checked here); otherwise the caller checks it as the other kinds. */
static int check_row_strip_plan(const fuzz_ctx_t* ctx, const struct convgemm_conv_desc* d,
                                const fuzz_model_t* m, int max_smem,
                                const convgemm_direct_plan_t* plan) {
  const convgemm_conv2d_params_t* p = &d->params;
  if (!fuzz_model_row_strip_suits(p, m)) {
    FUZZ_EXPECT(ctx, plan->tile != CONVGEMM_DIRECT_ROW_STRIP,
                "ROW_STRIP although its rule does not hold (C/G %" PRId64 ", K/G %" PRId64 ")",
                m->c_per_group, m->k_per_group);
    return 0;
  }
  const int64_t budget = max_smem < CONVGEMM_DIRECT_SMEM_BUDGET ? max_smem
                                                                : CONVGEMM_DIRECT_SMEM_BUDGET;
  const int64_t row_groups = fuzz_model_row_strip_row_groups(m);
  const fuzz_wide_t halo_h = fuzz_model_row_strip_halo_h(p, m);
  const fuzz_wide_t halo_w =
      fuzz_model_direct_halo(5 * row_groups, p->stride_w, p->s, p->dilation_w);
  const fuzz_wide_t phase_ld = (halo_w + p->stride_w - 1) / p->stride_w;
  const fuzz_wide_t min_ld = p->stride_w * phase_ld;
  const int fits = fuzz_model_row_strip_smem(p, halo_h, min_ld + 31, 1) <= budget;
  const int too_big = fuzz_model_row_strip_smem(p, halo_h, min_ld, 1) > budget;
  if (plan->tile != CONVGEMM_DIRECT_ROW_STRIP) {
    FUZZ_EXPECT(ctx, !fits, "not ROW_STRIP although one channel fits %" PRId64 " bytes",
                budget);
    return 0;
  }
  FUZZ_EXPECT(ctx, !too_big, "ROW_STRIP although one channel exceeds %" PRId64 " bytes", budget);
  FUZZ_EXPECT(ctx,
              plan->halo_h == halo_h && plan->halo_w == halo_w && plan->x_phase_ld == phase_ld &&
                  plan->x_row_ld >= min_ld && plan->x_row_ld < min_ld + 32,
              "ROW_STRIP window %d x %d, phase %d, pitch %d; want %lld x %lld, %lld, [%lld, +32)",
              plan->halo_h, plan->halo_w, plan->x_phase_ld, plan->x_row_ld, (long long)halo_h,
              (long long)halo_w, (long long)phase_ld, (long long)min_ld);
  int64_t chunk = m->c_per_group;
  while (chunk > 1 && fuzz_model_row_strip_smem(p, halo_h, plan->x_row_ld, chunk) > budget)
    chunk /= 2;
  const fuzz_wide_t smem = fuzz_model_row_strip_smem(p, halo_h, plan->x_row_ld, chunk);
  FUZZ_EXPECT(ctx, plan->c_chunk == chunk && (fuzz_wide_t)plan->smem_bytes == smem,
              "ROW_STRIP chunk %d, %zu bytes; want %" PRId64 ", %lld", plan->c_chunk,
              plan->smem_bytes, chunk, (long long)smem);
  const fuzz_wide_t k_tiles = (m->k_per_group + 95) / 96;
  const fuzz_wide_t p_tiles = ((fuzz_wide_t)m->p * row_groups + 31) / 32;
  const fuzz_wide_t q_tiles = (m->q + 5 * row_groups - 1) / (5 * row_groups);
  FUZZ_EXPECT(ctx,
              plan->shape.tile_q == 5 * row_groups && plan->k_tiles == k_tiles &&
                  plan->p_tiles == p_tiles && plan->q_tiles == q_tiles &&
                  plan->tiles == (fuzz_wide_t)p->n * p->groups * k_tiles * p_tiles * q_tiles,
              "ROW_STRIP tiles %" PRId64 " = %" PRId64 " x %" PRId64 " x %" PRId64, plan->tiles,
              plan->k_tiles, plan->p_tiles, plan->q_tiles);
  return 1;
}

static void check_direct_plan(const fuzz_ctx_t* ctx, const struct convgemm_conv_desc* d,
                              const fuzz_model_t* m, int max_smem) {
  const convgemm_conv2d_params_t* p = &d->params;
  convgemm_direct_plan_t plan;
  memset(&plan, 0xA5, sizeof plan); /* every field must be written */
  convgemm_direct_make_plan(d, max_smem, &plan);
  if (check_row_strip_plan(ctx, d, m, max_smem, &plan)) return;
  const convgemm_direct_tile_t tile = fuzz_model_direct_tile(m);
  const convgemm_direct_tile_shape_t shape = convgemm_direct_tile_shape(tile);
  const fuzz_wide_t halo_h =
      fuzz_model_direct_halo(shape.tile_p, p->stride_h, p->r, p->dilation_h);
  const fuzz_wide_t halo_w =
      fuzz_model_direct_halo(shape.tile_q, p->stride_w, p->s, p->dilation_w);
  const fuzz_wide_t one_channel = fuzz_model_direct_smem(p, tile, shape.w_ld, halo_h, halo_w, 1);
  if (plan.tile == CONVGEMM_DIRECT_GENERIC) {
    FUZZ_EXPECT(ctx, one_channel > max_smem,
                "GENERIC, but one channel of the %d tile needs %lld bytes of %d", (int)tile,
                (long long)(one_channel > INT64_MAX ? INT64_MAX : one_channel), max_smem);
    FUZZ_EXPECT(ctx, plan.tiles == m->y_elems && plan.smem_bytes == 0 && plan.c_chunk == 0,
                "GENERIC plan: tiles %" PRId64 " (want %" PRId64 "), smem %zu, chunk %d",
                plan.tiles, m->y_elems, plan.smem_bytes, plan.c_chunk);
    return;
  }
  FUZZ_EXPECT(ctx, plan.tile == tile, "tile %d, want %d (C/G %" PRId64 ", K/G %" PRId64 ")",
              (int)plan.tile, (int)tile, m->c_per_group, m->k_per_group);
  FUZZ_EXPECT(ctx, one_channel <= max_smem,
              "a tiled plan although one channel needs %lld bytes of %d",
              (long long)(one_channel > INT64_MAX ? INT64_MAX : one_channel), max_smem);
  FUZZ_EXPECT(ctx, memcmp(&plan.shape, &shape, sizeof shape) == 0, "shape of tile %d differs",
              (int)tile);
  FUZZ_EXPECT(ctx, plan.halo_h == halo_h && plan.halo_w == halo_w,
              "halo %d x %d, want %lld x %lld", plan.halo_h, plan.halo_w, (long long)halo_h,
              (long long)halo_w);
  /* The chunk: the first of min(C/G, 8), half of it, ... that fits min(limit, budget), or 1. */
  const int64_t budget = max_smem < CONVGEMM_DIRECT_SMEM_BUDGET ? max_smem
                                                                : CONVGEMM_DIRECT_SMEM_BUDGET;
  int64_t chunk = m->c_per_group < CONVGEMM_DIRECT_MAX_C_CHUNK ? m->c_per_group
                                                               : CONVGEMM_DIRECT_MAX_C_CHUNK;
  while (chunk > 1 &&
         fuzz_model_direct_smem(p, tile, shape.w_ld, halo_h, halo_w, chunk) > budget)
    chunk /= 2;
  const fuzz_wide_t smem = fuzz_model_direct_smem(p, tile, shape.w_ld, halo_h, halo_w, chunk);
  FUZZ_EXPECT(ctx, plan.c_chunk == chunk, "channel chunk %d, want %" PRId64, plan.c_chunk, chunk);
  FUZZ_EXPECT(ctx, (fuzz_wide_t)plan.smem_bytes == smem && plan.smem_bytes <= (size_t)max_smem,
              "%zu bytes of shared memory, want %lld (limit %d)", plan.smem_bytes,
              (long long)smem, max_smem);
  const fuzz_wide_t k_tiles = (m->k_per_group + shape.block_k - 1) / shape.block_k;
  const fuzz_wide_t p_tiles = (m->p + shape.tile_p - 1) / shape.tile_p;
  const fuzz_wide_t q_tiles = (m->q + shape.tile_q - 1) / shape.tile_q;
  const fuzz_wide_t tiles = (fuzz_wide_t)p->n * p->groups * k_tiles * p_tiles * q_tiles;
  FUZZ_EXPECT(ctx,
              plan.k_tiles == k_tiles && plan.p_tiles == p_tiles && plan.q_tiles == q_tiles &&
                  plan.tiles == tiles && tiles > 0,
              "tiles %" PRId64 " = %" PRId64 " x %" PRId64 " x %" PRId64 ", want %lld",
              plan.tiles, plan.k_tiles, plan.p_tiles, plan.q_tiles, (long long)tiles);
}

/* ---- IM2COL_GEMM's plans ---------------------------------------------------------------- */

static int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

/* Invariants of any plan; `given` is the workspace make_plan was given (0: a plan for a chosen
 * chunk, which may be below the minimum chunk). */
static void check_im2col_plan(const fuzz_ctx_t* ctx, const struct convgemm_conv_desc* d,
                              const fuzz_model_t* m, const convgemm_im2col_gemm_plan_t* plan,
                              size_t given) {
  const convgemm_conv2d_params_t* p = &d->params;
  const int64_t krg = m->c_per_group * p->r * p->s; /* fits: IM2COL_GEMM's rows are < 2^31 */
  FUZZ_EXPECT(ctx, plan->krg == krg && plan->bias_rows == m->bias_rows,
              "krg %" PRId64 " bias rows %" PRId64 ", want %" PRId64 " and %d", plan->krg,
              plan->bias_rows, krg, m->bias_rows);
  FUZZ_EXPECT(ctx, plan->krg_pad == round_up(krg + m->bias_rows, 4) &&
                       plan->rows == p->groups * plan->krg_pad,
              "krg_pad %" PRId64 " rows %" PRId64, plan->krg_pad, plan->rows);
  FUZZ_EXPECT(ctx, plan->pq == m->p * m->q, "pq %" PRId64 ", want %" PRId64, plan->pq,
              m->p * m->q);
  FUZZ_EXPECT(ctx, plan->buffers == 1 || plan->buffers == 2, "%d buffers", plan->buffers);
  FUZZ_EXPECT(ctx, plan->images_per_chunk >= 1 && plan->images_per_chunk <= p->n &&
                       plan->images_per_chunk <= CONVGEMM_IM2COL_MAX_IMAGES,
              "%" PRId64 " images per chunk of %" PRId64, plan->images_per_chunk, p->n);
  FUZZ_EXPECT(ctx, plan->col_ld > 0 && plan->col_ld % 4 == 0, "col_ld %" PRId64, plan->col_ld);
  if (plan->pixels_per_chunk == plan->pq) { /* whole images */
    FUZZ_EXPECT(ctx, plan->col_ld == round_up(plan->pq, 4) && plan->chunks_per_image == 1 &&
                         plan->chunks == (p->n + plan->images_per_chunk - 1) /
                                             plan->images_per_chunk,
                "whole images: col_ld %" PRId64 ", %" PRId64 " chunks per image, %" PRId64
                " chunks",
                plan->col_ld, plan->chunks_per_image, plan->chunks);
  } else { /* runs of pixels of one image, at least the minimum chunk */
    FUZZ_EXPECT(ctx, (given == 0 || plan->pixels_per_chunk >= CONVGEMM_IM2COL_MIN_PIXELS) &&
                         plan->pixels_per_chunk > 0 && plan->pixels_per_chunk < plan->pq && plan->pixels_per_chunk % 4 == 0 &&
                         plan->images_per_chunk == 1 && plan->col_ld == plan->pixels_per_chunk,
                "%" PRId64 " pixels per chunk of %" PRId64 ", %" PRId64 " images, col_ld %" PRId64,
                plan->pixels_per_chunk, plan->pq, plan->images_per_chunk, plan->col_ld);
    FUZZ_EXPECT(ctx, plan->chunks_per_image ==
                         (plan->pq + plan->pixels_per_chunk - 1) / plan->pixels_per_chunk &&
                         plan->chunks == p->n * plan->chunks_per_image,
                "%" PRId64 " chunks per image, %" PRId64 " chunks", plan->chunks_per_image,
                plan->chunks);
  }
  /* The workspace: packed filter, `buffers` cuBLASLt workspaces, `buffers` column buffers, each
   * region 256-byte aligned, sizes in elements of the data type. */
  const fuzz_wide_t filter_bytes = (fuzz_wide_t)p->k * plan->krg_pad * m->elem_bytes;
  const fuzz_wide_t col_bytes =
      (fuzz_wide_t)plan->rows * plan->col_ld * plan->images_per_chunk * m->elem_bytes;
  FUZZ_EXPECT(ctx, plan->filter_offset == 0 && (fuzz_wide_t)plan->cublas_offset >= filter_bytes &&
                       plan->cublas_offset % CONVGEMM_IM2COL_ALIGN == 0 &&
                       plan->col_offset == plan->cublas_offset + (size_t)plan->buffers *
                                                                   CONVGEMM_IM2COL_CUBLAS_WORKSPACE,
              "offsets %zu %zu %zu", plan->filter_offset, plan->cublas_offset, plan->col_offset);
  FUZZ_EXPECT(ctx, (fuzz_wide_t)plan->col_bytes == col_bytes &&
                       plan->workspace_bytes ==
                           plan->col_offset + (size_t)plan->buffers *
                                                  (size_t)round_up((int64_t)plan->col_bytes,
                                                                   CONVGEMM_IM2COL_ALIGN),
              "column buffers of %zu bytes (want %lld), workspace %zu", plan->col_bytes,
              (long long)col_bytes, plan->workspace_bytes);
  if (given > 0)
    FUZZ_EXPECT(ctx, plan->workspace_bytes <= given, "the plan needs %zu bytes, %zu given",
                plan->workspace_bytes, given);
}

static void check_im2col(const fuzz_ctx_t* ctx, test_rng_t* rng,
                         const struct convgemm_conv_desc* d, const fuzz_model_t* m,
                         const convgemm_device_info_t* info) {
  size_t min_b = 0, pref_b = 0;
  convgemm_im2col_gemm_workspace(d, info, &min_b, &pref_b);
  FUZZ_EXPECT(ctx, min_b > 0 && min_b <= pref_b && min_b % CONVGEMM_IM2COL_ALIGN == 0 &&
                       pref_b % CONVGEMM_IM2COL_ALIGN == 0,
              "workspace min %zu, preferred %zu", min_b, pref_b);
  convgemm_im2col_gemm_plan_t plan;
  /* The minimum gives a plan that fits it. */
  convgemm_im2col_gemm_make_plan(d, info, min_b, &plan);
  check_im2col_plan(ctx, d, m, &plan, min_b);
  /* The preferred size gives the preferred plan: two buffers, all of it. */
  convgemm_im2col_gemm_make_plan(d, info, pref_b, &plan);
  check_im2col_plan(ctx, d, m, &plan, pref_b);
  FUZZ_EXPECT(ctx, plan.buffers == 2 && plan.workspace_bytes == pref_b,
              "at the preferred %zu bytes: %d buffers, %zu bytes used", pref_b, plan.buffers,
              plan.workspace_bytes);
  /* Anything in between, and anything more than preferred up to SIZE_MAX (forward passes on
   * whatever size_t the caller gives): still the preferred plan. */
  const size_t between = min_b + (size_t)(test_rng_next(rng) % (pref_b - min_b + 1));
  convgemm_im2col_gemm_make_plan(d, info, between, &plan);
  check_im2col_plan(ctx, d, m, &plan, between);
  const uint64_t shift = test_rng_next(rng) % 64;
  size_t more = pref_b + (size_t)(test_rng_next(rng) >> shift);
  if (more < pref_b) more = SIZE_MAX; /* wrapped */
  convgemm_im2col_gemm_make_plan(d, info, more, &plan);
  check_im2col_plan(ctx, d, m, &plan, more);
  FUZZ_EXPECT(ctx, plan.workspace_bytes == pref_b,
              "%zu bytes (more than the preferred %zu) gave a plan of %zu", more, pref_b,
              plan.workspace_bytes);
  /* The tuning tools' entry: any chunk that is a multiple of 4, either buffer count. */
  const int64_t pixels = 4 * test_rng_int(rng, 1, 1 << 16);
  convgemm_im2col_gemm_plan_for_chunk(d, pixels, (int)test_rng_int(rng, 1, 2), &plan);
  check_im2col_plan(ctx, d, m, &plan, 0);
}

/* ---- one valid descriptor on one device --------------------------------------------------- */

static void check_algorithms(const fuzz_ctx_t* ctx, test_rng_t* rng,
                             const struct convgemm_conv_desc* d, const fuzz_model_t* m,
                             const convgemm_device_info_t* info) {
  check_direct_plan(ctx, d, m, info->max_smem_per_block);
  FUZZ_EXPECT(ctx, convgemm_algorithm_supports(d, info, CONVGEMM_ALGO_DIRECT) ==
                       CONVGEMM_STATUS_SUCCESS,
              "DIRECT must run every descriptor");
  set_sentinel_message();
  const convgemm_status_t im2col = convgemm_algorithm_supports(d, info, CONVGEMM_ALGO_IM2COL_GEMM);
  const int fits = fuzz_model_im2col_fits(&d->params, m);
  FUZZ_EXPECT(ctx, im2col == (fits ? CONVGEMM_STATUS_SUCCESS : CONVGEMM_STATUS_NOT_SUPPORTED),
              "IM2COL_GEMM: %s, but the documented limits say %s", name(im2col),
              fits ? "supported" : "not supported");
  if (im2col != CONVGEMM_STATUS_SUCCESS)
    FUZZ_EXPECT(ctx, strcmp(convgemm_get_last_error(), kSentinel) != 0,
                "NOT_SUPPORTED left no reason");
  const convgemm_status_t implicit =
      convgemm_algorithm_supports(d, info, CONVGEMM_ALGO_IMPLICIT_GEMM);
  FUZZ_EXPECT(ctx, implicit == CONVGEMM_STATUS_SUCCESS || implicit == CONVGEMM_STATUS_NOT_SUPPORTED,
              "IMPLICIT_GEMM: %s", name(implicit));
  /* AUTO picks an algorithm that runs the descriptor. */
  const convgemm_algo_t chosen = convgemm_select_algorithm(d, info);
  FUZZ_EXPECT(ctx, chosen == CONVGEMM_ALGO_DIRECT || chosen == CONVGEMM_ALGO_IM2COL_GEMM ||
                       chosen == CONVGEMM_ALGO_IMPLICIT_GEMM,
              "AUTO chose %d", (int)chosen);
  FUZZ_EXPECT(ctx, convgemm_algorithm_supports(d, info, chosen) == CONVGEMM_STATUS_SUCCESS,
              "AUTO chose %s, which does not support the descriptor", convgemm_algo_name(chosen));
  if (im2col == CONVGEMM_STATUS_SUCCESS) check_im2col(ctx, rng, d, m, info);
}

/* ---- the descriptor suite ----------------------------------------------------------------- */

typedef struct coverage {
  int64_t status[CONVGEMM_STATUS_INTERNAL_ERROR + 1];
  int64_t direct_tile[CONVGEMM_DIRECT_DEPTHWISE + 1];
  int64_t im2col_supported, im2col_unsupported;
  int64_t huge; /* valid descriptors with a size, padding, stride or dilation >= 2^30 */
} coverage_t;

static void check_valid_descriptor(const fuzz_ctx_t* ctx, test_rng_t* rng,
                                   const convgemm_conv2d_params_t* p,
                                   const struct convgemm_conv_desc* d, convgemm_conv_desc_t desc,
                                   const fuzz_model_t* m, coverage_t* cov) {
  FUZZ_EXPECT(ctx, d->p == m->p && d->q == m->q, "P x Q %" PRId64 " x %" PRId64
              ", want %" PRId64 " x %" PRId64, d->p, d->q, m->p, m->q);
  FUZZ_EXPECT(ctx, d->c_per_group == m->c_per_group && d->k_per_group == m->k_per_group,
              "C/G %" PRId64 " K/G %" PRId64, d->c_per_group, d->k_per_group);
  FUZZ_EXPECT(ctx, d->x_elems == m->x_elems && d->w_elems == m->w_elems && d->y_elems == m->y_elems,
              "elements x %" PRId64 " w %" PRId64 " y %" PRId64 ", want %" PRId64 " %" PRId64
              " %" PRId64, d->x_elems, d->w_elems, d->y_elems, m->x_elems, m->w_elems,
              m->y_elems);
  FUZZ_EXPECT(ctx, d->tf32_operands == m->tf32_operands, "tf32_operands %d", d->tf32_operands);
  /* The public view: the parameters as given (has_bias as 0 or 1) and the output shape. */
  convgemm_conv2d_params_t back;
  memset(&back, 0x5A, sizeof back);
  FUZZ_EXPECT(ctx, convgemm_conv_desc_get_params(desc, &back) == CONVGEMM_STATUS_SUCCESS,
              "get_params failed");
  convgemm_conv2d_params_t want = *p;
  want.has_bias = p->has_bias != 0;
  FUZZ_EXPECT(ctx, memcmp(&back, &want, sizeof want) == 0, "get_params differs (bias %d)",
              back.has_bias);
  int64_t n = -1, k = -1, out_h = -1, out_w = -1;
  FUZZ_EXPECT(ctx, convgemm_get_output_shape(desc, &n, &k, &out_h, &out_w) ==
                       CONVGEMM_STATUS_SUCCESS,
              "get_output_shape failed");
  FUZZ_EXPECT(ctx, n == p->n && k == p->k && out_h == m->p && out_w == m->q,
              "output shape (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ")", n, k, out_h,
              out_w);

  const convgemm_device_info_t info = pick_device(rng);
  check_algorithms(ctx, rng, d, m, &info);

  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(d, info.max_smem_per_block, &plan);
  if ((int)plan.tile >= 0 && plan.tile <= CONVGEMM_DIRECT_DEPTHWISE) ++cov->direct_tile[plan.tile];
  if (fuzz_model_im2col_fits(p, m)) ++cov->im2col_supported;
  else ++cov->im2col_unsupported;
  const int64_t big = (int64_t)1 << 30;
  cov->huge += p->n >= big || p->c >= big || p->h >= big || p->w >= big || p->k >= big ||
               p->r >= big || p->s >= big || p->pad_h >= big || p->pad_w >= big ||
               p->stride_h >= big || p->stride_w >= big || p->dilation_h >= big ||
               p->dilation_w >= big;
}

START_TEST(test_descriptors_match_the_model) {
  test_rng_t rng;
  test_rng_seed(&rng, g_seed);
  coverage_t cov;
  memset(&cov, 0, sizeof cov);
  for (int64_t i = 0; i < g_cases; ++i) {
    convgemm_conv2d_params_t p;
    fuzz_params(&rng, &p);
    const fuzz_ctx_t ctx = {"descriptors", i, &p};
    fuzz_model_t m;
    fuzz_model_desc(&p, &m);

    /* params_init: the sizes as given, every default set. */
    convgemm_conv2d_params_t init;
    memset(&init, 0x77, sizeof init);
    FUZZ_EXPECT(&ctx, convgemm_conv2d_params_init(&init, p.n, p.c, p.h, p.w, p.k, p.r, p.s) ==
                          CONVGEMM_STATUS_SUCCESS,
                "params_init failed");
    FUZZ_EXPECT(&ctx, init.n == p.n && init.c == p.c && init.h == p.h && init.w == p.w &&
                          init.k == p.k && init.r == p.r && init.s == p.s && init.pad_h == 0 &&
                          init.pad_w == 0 && init.stride_h == 1 && init.stride_w == 1 &&
                          init.dilation_h == 1 && init.dilation_w == 1 && init.groups == 1 &&
                          init.has_bias == 0 && init.data_type == CONVGEMM_DATA_FLOAT32 &&
                          init.math_mode == CONVGEMM_MATH_DEFAULT,
                "params_init did not set the sizes and defaults");

    set_sentinel_message();
    struct convgemm_conv_desc d;
    const convgemm_status_t validated = convgemm_conv_desc_validate(&p, &d);
    convgemm_conv_desc_t desc = (convgemm_conv_desc_t)(uintptr_t)0x10; /* must be replaced */
    const convgemm_status_t created = convgemm_conv_desc_create(&desc, &p);
    const char* message = convgemm_get_last_error();
    FUZZ_EXPECT(&ctx, status_is_valid(created), "status %d is not a convgemm_status_t",
                (int)created);
    FUZZ_EXPECT(&ctx, created == validated, "create %s, validate %s", name(created),
                name(validated));
    FUZZ_EXPECT(&ctx, strlen(message) < 512, "message of %zu characters", strlen(message));
    ++cov.status[created];
    if (m.reasons == 0) {
      FUZZ_EXPECT(&ctx, created == CONVGEMM_STATUS_SUCCESS && desc != NULL,
                  "valid parameters refused: %s", name(created));
      check_valid_descriptor(&ctx, &rng, &p, &d, desc, &m, &cov);
    } else {
      FUZZ_EXPECT(&ctx, created != CONVGEMM_STATUS_SUCCESS,
                  "accepted, but the model finds problems 0x%x", (unsigned)m.reasons);
      FUZZ_EXPECT(&ctx, (m.reasons & FUZZ_BIT(created)) != 0,
                  "%s, but the problems found are 0x%x (bit i: status i)", name(created),
                  (unsigned)m.reasons);
      FUZZ_EXPECT(&ctx, desc == NULL, "failed create left *desc = %p", (void*)desc);
      FUZZ_EXPECT(&ctx, message[0] != '\0' && strcmp(message, kSentinel) != 0,
                  "failed create left no message of its own (\"%s\")", message);
    }
    FUZZ_EXPECT(&ctx, convgemm_conv_desc_destroy(desc) == CONVGEMM_STATUS_SUCCESS,
                "destroy failed");
  }
  /* The generator reaches every outcome, enough times to matter (set for the default count;
   * scaled for others). */
  const int64_t often = g_cases / 1000;
  const fuzz_ctx_t ctx = {"descriptors coverage", g_cases, NULL};
  static const convgemm_status_t kReached[] = {
      CONVGEMM_STATUS_SUCCESS,      CONVGEMM_STATUS_BAD_SIZE,     CONVGEMM_STATUS_BAD_GROUPS,
      CONVGEMM_STATUS_BAD_PADDING,  CONVGEMM_STATUS_BAD_STRIDE,   CONVGEMM_STATUS_BAD_DILATION,
      CONVGEMM_STATUS_FILTER_TOO_LARGE, CONVGEMM_STATUS_SIZE_OVERFLOW, CONVGEMM_STATUS_BAD_ENUM};
  for (size_t i = 0; i < sizeof kReached / sizeof kReached[0]; ++i)
    FUZZ_EXPECT(&ctx, cov.status[kReached[i]] >= often, "%s only %" PRId64 " times",
                name(kReached[i]), cov.status[kReached[i]]);
  for (int t = 0; t <= CONVGEMM_DIRECT_DEPTHWISE; ++t)
    FUZZ_EXPECT(&ctx, cov.direct_tile[t] >= often, "DIRECT tile %d only %" PRId64 " times", t,
                cov.direct_tile[t]);
  FUZZ_EXPECT(&ctx, cov.im2col_supported >= often && cov.im2col_unsupported >= often,
              "IM2COL_GEMM supported %" PRId64 ", not %" PRId64 " times", cov.im2col_supported,
              cov.im2col_unsupported);
  FUZZ_EXPECT(&ctx, cov.huge >= often, "valid descriptors with a value >= 2^30: %" PRId64,
              cov.huge);
}
END_TEST

/* ---- the public queries through a handle -------------------------------------------------- */

static const int kAlgoValues[] = {CONVGEMM_ALGO_DIRECT, CONVGEMM_ALGO_IM2COL_GEMM,
                                  CONVGEMM_ALGO_IMPLICIT_GEMM, CONVGEMM_ALGO_AUTO,
                                  4, -1, INT_MAX, INT_MIN};

static int algo_is_known(int a) { return a >= CONVGEMM_ALGO_DIRECT && a <= CONVGEMM_ALGO_AUTO; }

/* A stand-in for device memory: never dereferenced, the checks under test come first. */
static void* fake_pointer(uintptr_t address) { return (void*)address; }

START_TEST(test_handle_queries_and_forward_arguments) {
  test_rng_t rng;
  test_rng_seed(&rng, g_seed ^ 0x9e3779b97f4a7c15ull);
  const int64_t cases = g_cases / 5 > 0 ? g_cases / 5 : 1;
  int64_t forward_calls = 0;
  for (int64_t i = 0; i < cases; ++i) {
    convgemm_conv2d_params_t p;
    fuzz_params(&rng, &p);
    const fuzz_ctx_t ctx = {"handle queries", i, &p};
    convgemm_conv_desc_t valid = NULL;
    convgemm_conv_desc_create(&valid, &p);
    const convgemm_device_info_t info = pick_device(&rng);
    struct convgemm_handle fake = fake_device_handle(info);
    convgemm_handle_t handle = test_rng_next(&rng) % 8 == 0 ? NULL : &fake;
    convgemm_conv_desc_t desc = test_rng_next(&rng) % 8 == 0 ? NULL : valid;
    const int algo = kAlgoValues[test_rng_int(&rng, 0, 7)];
    const int nulls = handle == NULL || desc == NULL;

    /* get_algorithm: AUTO's choice, or NULL_POINTER. */
    convgemm_algo_t chosen = (convgemm_algo_t)-7;
    const int null_out = test_rng_next(&rng) % 8 == 0;
    convgemm_status_t s = convgemm_get_algorithm(handle, desc, null_out ? NULL : &chosen);
    if (nulls || null_out) {
      FUZZ_EXPECT(&ctx, s == CONVGEMM_STATUS_NULL_POINTER, "get_algorithm with NULL: %s",
                  name(s));
    } else {
      FUZZ_EXPECT(&ctx, s == CONVGEMM_STATUS_SUCCESS &&
                            chosen == convgemm_select_algorithm(desc, &info),
                  "get_algorithm: %s, %d", name(s), (int)chosen);
    }

    /* check_algorithm and get_workspace_size agree with the internal answer. */
    convgemm_status_t want = CONVGEMM_STATUS_SUCCESS;
    convgemm_algo_t resolved = (convgemm_algo_t)algo;
    if (nulls) {
      want = CONVGEMM_STATUS_NULL_POINTER;
    } else if (!algo_is_known(algo)) {
      want = CONVGEMM_STATUS_BAD_ENUM;
    } else {
      if (algo == CONVGEMM_ALGO_AUTO) resolved = convgemm_select_algorithm(desc, &info);
      want = convgemm_algorithm_supports(desc, &info, resolved);
    }
    s = convgemm_check_algorithm(handle, desc, (convgemm_algo_t)algo);
    FUZZ_EXPECT(&ctx, s == want, "check_algorithm(%d): %s, want %s", algo, name(s), name(want));
    size_t min_b = 1, pref_b = 1;
    size_t* min_p = test_rng_next(&rng) % 4 == 0 ? NULL : &min_b;
    size_t* pref_p = test_rng_next(&rng) % 4 == 0 ? NULL : &pref_b;
    s = convgemm_get_workspace_size(handle, desc, (convgemm_algo_t)algo, min_p, pref_p);
    FUZZ_EXPECT(&ctx, s == want, "get_workspace_size(%d): %s, want %s", algo, name(s), name(want));
    size_t need_min = 0, need_pref = 0;
    if (s == CONVGEMM_STATUS_SUCCESS) {
      convgemm_get_workspace_size(handle, desc, (convgemm_algo_t)algo, &need_min, &need_pref);
      FUZZ_EXPECT(&ctx, need_min <= need_pref, "workspace min %zu > preferred %zu", need_min,
                  need_pref);
      if (resolved == CONVGEMM_ALGO_DIRECT)
        FUZZ_EXPECT(&ctx, need_min == 0 && need_pref == 0, "DIRECT asks for %zu", need_pref);
      if (resolved == CONVGEMM_ALGO_IM2COL_GEMM) {
        size_t im_min = 0, im_pref = 0;
        convgemm_im2col_gemm_workspace(desc, &info, &im_min, &im_pref);
        FUZZ_EXPECT(&ctx, need_min == im_min && need_pref == im_pref,
                    "IM2COL_GEMM workspace %zu/%zu, want %zu/%zu", need_min, need_pref, im_min,
                    im_pref);
      }
    }

    /* forward: arguments whose checks come before any CUDA call. Each applicable problem's
     * status is allowed (the library reports the first it checks). */
    const int has_bias = desc != NULL && desc->params.has_bias;
    /* Tensors 0 to 3 bytes past an aligned address, one time in four. */
    const uintptr_t x_off = test_rng_next(&rng) % 4 == 0 ? (uintptr_t)test_rng_int(&rng, 0, 3) : 0;
    const void* x = test_rng_next(&rng) % 6 == 0 ? NULL : fake_pointer(0x10000 + x_off);
    const void* w = test_rng_next(&rng) % 6 == 0 ? NULL : fake_pointer(0x20000);
    void* y = test_rng_next(&rng) % 6 == 0 ? NULL : fake_pointer(0x30000);
    const void* bias = test_rng_next(&rng) % 2 == 0 ? NULL : fake_pointer(0x40000);
    const uint64_t ws_kind = test_rng_next(&rng) % 4;
    void* ws = ws_kind == 0   ? NULL
               : ws_kind == 1 ? fake_pointer(0x100000 + 4 * (uintptr_t)test_rng_int(&rng, 1, 63))
                              : fake_pointer(0x100000);
    const size_t sizes[5] = {0, need_min > 0 ? need_min - 1 : 0, need_min, need_pref, SIZE_MAX};
    const size_t ws_bytes = sizes[test_rng_int(&rng, 0, 4)];
    uint32_t allowed = 0;
    if (nulls) allowed |= FUZZ_BIT(CONVGEMM_STATUS_NULL_POINTER);
    if (!nulls && !algo_is_known(algo)) allowed |= FUZZ_BIT(CONVGEMM_STATUS_BAD_ENUM);
    if (!nulls && algo_is_known(algo) && want != CONVGEMM_STATUS_SUCCESS)
      allowed |= FUZZ_BIT(want);
    if (x == NULL || w == NULL || y == NULL || (has_bias && bias == NULL))
      allowed |= FUZZ_BIT(CONVGEMM_STATUS_NULL_POINTER);
    if (desc != NULL && !has_bias && bias != NULL) allowed |= FUZZ_BIT(CONVGEMM_STATUS_BAD_POINTER);
    /* x not aligned to the element size (4 bytes, 2 for 16-bit data). */
    if (desc != NULL && x != NULL &&
        (x_off % (uintptr_t)fuzz_model_elem_bytes(desc->params.data_type)) != 0)
      allowed |= FUZZ_BIT(CONVGEMM_STATUS_BAD_POINTER);
    if (!nulls && want == CONVGEMM_STATUS_SUCCESS && ws_bytes < need_min)
      allowed |= FUZZ_BIT(CONVGEMM_STATUS_WORKSPACE_TOO_SMALL);
    if (ws_bytes > 0 && ws == NULL) allowed |= FUZZ_BIT(CONVGEMM_STATUS_NULL_POINTER);
    if (ws_bytes > 0 && ws != NULL && ((uintptr_t)ws % CONVGEMM_WORKSPACE_ALIGNMENT) != 0)
      allowed |= FUZZ_BIT(CONVGEMM_STATUS_BAD_POINTER);
    if (allowed != 0) { /* otherwise forward would go on to ask CUDA about the pointers */
      ++forward_calls;
      s = convgemm_forward(handle, desc, (convgemm_algo_t)algo, x, w, bias, y, ws, ws_bytes, NULL);
      FUZZ_EXPECT(&ctx, (allowed & FUZZ_BIT(s)) != 0,
                  "forward(algo %d, x %p, w %p, bias %p, y %p, ws %p, %zu bytes): %s, allowed 0x%x",
                  algo, x, w, bias, (void*)y, ws, ws_bytes, name(s), (unsigned)allowed);
    }
    convgemm_conv_desc_destroy(valid);
  }
  const fuzz_ctx_t ctx = {"handle queries coverage", cases, NULL};
  FUZZ_EXPECT(&ctx, forward_calls >= cases / 2, "forward called %" PRId64 " times of %" PRId64,
              forward_calls, cases);
}
END_TEST

/* ---- NULL pointers and status strings ----------------------------------------------------- */

START_TEST(test_null_pointers_everywhere) {
  const fuzz_ctx_t ctx = {"null pointers", 0, NULL};
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 2, 8, 16, 16, 16, 3, 3);
  convgemm_conv_desc_t desc = NULL;
  FUZZ_EXPECT(&ctx, convgemm_conv_desc_create(&desc, &p) == CONVGEMM_STATUS_SUCCESS, "create");
  FUZZ_EXPECT(&ctx, convgemm_conv2d_params_init(NULL, 1, 1, 1, 1, 1, 1, 1) ==
                        CONVGEMM_STATUS_NULL_POINTER, "params_init(NULL)");
  FUZZ_EXPECT(&ctx, convgemm_conv_desc_create(NULL, &p) == CONVGEMM_STATUS_NULL_POINTER,
              "create(NULL, p)");
  convgemm_conv_desc_t out = (convgemm_conv_desc_t)(uintptr_t)0x10;
  FUZZ_EXPECT(&ctx, convgemm_conv_desc_create(&out, NULL) == CONVGEMM_STATUS_NULL_POINTER &&
                        out == NULL, "create(&d, NULL)");
  struct convgemm_conv_desc d;
  FUZZ_EXPECT(&ctx, convgemm_conv_desc_validate(NULL, &d) == CONVGEMM_STATUS_NULL_POINTER &&
                        convgemm_conv_desc_validate(&p, NULL) == CONVGEMM_STATUS_NULL_POINTER,
              "validate with NULL");
  FUZZ_EXPECT(&ctx, convgemm_conv_desc_destroy(NULL) == CONVGEMM_STATUS_SUCCESS, "destroy(NULL)");
  FUZZ_EXPECT(&ctx, convgemm_conv_desc_get_params(NULL, &p) == CONVGEMM_STATUS_NULL_POINTER &&
                        convgemm_conv_desc_get_params(desc, NULL) == CONVGEMM_STATUS_NULL_POINTER,
              "get_params with NULL");
  /* get_output_shape: every combination of NULL outputs, with and without a descriptor. */
  for (int mask = 0; mask < 32; ++mask) {
    int64_t v[4] = {-1, -1, -1, -1};
    const convgemm_status_t s = convgemm_get_output_shape(
        mask & 16 ? desc : NULL, mask & 1 ? &v[0] : NULL, mask & 2 ? &v[1] : NULL,
        mask & 4 ? &v[2] : NULL, mask & 8 ? &v[3] : NULL);
    FUZZ_EXPECT(&ctx, s == (mask == 31 ? CONVGEMM_STATUS_SUCCESS : CONVGEMM_STATUS_NULL_POINTER),
                "get_output_shape, pointer mask %d: %s", mask, name(s));
  }
  struct convgemm_handle fake = fake_device_handle(fake_device_h100());
  int device = -1;
  FUZZ_EXPECT(&ctx, convgemm_create(NULL) == CONVGEMM_STATUS_NULL_POINTER, "create(NULL)");
  FUZZ_EXPECT(&ctx, convgemm_destroy(NULL) == CONVGEMM_STATUS_SUCCESS, "destroy(NULL)");
  FUZZ_EXPECT(&ctx, convgemm_get_device(NULL, &device) == CONVGEMM_STATUS_NULL_POINTER &&
                        convgemm_get_device(&fake, NULL) == CONVGEMM_STATUS_NULL_POINTER,
              "get_device with NULL");
  FUZZ_EXPECT(&ctx, convgemm_get_device(&fake, &device) == CONVGEMM_STATUS_SUCCESS && device == 0,
              "get_device: %d", device);
  FUZZ_EXPECT(&ctx, convgemm_get_last_error() != NULL, "get_last_error is NULL");
  convgemm_conv_desc_destroy(desc);
}
END_TEST

START_TEST(test_status_string_of_any_int) {
  const fuzz_ctx_t ctx = {"status strings", 0, NULL};
  const int count = CONVGEMM_STATUS_INTERNAL_ERROR + 1;
  const char* names[CONVGEMM_STATUS_INTERNAL_ERROR + 1];
  for (int i = 0; i < count; ++i) {
    names[i] = convgemm_status_string((convgemm_status_t)i);
    FUZZ_EXPECT(&ctx, names[i] != NULL && strncmp(names[i], "CONVGEMM_STATUS_", 16) == 0 &&
                          strstr(names[i], "unknown") == NULL,
                "status %d is named \"%s\"", i, names[i] ? names[i] : "(null)");
    for (int j = 0; j < i; ++j)
      FUZZ_EXPECT(&ctx, strcmp(names[i], names[j]) != 0, "statuses %d and %d share \"%s\"", i, j,
                  names[i]);
  }
  test_rng_t rng;
  test_rng_seed(&rng, g_seed ^ 0x51a7u);
  for (int64_t i = 0; i < 200000; ++i) {
    const int v = i < 4   ? (int[]){INT_MIN, INT_MAX, -1, count}[i]
                  : i < 70000 ? (int)(i - 35000)
                              : (int)(uint32_t)test_rng_next(&rng);
    const char* s = convgemm_status_string((convgemm_status_t)v);
    FUZZ_EXPECT(&ctx, s != NULL && s[0] != '\0', "status_string(%d) is empty or NULL", v);
    if (v >= 0 && v < count) continue;
    for (int j = 0; j < count; ++j)
      FUZZ_EXPECT(&ctx, strcmp(s, names[j]) != 0, "status_string(%d) is \"%s\", status %d's name",
                  v, s, j);
  }
}
END_TEST

static Suite* fuzz_suite(void) {
  Suite* s = suite_create("cpu_fuzz");
  TCase* tc = tcase_create("fuzz");
  /* Millions of cases: far beyond Check's default 4 s; Bazel's test timeout still applies. */
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_descriptors_match_the_model);
  tcase_add_test(tc, test_handle_queries_and_forward_arguments);
  tcase_add_test(tc, test_null_pointers_everywhere);
  tcase_add_test(tc, test_status_string_of_any_int);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  g_seed = test_base_seed(kDefaultSeed);
  g_cases = kDefaultCases;
  const char* env = getenv("CONVGEMM_FUZZ_CASES");
  if (env != NULL && *env != '\0') {
    char* end = NULL;
    const long long cases = strtoll(env, &end, 10);
    if (end == NULL || *end != '\0' || cases < 1) {
      fprintf(stderr, "CONVGEMM_FUZZ_CASES must be a positive integer, got \"%s\"\n", env);
      return 2;
    }
    g_cases = cases;
  }
  printf("cpu_fuzz_test: CONVGEMM_TEST_SEED=%" PRIu64 ", CONVGEMM_FUZZ_CASES=%" PRId64 "\n",
         g_seed, g_cases);
  return check_main_run(fuzz_suite(), CK_FORK);
}
