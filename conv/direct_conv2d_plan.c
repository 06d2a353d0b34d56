/* DIRECT's host-side tiling decisions (see direct_conv2d_plan.h). */
#include "conv/direct_conv2d_plan.h"

convgemm_direct_tile_shape_t convgemm_direct_tile_shape(convgemm_direct_tile_t tile) {
  convgemm_direct_tile_shape_t s = {0, 0, 0, 0};
  s.tile_q = CONVGEMM_DIRECT_TILE_Q;
  switch (tile) {
    case CONVGEMM_DIRECT_TILE_K64: s.block_k = 64; s.tile_p = 8; break;
    case CONVGEMM_DIRECT_TILE_K16: s.block_k = 16; s.tile_p = 16; break;
    case CONVGEMM_DIRECT_TILE_K1: s.block_k = 1; s.tile_p = 64; break;
    case CONVGEMM_DIRECT_DEPTHWISE:
      s.block_k = 1;
      s.tile_p = CONVGEMM_DIRECT_DW_TILE_P;
      s.tile_q = CONVGEMM_DIRECT_DW_TILE_Q;
      break;
    case CONVGEMM_DIRECT_ROW_STRIP:
      s.block_k = CONVGEMM_DIRECT_STRIP_BLOCK_K;
      s.tile_p = 0; /* the plan's: the strip's rows and row width follow Q */
      s.tile_q = 0;
      break;
    case CONVGEMM_DIRECT_GENERIC: s.tile_q = 0; return s;
  }
  /* Filter slices are stored (c*R*S, w_ld) and written 4 filter taps x 8 channels per warp
   * store; a row pitch of block_k + 8 puts those 32 words in 32 distinct banks and keeps each
   * row 16-byte aligned for the float4 reads. */
  s.w_ld = s.block_k >= 8 ? s.block_k + 8 : s.block_k;
  return s;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Shared-memory bytes for a chunk of `c_chunk` channels: the filter slice and the input halo. */
static int64_t smem_for_chunk(const struct convgemm_conv_desc* d, convgemm_direct_tile_t tile,
                              convgemm_direct_tile_shape_t s, int64_t halo_h, int64_t halo_w,
                              int64_t c_chunk) {
  /* Saturating: a window of 2^31-1 strides overflows 64 bits and must come out as too large. */
  const int64_t window = convgemm_sat_mul(halo_h, halo_w);
  if (tile == CONVGEMM_DIRECT_DEPTHWISE) /* two stages, the filter padded to 4 floats */
    return convgemm_sat_mul(
        2 * (int64_t)sizeof(float),
        convgemm_sat_add(ceil_div(d->params.r * d->params.s, 4) * 4, window));
  const int64_t filter =
      convgemm_sat_mul(convgemm_sat_mul(c_chunk, d->params.r * d->params.s), s.w_ld);
  const int64_t halo = convgemm_sat_mul(c_chunk, window);
  return convgemm_sat_mul(convgemm_sat_add(filter, halo), (int64_t)sizeof(float));
}

/* ---- ROW_STRIP (direct_conv2d_plan.h) ------------------------------------------------------ */

static int64_t gcd64(int64_t a, int64_t b) {
  while (b != 0) {
    const int64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* 2 <= C/G <= 4 (C/G 1 is DEPTHWISE's), R*S >= 25 (taps enough to amortise staging the 96-channel
 * filter slice and the window of every channel), and K/G filling at least 3/4 of its 96-channel
 * tiles (K/G in [72, 96], [144, 192], [216, 288], ...; so K/G >= 72): below that the K64 and K16
 * tiles waste fewer FMAs than ROW_STRIP's partial tile costs. */
static int row_strip_suits(const struct convgemm_conv_desc* d) {
  const int64_t k_padded =
      ceil_div(d->k_per_group, CONVGEMM_DIRECT_STRIP_BLOCK_K) * CONVGEMM_DIRECT_STRIP_BLOCK_K;
  return d->c_per_group >= 2 && d->c_per_group <= CONVGEMM_DIRECT_STRIP_MAX_CG &&
         d->params.r * d->params.s >= CONVGEMM_DIRECT_STRIP_MIN_TAPS &&
         3 * k_padded <= 4 * d->k_per_group;
}

/* Groups of 5 columns in a strip row: Q's, at most one strip (32) wide. */
static int64_t strip_row_groups(int64_t q) {
  const int64_t groups = ceil_div(q, CONVGEMM_DIRECT_STRIP_TP);
  return groups < CONVGEMM_DIRECT_STRIP_GROUPS ? groups : CONVGEMM_DIRECT_STRIP_GROUPS;
}

/* Output rows a strip spans at most: strips start at multiples of 32 groups, so at row offsets
 * that are multiples of gcd(32, row_groups), the largest row_groups - gcd; none spans more than
 * the image's P rows. Q 55 (11 groups a row): offsets 0 .. 10, (10 + 31) / 11 + 1 = 4 rows. */
static int64_t strip_rows(int64_t row_groups, int64_t p) {
  const int64_t last_offset = row_groups - gcd64(CONVGEMM_DIRECT_STRIP_GROUPS, row_groups);
  const int64_t rows = (last_offset + CONVGEMM_DIRECT_STRIP_GROUPS - 1) / row_groups + 1;
  return rows < p ? rows : p;
}

/* The most lanes of one warp whose window reads fall in one bank, or any count >= `limit` once
 * one is reached: lane l reads word row * stride_h * row_ld + 5 * group (+ the same tap offset for
 * all) for the group (offset + l) of a strip that starts `offset` groups into a row, over every
 * offset a strip starts at. Only row_step = stride_h * row_ld mod 32 matters. */
static int strip_bank_conflicts(int64_t row_groups, int64_t row_step, int limit) {
  const int groups = (int)row_groups, step = (int)row_step; /* <= 32 and < 32 */
  const int offset_step = (int)gcd64(CONVGEMM_DIRECT_STRIP_GROUPS, row_groups);
  int worst = 0;
  for (int offset = 0; offset < groups; offset += offset_step) {
    int lanes_in_bank[32] = {0};
    int row_bank = 0, group = offset; /* lane 0's row's bank offset and group */
    for (int lane = 0; lane < CONVGEMM_DIRECT_STRIP_GROUPS; ++lane) {
      const int bank = (row_bank + CONVGEMM_DIRECT_STRIP_TP * group) % 32;
      if (++lanes_in_bank[bank] > worst) worst = lanes_in_bank[bank];
      if (worst >= limit) return worst;
      if (++group == groups) {
        group = 0;
        row_bank = (row_bank + step) % 32;
      }
    }
  }
  return worst;
}

/* The row pitch of the staged window: the first of min_ld .. min_ld + 31 whose reads conflict
 * least (only the row step stride_h * pitch mod 32 matters, each step is scored once). Lane l's
 * bank is 5 * l' + row * (row_step - 5 * row_groups) (mod 32), l' its group counted through the
 * rows, so a step of 5 * row_groups (mod 32) is conflict-free for every strip without scoring.
 * Q 55 at stride 4 (11 groups, rows 4 * pitch apart): 2-way at best, against 3-way for a pitch
 * that is a multiple of 8. Host cost: a few microseconds per plan at most. */
static int64_t strip_row_ld(int64_t row_groups, int64_t stride_h, int64_t min_ld) {
  int scored[32] = {0};
  int64_t best = min_ld;
  int best_conflicts = CONVGEMM_DIRECT_STRIP_GROUPS + 1;
  for (int64_t ld = min_ld; ld < min_ld + 32 && best_conflicts > 1; ++ld) {
    const int64_t row_step = (stride_h % 32) * (ld % 32) % 32;
    if (scored[row_step]) continue; /* an earlier pitch with the same step scored the same */
    scored[row_step] = 1;
    const int conflicts = (row_step - CONVGEMM_DIRECT_STRIP_TP * row_groups) % 32 == 0
                              ? 1
                              : strip_bank_conflicts(row_groups, row_step, best_conflicts);
    if (conflicts < best_conflicts) {
      best_conflicts = conflicts;
      best = ld;
    }
  }
  return best;
}

/* ROW_STRIP's shared memory for `c_chunk` channels: two slots of tile coordinates, then the
 * filter slice, the window and one int per tap. */
static int64_t strip_smem(const struct convgemm_conv_desc* d, int64_t halo_h, int64_t row_ld,
                          int64_t c_chunk) {
  const int64_t taps = convgemm_sat_mul(c_chunk, d->params.r * d->params.s);
  const int64_t w_ld = convgemm_direct_tile_shape(CONVGEMM_DIRECT_ROW_STRIP).w_ld;
  const int64_t floats = convgemm_sat_add(
      convgemm_sat_add(convgemm_sat_mul(taps, w_ld),
                       convgemm_sat_mul(c_chunk, convgemm_sat_mul(halo_h, row_ld))),
      taps);
  return convgemm_sat_add(convgemm_sat_mul(floats, 4), CONVGEMM_DIRECT_STRIP_TILE_BYTES);
}

/* ROW_STRIP's register-window path takes this width geometry (the stem's): stride_w 4,
 * dilation_w 1, S 11. */
static int strip_window_geometry(const convgemm_conv2d_params_t* p) {
  return p->stride_w == 4 && p->dilation_w == 1 && p->s == 11;
}

/* Fills `plan` with ROW_STRIP and returns 1 when one channel fits `budget`; else returns 0 and
 * leaves it alone. */
static int make_row_strip_plan(const struct convgemm_conv_desc* d, int64_t budget,
                               convgemm_direct_plan_t* plan) {
  const convgemm_conv2d_params_t* p = &d->params;
  const int64_t row_groups = strip_row_groups(d->q);
  const int64_t tile_q = row_groups * CONVGEMM_DIRECT_STRIP_TP;
  const int64_t rows = strip_rows(row_groups, d->p);
  /* Sizes are < 2^31 each (validated) and rows <= 32, tile_q <= 160: no overflow. */
  const int64_t halo_h = (rows - 1) * p->stride_h + (p->r - 1) * p->dilation_h + 1;
  const int64_t halo_w = (tile_q - 1) * p->stride_w + (p->s - 1) * p->dilation_w + 1;
  const int64_t phase_ld = ceil_div(halo_w, p->stride_w);
  const int64_t row_ld = strip_row_ld(row_groups, p->stride_h, p->stride_w * phase_ld);
  int64_t c_chunk = d->c_per_group;
  if (strip_smem(d, halo_h, row_ld, 1) > budget) return 0;
  while (c_chunk > 1 && strip_smem(d, halo_h, row_ld, c_chunk) > budget) c_chunk /= 2;

  plan->tile = CONVGEMM_DIRECT_ROW_STRIP;
  plan->shape = convgemm_direct_tile_shape(CONVGEMM_DIRECT_ROW_STRIP);
  plan->shape.tile_p = (int)rows;
  plan->shape.tile_q = (int)tile_q;
  plan->c_chunk = (int)c_chunk;
  plan->halo_h = (int)halo_h;
  plan->halo_w = (int)halo_w;
  plan->smem_bytes = (size_t)strip_smem(d, halo_h, row_ld, c_chunk);
  plan->x_phase_ld = (int)phase_ld;
  plan->x_row_ld = (int)row_ld;
  plan->strip_window = strip_window_geometry(p);
  plan->k_tiles = ceil_div(d->k_per_group, CONVGEMM_DIRECT_STRIP_BLOCK_K);
  plan->p_tiles = ceil_div(d->p * row_groups, CONVGEMM_DIRECT_STRIP_GROUPS);
  plan->q_tiles = ceil_div(d->q, tile_q);
  plan->tiles = p->n * p->groups * plan->k_tiles * plan->p_tiles * plan->q_tiles;
  return 1;
}

/* ---- the plan ------------------------------------------------------------------------------- */

void convgemm_direct_make_plan(const struct convgemm_conv_desc* d, int max_smem_per_block,
                               convgemm_direct_plan_t* plan) {
  const convgemm_conv2d_params_t* p = &d->params;
  const int64_t budget = max_smem_per_block < CONVGEMM_DIRECT_SMEM_BUDGET
                             ? max_smem_per_block : CONVGEMM_DIRECT_SMEM_BUDGET;
  plan->x_phase_ld = plan->x_row_ld = plan->strip_window = 0;
  if (row_strip_suits(d) && make_row_strip_plan(d, budget, plan)) return;
  convgemm_direct_tile_t tile = d->c_per_group == 1   ? CONVGEMM_DIRECT_DEPTHWISE
                                : d->k_per_group >= 48 ? CONVGEMM_DIRECT_TILE_K64
                                : d->k_per_group >= 8  ? CONVGEMM_DIRECT_TILE_K16
                                                       : CONVGEMM_DIRECT_TILE_K1;
  convgemm_direct_tile_shape_t s = convgemm_direct_tile_shape(tile);
  /* Sizes are < 2^31 each (validated), so these products fit in 64 bits. */
  const int64_t halo_h = (int64_t)(s.tile_p - 1) * p->stride_h + (p->r - 1) * p->dilation_h + 1;
  const int64_t halo_w = (int64_t)(s.tile_q - 1) * p->stride_w + (p->s - 1) * p->dilation_w + 1;
  int64_t c_chunk = d->c_per_group < CONVGEMM_DIRECT_MAX_C_CHUNK ? d->c_per_group
                                                                 : CONVGEMM_DIRECT_MAX_C_CHUNK;
  while (c_chunk > 1 && smem_for_chunk(d, tile, s, halo_h, halo_w, c_chunk) > budget) c_chunk /= 2;
  const int64_t smem = smem_for_chunk(d, tile, s, halo_h, halo_w, c_chunk);

  plan->tile = tile;
  plan->shape = s;
  plan->c_chunk = (int)c_chunk;
  plan->halo_h = (int)(halo_h < INT32_MAX ? halo_h : INT32_MAX);
  plan->halo_w = (int)(halo_w < INT32_MAX ? halo_w : INT32_MAX);
  plan->smem_bytes = (size_t)smem;
  if (smem > max_smem_per_block) {
    plan->tile = CONVGEMM_DIRECT_GENERIC;
    plan->shape = convgemm_direct_tile_shape(CONVGEMM_DIRECT_GENERIC);
    plan->c_chunk = 0;
    plan->halo_h = plan->halo_w = 0;
    plan->smem_bytes = 0;
    plan->k_tiles = plan->p_tiles = plan->q_tiles = 0;
    plan->tiles = d->y_elems;
    return;
  }
  plan->k_tiles = ceil_div(d->k_per_group, s.block_k);
  plan->p_tiles = ceil_div(d->p, s.tile_p);
  plan->q_tiles = ceil_div(d->q, s.tile_q);
  plan->tiles = p->n * p->groups * plan->k_tiles * plan->p_tiles * plan->q_tiles;
}

int convgemm_direct_takes_strip_window(const struct convgemm_conv_desc* d,
                                       int max_smem_per_block) {
  if (!strip_window_geometry(&d->params)) return 0; /* most shapes: no plan to build */
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(d, max_smem_per_block, &plan);
  return plan.tile == CONVGEMM_DIRECT_ROW_STRIP && plan.strip_window;
}
