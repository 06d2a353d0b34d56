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

void convgemm_direct_make_plan(const struct convgemm_conv_desc* d, int max_smem_per_block,
                               convgemm_direct_plan_t* plan) {
  const convgemm_conv2d_params_t* p = &d->params;
  convgemm_direct_tile_t tile = d->c_per_group == 1   ? CONVGEMM_DIRECT_DEPTHWISE
                                : d->k_per_group >= 48 ? CONVGEMM_DIRECT_TILE_K64
                                : d->k_per_group >= 8  ? CONVGEMM_DIRECT_TILE_K16
                                                       : CONVGEMM_DIRECT_TILE_K1;
  convgemm_direct_tile_shape_t s = convgemm_direct_tile_shape(tile);
  /* Sizes are < 2^31 each (validated), so these products fit in 64 bits. */
  const int64_t halo_h = (int64_t)(s.tile_p - 1) * p->stride_h + (p->r - 1) * p->dilation_h + 1;
  const int64_t halo_w = (int64_t)(s.tile_q - 1) * p->stride_w + (p->s - 1) * p->dilation_w + 1;
  const int64_t budget = max_smem_per_block < CONVGEMM_DIRECT_SMEM_BUDGET
                             ? max_smem_per_block : CONVGEMM_DIRECT_SMEM_BUDGET;
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
