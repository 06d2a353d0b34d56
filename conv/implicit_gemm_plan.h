/*
 * IMPLICIT_GEMM: the convolution as a GEMM computed on tensor cores without a column matrix.
 * Two kernels share the algorithm, its numerics (operands rounded to TF32 ties-away, or 16-bit
 * operands as they are; fp32 accumulation) and its packed filter size; the plan picks one per
 * device:
 *   WGMMA     sm_90 (Hopper): warpgroup MMA (wgmma.m64n128k8, both operands in shared memory),
 *             persistent blocks, 3 to 8 stages filled by TMA or cp.async
 *             (conv/implicit_gemm_wgmma.cu)
 *   MMA_SYNC  sm_80/86/89, and sm_90 where WGMMA doesn't apply (stride_w > 1; 16-bit data
 *             outside the TMA form) or when asked: warp mma.sync.m16n8k8 (TF32) or m16n8k16
 *             (16-bit data) (conv/implicit_gemm.cu)
 * Host-side tiling and support decisions, CPU-tested.
 *
 * GEMM view per group: M = output pixels, N = K/G output channels, reduction over (c, r, s).
 * A block computes one image's (tile_p x tile_q) output pixels x BLOCK_K channels of one group
 * at a time. It walks the group's input channels in chunks of C_CHUNK; per chunk it stages in
 * shared memory (several stages: later chunks' copies fly while chunk i is computed)
 *   x_s (C_CHUNK, halo_h, halo_w)   the input window with halo and zero padding, rounded to TF32
 *                                   (ties away) in place; channel planes x_plane_ld floats apart
 *   w_s (R*S, C_CHUNK x BLOCK_K)    the chunk's filter taps from the packed filter
 * and per filter tap (r, s) does one k8 step: A = the window shifted by the tap (an index offset,
 * no copy), B = the tap's 8 x BLOCK_K filter slice.
 *   MMA_SYNC: 2 x 64 pixels, 256 threads; warp w owns pixel row w % 2 (64 pixels, 4 m16
 *             fragments) and channels 32 * (w / 2) .. +31 (4 n8 fragments); w_s rows W_LD apart.
 *   WGMMA:    4 x 64 pixels, 2 warpgroups; warpgroup j owns pixel rows 2j and 2j + 1 (one m64
 *             wgmma each: warp w of the group the 16 columns 16w..16w+15) and all 128 channels;
 *             w_s per tap is 16 core matrices of 8 channels x (2 x 4 k values), wgmma's K-major
 *             layout, copied as is from the packed filter.
 *
 * The packed filter lives in the workspace: (G, k_tiles, c_chunks, R*S, C_CHUNK x BLOCK_K) floats,
 * TF32-rounded, zero past K/G and C/G, in the chosen kernel's order, repacked by a small kernel
 * on every call (295 KB for problem 55), so a changed filter is always picked up.
 *
 * fp16 products (plan->f16_products, conv/implicit_gemm_f16_products.cu): where the whole filter
 * fits in shared memory as fp16, WGMMA computes DEFAULT math's TF32 products on fp16 tensor cores
 * (k16 wgmmas, twice TF32's rate): each TF32 operand scaled by a power of two into fp16's range
 * is an fp16 value, so the products are the TF32 ones; a tile holding a value fp16 can't hold
 * exactly is recomputed by the TF32 kernel.
 *
 * 16-bit data (float16, bfloat16): the operands as they are (exact in fp32), a stage of
 * C_CHUNK_16BIT = 16 channels, a channel pair per 4-byte word. WGMMA runs it only in its TMA form
 * (k16 wgmmas, 8 channels to a 16-byte pixel row of x_s; the box's first column on a 16-byte
 * boundary takes tma_shift = (8 - pad_w % 8) % 8, and the box needs W a multiple of 8, C/G >= 16
 * and x 16-byte aligned); MMA_SYNC runs the rest (k16 mma.syncs; the window loaded by 2-byte
 * loads, channel pairs packed into words). Every stage, TMA box and packed tap has the bytes of
 * the TF32 layout (the sizes below count 4-byte words: "floats").
 */
#ifndef CONVGEMM_IMPLICIT_GEMM_PLAN_H_
#define CONVGEMM_IMPLICIT_GEMM_PLAN_H_

#include <stddef.h>
#include <stdint.h>

#include "conv/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  CONVGEMM_IGEMM_THREADS = 256,
  CONVGEMM_IGEMM_TILE_P = 2,     /* output rows per block (one per warp row) */
  CONVGEMM_IGEMM_TILE_Q = 64,    /* output columns per block (4 m16 fragments) */
  CONVGEMM_IGEMM_BLOCK_K = 128,  /* output channels per block (4 warps x 32) */
  CONVGEMM_IGEMM_C_CHUNK = 8,    /* input channels per stage: one k8 step per filter tap */
  CONVGEMM_IGEMM_C_CHUNK_16BIT = 16, /* the same for 16-bit data: one k16 step, the same bytes */
  CONVGEMM_IGEMM_W_LD = 136,     /* floats per filter row in shared memory: 128 + 8, so the
                                    4 k rows of a B fragment land 8 banks apart */
  CONVGEMM_IGEMM_STAGES = 2,
  CONVGEMM_IGEMM_BLOCKS_PER_SM = 2, /* register budget: 128 per thread */
  /* WGMMA kernel */
  CONVGEMM_IGEMM_WG_THREADS = 256,   /* compute threads: two warpgroups, two rows each */
  CONVGEMM_IGEMM_WG_TILE_P = 4,      /* output rows per tile (two per warpgroup) */
  CONVGEMM_IGEMM_WG_TILE_P_SPLIT = 2, /* 3xTF32: one per warpgroup (its second accumulator set
                                         holds a chunk's partial sums) */
  CONVGEMM_IGEMM_WG_TILE_P_PING_PONG = 2, /* plan->ping_pong: one warpgroup's two rows */
  CONVGEMM_IGEMM_WG_TILE_Q = 64,     /* output columns per tile (4 warps x 16) */
  CONVGEMM_IGEMM_WG_MAX_STAGES = 8,  /* as many as fit: small stages (1x1, 3xTF32's one filter
                                        row) gain from the depth (log step 52) */
  CONVGEMM_IGEMM_WG_MIN_STAGES = 3,  /* one computed, one rounded, one or more in flight */
  CONVGEMM_IGEMM_WG_BARRIER_BYTES = 192, /* the stages' barriers (3 x MAX_STAGES x 8 bytes),
                                           after the stages */
  CONVGEMM_IGEMM_WG_PRODUCER_THREADS = 128, /* TMA kernel: the warpgroup that transposes */
  CONVGEMM_IGEMM_WG_LOADER_THREADS = 128,   /* TMA kernel: the warpgroup whose first thread
                                               issues the loads */
  CONVGEMM_IGEMM_WG_GROUP_UNITS = 5, /* 3xTF32 producer groups (plan->producer_groups): 16-byte
                                       units (with their small parts) per thread of a group */
  CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS = 448, /* TMA window (halo_h x halo_w) limit: the in-place
                                             transpose holds 2 x 448 16-byte rows in 7
                                             registers x 128 producer threads (3x3 stride 1
                                             needs 6 x 66 = 396) */
  CONVGEMM_IGEMM_WG_BLOCKS_PER_SM = 1, /* 128 accumulators per thread */
  /* WGMMA's carry epilogue (plan->carry) where a tile's stores outweigh its math: at most this
   * many k steps per tile row (c_chunks x R x S; 36 = C/G 32 at 3x3) and more than this many
   * output channels per group. Measured (H100, 3x3, 1024 x 1024, Q = 1022, TF32): C/G 16, 24, 32
   * with K 128 gained 19-37%; C/G 40, 48, 64 lost 3-6%; C/G 16 with K 64 lost 20%, with K 96
   * gained 17% (docs/optimization_log.md, step 47). */
  CONVGEMM_IGEMM_CARRY_MAX_KSTEPS = 36,
  CONVGEMM_IGEMM_CARRY_MIN_KG = 65,
  /* WGMMA's tap pairs (plan->tap_pairs) for K/G <= 64, which fills only half of a tile's 128
   * channels: tiles step PAIR_Q_STEP columns (60: a multiple of 4 for the TMA box, 64 - 60 >=
   * dilation_w up to PAIR_MAX_DILATION_W) */
  CONVGEMM_IGEMM_PAIR_Q_STEP = 60,
  CONVGEMM_IGEMM_PAIR_MAX_DILATION_W = 4,
  /* WGMMA's resident filter (plan->resident_filter): the 16-bit epilogue's own staging, after the
   * barriers: 2 warpgroups x 64 channels x 72 values x 2 bytes (64-channel passes) */
  CONVGEMM_IGEMM_WG_STAGING16_BYTES = 18432,
  /* plan->ping_pong: the odd tiles' `ready` set (WG_MAX_STAGES), after the stages' barriers,
   * before the staging */
  CONVGEMM_IGEMM_WG_PING_PONG_BARRIER_BYTES = 64,
  /* plan->ping_pong where a tile has at least this many k steps (c_chunks x R x S): with fewer
   * its stores outweigh its math, and tiles of 2 rows cost more than the overlap gains. Measured
   * (H200, bfloat16): problem 55 (36) 1.09 ms against 1.21; dense_C32 3x3 (18) 0.092 against
   * 0.102; 63 (9) 4.53 against 4.37; 87_pw (1x1, 4) 2.22 against 2.04 (log step 67). */
  CONVGEMM_IGEMM_PING_PONG_MIN_KSTEPS = 16,
  /* WGMMA's fp16 products (plan->f16_products): after the barriers, each stage's tile scale
   * exponent and the producers' scratch (16 ints), then the resident filter */
  CONVGEMM_IGEMM_WG_TILE_INFO_BYTES = 64,
  CONVGEMM_IGEMM_F16_C_CHUNK = 16, /* input channels per stage: one k16 step per filter tap */
  /* The x scale of a tile puts the largest magnitude of its first chunk in [2^12, 2^13): the
   * other chunks have 8x headroom below fp16's 65504 and every value down to 2^-27 of it is an
   * fp16 normal. The filter's scale puts its largest magnitude in [2^14, 2^15). Exponents are
   * clamped to +-60 so that 2^-(sum) is a float. */
  CONVGEMM_IGEMM_F16_X_TOP_EXP = 12,
  CONVGEMM_IGEMM_F16_W_TOP_EXP = 14,
  CONVGEMM_IGEMM_F16_MAX_SCALE_EXP = 60,
  /* The workspace after the fp16-packed filter: the filter's largest |tf32(w)| (bits), filter
   * inexact (1/0), listed tiles, unused; then the list (one int per tile) */
  CONVGEMM_IGEMM_F16_INFO_INTS = 4
};

typedef enum convgemm_igemm_variant {
  CONVGEMM_IGEMM_MMA_SYNC = 0,
  CONVGEMM_IGEMM_WGMMA = 1
} convgemm_igemm_variant_t;

/* fp16 products' recomputation (plan->f16_fallback): the TF32 TMA kernel's tiling of the same
 * descriptor where it differs from the fp16-products plan (every other field is the same). */
typedef struct convgemm_igemm_fallback {
  int stages, x_stage_floats, w_stage_floats;
  size_t smem_bytes;
  int64_t c_chunks;        /* 8-channel chunks */
  size_t packed_floats;    /* its packed TF32 filter, at f16_w_offset in the workspace */
} convgemm_igemm_fallback_t;

typedef struct convgemm_igemm_plan {
  convgemm_igemm_variant_t variant;
  int tile_p, tile_q;      /* output pixels per tile */
  int stages;              /* shared-memory stages */
  int stage_rows;          /* filter rows per stage: R, or 1 (WGMMA, when all R*S taps don't
                              fit 3 stages: the chunk's rows are separate iterations) */
  int blocks;              /* grid size: tiles (MMA_SYNC), or persistent blocks (WGMMA) */
  int halo_h, halo_w;      /* input window per channel and stage: (tile_p-1)*stride +
                              (stage_rows (H) or S (W) - 1)*dilation + 1 */
  int x_plane_ld;          /* MMA_SYNC: floats between channel planes of x_s (>= halo_h*halo_w,
                              = 8 mod 32); WGMMA: 16-byte pixels per k half (>= halo_h*halo_w) */
  int tma;                 /* WGMMA: the window arrives by TMA (W a multiple of 4, the box
                              within 256 and within (W, H, C/G), halo_h x halo_w at most
                              WG_TMA_MAX_PIXELS) as (C_CHUNK, halo_h, tma_box_w)
                              floats and is transposed in place; else by 4-byte cp.async,
                              transposed on the way */
  int split;               /* WGMMA with fp32 operands (IEEE math): 3xTF32, x = big + small
                              (big = tf32(x), small = tf32(x - big)), three wgmmas per tap
                              (small*big, big*small, big*big); the window's planes and the packed
                              filter's taps hold both parts; tiles of WG_TILE_P_SPLIT rows (the
                              wgmmas sum into partial accumulators, folded into the total in
                              fp32). TMA kernel only */
  int tma_box_w;           /* tma_shift + halo_w rounded up to a multiple of 4 (16 bytes) */
  int tma_shift;           /* columns the box starts left of the window: (4 - pad_w % 4) % 4,
                              so its first column is 16-byte aligned */
  int x_stage_floats;      /* MMA_SYNC: C_CHUNK * x_plane_ld; WGMMA: the larger of that and the
                              TMA box, rounded up to 32 floats (128 bytes: TMA alignment) */
  int w_stage_floats;      /* stage_rows*s_taps * C_CHUNK * W_LD (BLOCK_K for WGMMA) */
  size_t smem_bytes;       /* stages * (x_stage_floats + w_stage_floats) * 4 (+ the WGMMA
                              barriers) */
  int64_t c_chunks;        /* ceil((C/G) / C_CHUNK) */
  int64_t k_tiles, p_tiles, q_tiles; /* q_tiles: ceil(Q / tile_q_step) */
  int64_t tiles;           /* N * G * k_tiles * p_tiles * q_tiles */
  int tap_pairs;           /* WGMMA TMA with TF32 operands (not split), K/G <= 64 (k_tiles 1),
                              S >= 2, dilation_w <= PAIR_MAX_DILATION_W: each packed tap holds
                              filter taps (r, 2j) in channels 0..63 and (r, 2j + 1) in 64..127,
                              so one wgmma on the window shifted by tap (r, 2j) computes both;
                              the second half belongs to the output dilation_w columns left, and
                              the epilogue adds it there: y[q] = lo[q] + hi[q + dilation_w].
                              Tiles compute 64 columns and store the first tile_q_step (60) */
  int tile_q_step;         /* columns between tiles (= tile_q unless tap_pairs) */
  int producer_groups;     /* WGMMA TMA 3xTF32 with an even number of stages and windows of at
                              most 64 x WG_GROUP_UNITS / 2 pixels: 2 (the producers as two
                              groups of 64 threads, group g transposing the stages s with
                              s % 2 == g); else 1 */
  int s_taps;              /* packed taps per filter row: S, or ceil(S / 2) with tap_pairs */
  int run_tiles;           /* WGMMA's persistent blocks take runs of run_tiles consecutive tiles
                              (1: round-robin single tiles) */
  int carry;               /* WGMMA TMA with TF32 operands (not split), k_tiles 1, Q not a
                              multiple of 8, q_tiles >= 2, store-bound tiles (CARRY_MAX_KSTEPS,
                              CARRY_MIN_KG): a run is a row of q tiles, whose epilogues store the
                              32-byte sectors of y that tile boundaries split whole (8 floats per
                              output row and channel of a tile kept in shared memory after the
                              barriers: tile_p x BLOCK_K x 32 bytes more) */
  int resident_filter;     /* WGMMA TMA with 16-bit data, one group, k_tiles 1, all R filter rows
                              per stage, where the whole packed filter (c_chunks x R x S taps of
                              4 KB), WG_STAGING16_BYTES and at least WG_MIN_STAGES stages of the
                              window alone fit beside the barriers: the filter is copied into
                              shared memory once per block instead of with every stage
                              (w_stage_floats 0; stages at most WG_MAX_STAGES - 1: the last
                              stage's `full` barrier counts the filter), and the epilogue stages
                              in its own WG_STAGING16_BYTES. Also 1 with f16_products (its fp16
                              filter, after the stages' tile info). 0 otherwise */
  int ping_pong;           /* resident_filter with 16-bit data, at least PING_PONG_MIN_KSTEPS k
                              steps per tile, where the stages of tile_p WG_TILE_P_PING_PONG fit
                              too (WG_PING_PONG_BARRIER_BYTES more): each compute warpgroup
                              computes every other tile of the block alone (2 rows x 64 columns x
                              128 channels), so one's epilogue runs under the other's wgmmas */
  int f16_products;        /* WGMMA TMA with TF32 operands (DEFAULT math, float32 data, not
                              split), one group, k_tiles 1, all R filter rows per stage, no tap
                              pairs or carry, x 16-byte aligned, C/G >= 16, where the fp16 filter
                              (c_chunks x R x S taps of 4 KB) and at least WG_MIN_STAGES stages
                              of a 16-channel fp32 box fit: the TF32-rounded operands, scaled by
                              powers of two (x per tile, w per tensor), go to the tensor cores as
                              fp16, which holds them exactly (k16 wgmmas, twice TF32's rate).
                              A tile with a value fp16 can't hold exactly is listed and
                              recomputed by the TF32 TMA kernel with f16_fallback's tiling (all
                              tiles when the filter isn't exact), so every product is the TF32
                              one. c_chunks counts 16-channel chunks, the filter is resident
                              (resident_filter 1, w_stage_floats 0) */
  convgemm_igemm_fallback_t f16_fallback;
  size_t f16_info_offset;  /* f16_products: bytes into the workspace of the info ints and the
                              tile list (F16_INFO_INTS + tiles ints) */
  size_t f16_w_offset;     /* f16_products: bytes into the workspace of the recomputation's
                              packed TF32 filter (f16_fallback.packed_floats) */
  size_t packed_floats;    /* the packed filter */
  size_t workspace_bytes;  /* packed_floats * 4 rounded up to 256 */
} convgemm_igemm_plan_t;

/* The plan for `desc` on `info`'s device (whether or not it is supported): WGMMA on sm_90
 * where its stages fit (and info->no_wgmma is 0), else MMA_SYNC. */
void convgemm_igemm_make_plan(const struct convgemm_conv_desc* desc,
                              const convgemm_device_info_t* info, convgemm_igemm_plan_t* plan);

/* The same for an x that is (x_aligned_16 1) or is not (0) on a 16-byte boundary: off it, the
 * TMA kernel can't load x and WGMMA's cp.async kernel runs, without tap pairs or the carry (the
 * plan's stages and tiles otherwise as for an aligned x, its workspace no larger). */
void convgemm_igemm_make_plan_for_x(const struct convgemm_conv_desc* desc,
                                    const convgemm_device_info_t* info, int x_aligned_16,
                                    convgemm_igemm_plan_t* plan);

/* SUCCESS, or NOT_SUPPORTED with the reason: TF32 operands (DEFAULT math with C/G > 1) or 16-bit
 * data (fp32 operands, IEEE math or depthwise, run as 3xTF32 in the sm_90 TMA kernel only),
 * compute capability 8.0 or newer, the shared-memory stages within the device's per-block limit
 * (large R*S, stride or dilation exceed it), and the grid's tile count and window indices within
 * 32 bits. */
convgemm_status_t convgemm_igemm_supports(const struct convgemm_conv_desc* desc,
                                          const convgemm_device_info_t* info);

/* The same test without reporting (for AUTO), leaving the plan in *plan. */
int convgemm_igemm_fits(const struct convgemm_conv_desc* desc, const convgemm_device_info_t* info,
                        convgemm_igemm_plan_t* plan);

/* Lets the kernel use the device's shared memory (once per handle, like DIRECT's). */
cudaError_t convgemm_igemm_configure(int max_smem_per_block);

/* Queues the filter packing and the plan's kernel on `stream`; `workspace` holds
 * workspace_bytes. */
cudaError_t convgemm_igemm_launch(const struct convgemm_conv_desc* desc,
                                  const convgemm_igemm_plan_t* plan, const void* x,
                                  const void* w, const void* bias, void* y, void* workspace,
                                  cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_IMPLICIT_GEMM_PLAN_H_ */
