/* IMPLICIT_GEMM's host-side tiling and support decisions (see implicit_gemm_plan.h). */
#include "conv/implicit_gemm_plan.h"

#include <stdint.h>

#include "conv/error.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* The shape-dependent part of a plan for `variant`'s tile with `stages` stages. */
static void plan_tiles(const struct convgemm_conv_desc* d, convgemm_igemm_variant_t variant,
                       int stages, int stage_rows, int tma_only, int ping_pong,
                       convgemm_igemm_plan_t* plan) {
  const int wgmma = variant == CONVGEMM_IGEMM_WGMMA;
  /* 16-bit data: 16 channels per stage, a channel pair per 4-byte word (WGMMA: 8 per 16-byte
   * pixel row, k16 wgmmas; MMA_SYNC: k16 mma.syncs), so every stage, box and packed tap has the
   * bytes of the TF32 layout with 8 and 4. */
  const int is16 = convgemm_desc_is_16bit(d);
  const int64_t chunk = is16 ? CONVGEMM_IGEMM_C_CHUNK_16BIT : CONVGEMM_IGEMM_C_CHUNK;
  const int64_t per16 = chunk / 2; /* values per 16 bytes */
  /* fp32 operands (IEEE math, or C/G == 1): WGMMA's 3xTF32, each operand as a big and a small
   * TF32 part, twice the window planes and filter taps per stage. */
  const int split = wgmma && !d->tf32_operands && !is16;
  const int64_t parts = split ? 2 : 1;
  const int tile_p = !wgmma       ? CONVGEMM_IGEMM_TILE_P
                     : split     ? CONVGEMM_IGEMM_WG_TILE_P_SPLIT
                     : ping_pong ? CONVGEMM_IGEMM_WG_TILE_P_PING_PONG
                                 : CONVGEMM_IGEMM_WG_TILE_P;
  const int tile_q = wgmma ? CONVGEMM_IGEMM_WG_TILE_Q : CONVGEMM_IGEMM_TILE_Q;
  const int64_t w_ld = wgmma ? CONVGEMM_IGEMM_BLOCK_K : CONVGEMM_IGEMM_W_LD;
  const convgemm_conv2d_params_t* p = &d->params;
  /* Sizes are < 2^31 each (validated), so these products fit in 64 bits; the int fields are
   * clamped and the plan then rejected by convgemm_igemm_supports. */
  const int64_t halo_h =
      (int64_t)(tile_p - 1) * p->stride_h + (int64_t)(stage_rows - 1) * p->dilation_h + 1;
  const int64_t halo_w = (int64_t)(tile_q - 1) * p->stride_w + (p->s - 1) * p->dilation_w + 1;
  /* MMA_SYNC: channel t of an A fragment is read by lanes 4 apart in t: planes 8 banks apart put
   * the fragment's 32 reads in 32 banks. WGMMA: x_s holds two planes of 16-byte pixels (4
   * channels each), whole core matrices of 8 pixels. */
  const int64_t window = convgemm_sat_mul(halo_h, halo_w); /* saturating: hostile strides */
  const int64_t plane_ld = window >= INT64_MAX - 64 ? INT64_MAX
                           : wgmma                  ? ceil_div(window, 8) * 8
                                                    : ceil_div(window, 32) * 32 + 8;
  /* WGMMA's TMA box: (chunk, halo_h, tma_box_w) values. Each box dimension
   * must be at most 256 and at most the tensor's (W, H, C/G: else the load faults), and the
   * tensor's row stride W * elem_bytes a multiple of 16. */
  /* The box's first column must sit on a 16-byte boundary (else the load is an illegal
   * instruction, measured with pad_w = 1): it starts tma_shift columns left of the window. */
  const int64_t tma_shift = (per16 - p->pad_w % per16) % per16;
  const int64_t box_w = ceil_div(halo_w + tma_shift, per16) * per16;
  const int tma = wgmma && p->w % per16 == 0 && box_w <= 256 && box_w <= p->w && halo_h <= 256 &&
                  halo_h <= p->h && d->c_per_group >= chunk &&
                  window <= CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS &&
                  p->pad_w < INT32_MAX / 2 && p->pad_h < INT32_MAX / 2; /* int box corners */
  /* Tap pairs (plan->tap_pairs): K/G fills at most half of a tile's 128 channels. */
  const int pairs = tma_only && tma && !split && !is16 &&
                    d->k_per_group <= CONVGEMM_IGEMM_BLOCK_K / 2 &&
                    p->s >= 2 && p->dilation_w <= CONVGEMM_IGEMM_PAIR_MAX_DILATION_W;
  const int64_t s_taps = pairs ? (p->s + 1) / 2 : p->s;
  const int tile_q_step = pairs ? CONVGEMM_IGEMM_PAIR_Q_STEP : tile_q;
  /* In 4-byte words: chunk x halo_h x box_w values of elem_bytes. */
  const int64_t box = tma ? CONVGEMM_IGEMM_C_CHUNK * halo_h * box_w : 0;
  int64_t x_stage = convgemm_sat_mul(CONVGEMM_IGEMM_C_CHUNK * parts, plane_ld);
  if (wgmma && x_stage < INT64_MAX - 64)
    x_stage = ceil_div(box > x_stage ? box : x_stage, 32) * 32;
  const int64_t w_stage =
      convgemm_sat_mul(stage_rows * s_taps, CONVGEMM_IGEMM_C_CHUNK * w_ld * parts);
  const int64_t smem = convgemm_sat_add(
      convgemm_sat_mul(stages * (int64_t)sizeof(float), convgemm_sat_add(x_stage, w_stage)),
      wgmma ? CONVGEMM_IGEMM_WG_BARRIER_BYTES : 0);
  plan->variant = variant;
  plan->stage_rows = stage_rows;
  plan->tile_p = tile_p;
  plan->tile_q = tile_q;
  plan->stages = stages;
  plan->halo_h = (int)(halo_h < INT32_MAX ? halo_h : INT32_MAX);
  plan->halo_w = (int)(halo_w < INT32_MAX ? halo_w : INT32_MAX);
  plan->x_plane_ld = (int)(plane_ld < INT32_MAX ? plane_ld : INT32_MAX);
  plan->tma = tma;
  plan->split = split;
  plan->tma_box_w = (int)(box_w < INT32_MAX ? box_w : INT32_MAX);
  plan->tma_shift = (int)tma_shift;
  plan->x_stage_floats = (int)(x_stage < INT32_MAX ? x_stage : INT32_MAX);
  plan->w_stage_floats = (int)(w_stage < INT32_MAX ? w_stage : INT32_MAX);
  plan->smem_bytes = (size_t)smem;
  plan->c_chunks = ceil_div(d->c_per_group, chunk);
  plan->k_tiles = ceil_div(d->k_per_group, CONVGEMM_IGEMM_BLOCK_K);
  plan->p_tiles = ceil_div(d->p, tile_p);
  plan->tap_pairs = pairs;
  plan->tile_q_step = tile_q_step;
  plan->producer_groups =
      split && tma && stages % 2 == 0 &&
              2 * window <= (int64_t)CONVGEMM_IGEMM_WG_PRODUCER_THREADS / 2 *
                                CONVGEMM_IGEMM_WG_GROUP_UNITS
          ? 2
          : 1;
  plan->s_taps = (int)s_taps;
  plan->q_tiles = ceil_div(d->q, tile_q_step);
  plan->tiles = convgemm_sat_mul(convgemm_sat_mul(p->n * p->groups, plan->k_tiles),
                                 convgemm_sat_mul(plan->p_tiles, plan->q_tiles));
  plan->blocks = (int)(plan->tiles < INT32_MAX ? plan->tiles : INT32_MAX);
  plan->run_tiles = 1;
  plan->carry = 0;
  plan->resident_filter = 0;
  plan->ping_pong = 0;
  plan->f16_products = 0;
  plan->f16_info_offset = 0;
  plan->f16_w_offset = 0;
  plan->f16_fallback = (convgemm_igemm_fallback_t){0, 0, 0, 0, 0, 0};
  const int64_t chunk_taps = convgemm_sat_mul(p->groups * plan->k_tiles, plan->c_chunks);
  const int64_t tap_floats = CONVGEMM_IGEMM_C_CHUNK * CONVGEMM_IGEMM_BLOCK_K * parts;
  const int64_t packed = convgemm_sat_mul(chunk_taps, convgemm_sat_mul(p->r * s_taps, tap_floats));
  plan->packed_floats = (size_t)packed;
  /* With tap pairs, room for the packing without them too: an x off 16 bytes takes the
   * cp.async kernel, which has no pairs (convgemm_igemm_make_plan_for_x). Refused past
   * INT32_MAX floats (refusal below), so this does not overflow then. */
  const int64_t room = convgemm_sat_mul(chunk_taps, convgemm_sat_mul(p->r * p->s, tap_floats));
  plan->workspace_bytes =
      ((size_t)convgemm_sat_mul(packed > room ? packed : room, (int64_t)sizeof(float)) + 255) /
      256 * 256;
}

/* WGMMA's TMA kernel with TF32 operands stores the 32-byte sectors that its tiles' boundaries
 * split whole when y's rows are off sector boundaries (Q not a multiple of 8), each tile's rows
 * continue in the next tile (k_tiles 1) and the tiles are store-bound: a block then takes whole
 * rows of q tiles, carrying 8 floats per output row and channel from one tile's epilogue to the
 * next, in shared memory beside the stages (where it fits). */
static void plan_carry(const struct convgemm_conv_desc* d, const convgemm_device_info_t* info,
                       convgemm_igemm_plan_t* plan) {
  const size_t carry_bytes = (size_t)plan->tile_p * CONVGEMM_IGEMM_BLOCK_K * 8 * sizeof(float);
  const int64_t ksteps = plan->c_chunks * d->params.r * d->params.s;
  if (!plan->tma || plan->split || convgemm_desc_is_16bit(d) || plan->k_tiles != 1 ||
      plan->q_tiles < 2 || plan->q_tiles > INT32_MAX || d->q % 8 == 0 ||
      ksteps > CONVGEMM_IGEMM_CARRY_MAX_KSTEPS || d->k_per_group < CONVGEMM_IGEMM_CARRY_MIN_KG ||
      plan->smem_bytes + carry_bytes > (size_t)info->max_smem_per_block)
    return;
  plan->carry = 1;
  plan->run_tiles = (int)plan->q_tiles;
  plan->smem_bytes += carry_bytes;
}

/* The most stages (WG_MIN_STAGES .. WG_MAX_STAGES - 1: the last `full` barrier counts the
 * filter's copies) of x_stage_floats each that fit beside the barriers, `extra` bytes and a
 * resident filter of filter_bytes; 0 if not even the fewest do. *smem: the block's bytes. */
static int resident_filter_stages(const convgemm_device_info_t* info, int64_t x_stage_floats,
                                  int64_t extra, int64_t filter_bytes, int64_t* smem) {
  for (int stages = CONVGEMM_IGEMM_WG_MAX_STAGES - 1; stages >= CONVGEMM_IGEMM_WG_MIN_STAGES;
       --stages) {
    *smem = convgemm_sat_add(
        convgemm_sat_add(convgemm_sat_mul(stages * (int64_t)sizeof(float), x_stage_floats),
                         CONVGEMM_IGEMM_WG_BARRIER_BYTES + extra),
        filter_bytes);
    if (*smem <= info->max_smem_per_block) return stages;
  }
  return 0;
}

/* WGMMA's TMA kernel with 16-bit data keeps the whole filter in shared memory where it fits
 * beside the window stages (one group and one k tile: every tile of the block uses the same
 * taps). Problem 55 in bfloat16: 144 KB of filter and 4 stages of 13.5 KB instead of 4 stages of
 * 49.5 KB, each with its 36 KB of filter: 1.23-1.24 ms against 1.26-1.29 over 100 sequential
 * calls; 86_pw in bfloat16 0.63 ms against 0.78 (log step 60).
 * With the filter resident and enough k steps per tile the compute warpgroups take tiles of
 * their own (plan->ping_pong: tile_p 2, one warpgroup's epilogue under the other's wgmmas) where
 * that tiling's stages fit too (unless info->no_ping_pong): problem 55 in bfloat16 1.09 ms against
 * 1.21 (log step 67). */
static void plan_resident_filter(const struct convgemm_conv_desc* d,
                                 const convgemm_device_info_t* info,
                                 convgemm_igemm_plan_t* plan) {
  if (!plan->tma || !convgemm_desc_is_16bit(d) || d->params.groups != 1 || plan->k_tiles != 1 ||
      plan->stage_rows != d->params.r)
    return;
  const int64_t filter_bytes =
      convgemm_sat_mul(plan->c_chunks * d->params.r * plan->s_taps,
                       (int64_t)CONVGEMM_IGEMM_C_CHUNK * CONVGEMM_IGEMM_BLOCK_K * 4);
  int64_t smem = 0;
  const int64_t ksteps = plan->c_chunks * d->params.r * d->params.s;
  if (!info->no_ping_pong && ksteps >= CONVGEMM_IGEMM_PING_PONG_MIN_KSTEPS) {
    convgemm_igemm_plan_t pp;
    plan_tiles(d, CONVGEMM_IGEMM_WGMMA, plan->stages, plan->stage_rows, 1, 1, &pp);
    const int stages =
        pp.tma ? resident_filter_stages(info, pp.x_stage_floats,
                                        CONVGEMM_IGEMM_WG_STAGING16_BYTES +
                                            CONVGEMM_IGEMM_WG_PING_PONG_BARRIER_BYTES,
                                        filter_bytes, &smem)
               : 0;
    if (stages > 0) {
      const int blocks = plan->blocks;
      *plan = pp;
      plan->blocks = (int64_t)blocks < plan->tiles ? blocks : (int)plan->tiles;
      plan->resident_filter = 1;
      plan->ping_pong = 1;
      plan->stages = stages;
      plan->w_stage_floats = 0;
      plan->smem_bytes = (size_t)smem;
      return;
    }
  }
  const int stages = resident_filter_stages(info, plan->x_stage_floats,
                                            CONVGEMM_IGEMM_WG_STAGING16_BYTES, filter_bytes, &smem);
  if (stages == 0) return;
  plan->resident_filter = 1;
  plan->stages = stages;
  plan->w_stage_floats = 0;
  plan->smem_bytes = (size_t)smem;
}

/* WGMMA's TMA kernel with TF32 operands computes the TF32 products on fp16 tensor cores where
 * the whole fp16 filter stays in shared memory beside at least WG_MIN_STAGES stages of a
 * 16-channel fp32 box (plan->f16_products; the stage doubles as the epilogue's staging). A
 * TF32 value is an 11-bit significand with an 8-bit exponent; scaled by a power of two into
 * fp16's normal range it is an fp16 value, and the product of two is exact in fp32 either way. */
static void plan_f16_products(const struct convgemm_conv_desc* d,
                              const convgemm_device_info_t* info, convgemm_igemm_plan_t* plan) {
  const convgemm_conv2d_params_t* p = &d->params;
  if (info->no_f16_products || !plan->tma || plan->split || convgemm_desc_is_16bit(d) ||
      !d->tf32_operands || p->groups != 1 || plan->k_tiles != 1 || plan->stage_rows != p->r ||
      plan->carry || plan->tap_pairs || d->c_per_group < CONVGEMM_IGEMM_F16_C_CHUNK)
    return;
  const int64_t c_chunks = ceil_div(d->c_per_group, CONVGEMM_IGEMM_F16_C_CHUNK);
  const int64_t tap_words = CONVGEMM_IGEMM_C_CHUNK * CONVGEMM_IGEMM_BLOCK_K; /* 4 KB */
  const int64_t packed = convgemm_sat_mul(c_chunks * p->r, p->s * tap_words);
  const int64_t box = (int64_t)CONVGEMM_IGEMM_F16_C_CHUNK * plan->halo_h * plan->tma_box_w;
  const int64_t x_s = (int64_t)CONVGEMM_IGEMM_C_CHUNK * plan->x_plane_ld; /* fp16 window */
  const int64_t x_stage = ceil_div(box > x_s ? box : x_s, 32) * 32;
  int64_t smem = 0;
  const int stages = resident_filter_stages(info, x_stage, CONVGEMM_IGEMM_WG_TILE_INFO_BYTES,
                                            convgemm_sat_mul(packed, 4), &smem);
  if (stages == 0) return;
  const size_t info_offset = ((size_t)packed * 4 + 255) / 256 * 256;
  const size_t info_bytes =
      (size_t)convgemm_sat_mul(CONVGEMM_IGEMM_F16_INFO_INTS + plan->tiles, 4);
  const size_t w_offset = (info_offset + info_bytes + 255) / 256 * 256;
  const size_t workspace = w_offset + plan->packed_floats * 4;
  /* The TF32 plan this one replaces recomputes the listed tiles. */
  plan->f16_fallback.stages = plan->stages;
  plan->f16_fallback.x_stage_floats = plan->x_stage_floats;
  plan->f16_fallback.w_stage_floats = plan->w_stage_floats;
  plan->f16_fallback.smem_bytes = plan->smem_bytes;
  plan->f16_fallback.c_chunks = plan->c_chunks;
  plan->f16_fallback.packed_floats = plan->packed_floats;
  plan->f16_products = 1;
  plan->resident_filter = 1;
  plan->c_chunks = c_chunks;
  plan->stages = stages;
  plan->x_stage_floats = (int)x_stage;
  plan->w_stage_floats = 0;
  plan->smem_bytes = (size_t)smem;
  plan->packed_floats = (size_t)packed;
  plan->f16_info_offset = info_offset;
  plan->f16_w_offset = w_offset;
  /* no smaller than the TF32 plan's: an x off 16 bytes takes that plan in this workspace */
  if (workspace > plan->workspace_bytes) plan->workspace_bytes = workspace;
}

void convgemm_igemm_make_plan(const struct convgemm_conv_desc* d,
                              const convgemm_device_info_t* info, convgemm_igemm_plan_t* plan) {
  convgemm_igemm_make_plan_for_x(d, info, 1, plan);
}

void convgemm_igemm_make_plan_for_x(const struct convgemm_conv_desc* d,
                                    const convgemm_device_info_t* info, int x_aligned_16,
                                    convgemm_igemm_plan_t* plan) {
  /* WGMMA's A operand walks 16-byte window pixels: unit stride along W (dilation only moves the
   * taps). Its descriptors hold offsets below 2^18 bytes. */
  if (info->cc_major == 9 && info->cc_minor == 0 && !info->no_wgmma && d->params.stride_w == 1) {
    /* As many stages as fit (one block per SM), at least three (conv/implicit_gemm_wgmma.cu),
     * each with all R filter rows; else (large R*S) one filter row per stage. */
    for (int split = 0; split < 2; ++split) {
      const int stage_rows = split ? 1 : (int)d->params.r;
      for (int stages = CONVGEMM_IGEMM_WG_MAX_STAGES; stages >= CONVGEMM_IGEMM_WG_MIN_STAGES;
           --stages) {
        plan_tiles(d, CONVGEMM_IGEMM_WGMMA, stages, stage_rows, x_aligned_16, 0, plan);
        /* 16-bit data has only the TMA form of WGMMA: a window too large for it with all R
         * filter rows takes one row per stage, one the box can't hold takes MMA_SYNC. */
        if (plan->smem_bytes <= (size_t)info->max_smem_per_block &&
            (int64_t)plan->x_plane_ld * 16 < ((int64_t)1 << 18) &&
            (plan->tma || !convgemm_desc_is_16bit(d))) {
          const int64_t persistent = (int64_t)info->sm_count * CONVGEMM_IGEMM_WG_BLOCKS_PER_SM;
          plan->blocks = (int)(plan->tiles < persistent ? plan->tiles : persistent);
          if (plan->blocks < 1) plan->blocks = 1;
          if (x_aligned_16) plan_carry(d, info, plan);
          if (x_aligned_16) plan_resident_filter(d, info, plan);
          if (x_aligned_16) plan_f16_products(d, info, plan);
          return;
        }
      }
    }
    /* fp32 operands have no mma.sync kernel: where only shared memory kept the 3xTF32 kernel
     * out, keep its plan (the smallest tried: one filter row, 3 stages), refused for that. */
    if (plan->split && plan->tma && plan->smem_bytes > (size_t)info->max_smem_per_block) return;
  }
  plan_tiles(d, CONVGEMM_IGEMM_MMA_SYNC, CONVGEMM_IGEMM_STAGES, (int)d->params.r, 0, 0, plan);
}

/* Why IMPLICIT_GEMM can't run `desc` on `info`, or NULL. */
static const char* refusal(const struct convgemm_conv_desc* d, const convgemm_device_info_t* info,
                           const convgemm_igemm_plan_t* plan) {
  if (info->cc_major < 8) return "IMPLICIT_GEMM needs compute capability 8.0 or newer";
  if (!d->tf32_operands && !convgemm_desc_is_16bit(d) && !(plan->split && plan->tma))
    return d->params.math_mode == CONVGEMM_MATH_IEEE
               ? "IMPLICIT_GEMM computes IEEE math (3xTF32) only in its sm_90 TMA kernel (compute "
                 "capability 9.0, stride_w 1, C/G >= 8, W a multiple of 4, the window within "
                 "the TMA box limits); use DIRECT or IM2COL_GEMM"
               : "IMPLICIT_GEMM computes fp32 operands (C/G == 1: DEFAULT math is fp32) only in "
                 "its sm_90 TMA kernel, which needs C/G >= 8 (use DIRECT)";
  if (plan->smem_bytes > (size_t)info->max_smem_per_block)
    return "IMPLICIT_GEMM's shared-memory stages (filter taps R*S and the input window) exceed "
           "the device's per-block limit";  /* the caller adds the numbers */
  if (plan->tiles > INT32_MAX || (int64_t)plan->x_stage_floats * 4 > INT32_MAX)
    return "IMPLICIT_GEMM indexes tiles and windows with 32 bits";
  if (plan->packed_floats > (size_t)INT32_MAX)
    return "IMPLICIT_GEMM's packed filter would exceed 2^31-1 floats";
  return NULL;
}

convgemm_status_t convgemm_igemm_supports(const struct convgemm_conv_desc* d,
                                          const convgemm_device_info_t* info) {
  convgemm_igemm_plan_t plan;
  convgemm_igemm_make_plan(d, info, &plan);
  const char* why = refusal(d, info, &plan);
  if (why == NULL) return CONVGEMM_STATUS_SUCCESS;
  if (plan.smem_bytes > (size_t)info->max_smem_per_block &&
      (d->tf32_operands || convgemm_desc_is_16bit(d) || (plan.split && plan.tma)) &&
      info->cc_major >= 8)
    return convgemm_fail(CONVGEMM_STATUS_NOT_SUPPORTED, "%s (%zu bytes per block for R*S = %lld; "
                         "the device allows %d)", why, plan.smem_bytes,
                         (long long)(d->params.r * d->params.s), info->max_smem_per_block);
  return convgemm_fail(CONVGEMM_STATUS_NOT_SUPPORTED, "%s", why);
}

int convgemm_igemm_fits(const struct convgemm_conv_desc* d, const convgemm_device_info_t* info,
                        convgemm_igemm_plan_t* plan) {
  convgemm_igemm_make_plan(d, info, plan);
  return refusal(d, info, plan) == NULL;
}
