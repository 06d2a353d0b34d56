/*
 * DIRECT: how a convolution is cut into thread-block tiles, decided on the host (CPU-tested).
 *
 * Each thread block computes a (BLOCK_K output channels) x (TILE_P rows x TILE_Q columns) output
 * tile of one image and one group. It walks the group's input channels in chunks of c_chunk:
 * stages the chunk's input halo (c_chunk, halo_h, halo_w) and the chunk's filter slice
 * (c_chunk*R*S, BLOCK_K) in shared memory, then every thread accumulates a TK x TP register tile
 * (TK channels x TP pixels) with fp32 FMAs in the order c, r, s. When even one channel's halo does
 * not fit in shared memory (huge dilation or stride), the generic kernel (one thread per output,
 * same summation order, so bitwise-identical results) runs instead.
 *
 * Every data type uses the same plan: 16-bit x and w are converted to fp32 as they are staged
 * (shared memory always holds floats), and y is rounded to the data type once, at the store.
 *
 * With one input channel per group (C/G == 1: depthwise) there is no reduction over channels to
 * tile and the convolution is memory bound (problem 82: 9 FMAs per 8 bytes moved), so a kernel
 * built for bandwidth runs instead: persistent blocks compute (32 x 128) output tiles of one
 * (image, output channel) each, the next tile's filter and input halo copied into a second
 * shared-memory stage with cp.async while the current one is computed; each thread 4 rows x 4
 * columns, warp stores 128 bytes wide. Its shared memory: 2 x (R*S rounded up to 4 + halo).
 *
 * With few input channels, many output channels and a large filter (the AlexNet stem, KernelBench
 * 50: C 3, K 96, 11x11, stride 4) the K64 tile wastes FMAs (K 96 is 1.5 tiles, Q 55 is 1.75
 * 32-column tiles) and, at stride 4, its lanes read the window 4 words apart (4-way bank
 * conflicts), so ROW_STRIP runs instead (direct_conv2d_row_strip.cu): a block computes 96
 * channels x a strip of 32 consecutive 5-column output groups, walking the image's rows of
 * strip_q = 5 * min(ceil(Q/5), 32) columns in row-major order (Q 55: 11 groups a row, a strip
 * spans 3 or 4 rows); warp w owns channels 12w .. 12w+11 and lane l group l. The staged window
 * is split by column phase (iw mod stride_w) so that each tap's 5 inputs are adjacent words;
 * its rows are x_row_ld floats apart, a pitch the plan picks to spread the lanes' reads over
 * the banks. Shared memory: 128 bytes of tile coordinates (two slots), then per channel chunk the
 * filter slice (c*R*S, 104), the window (c, halo_h, x_row_ld) and one int offset per tap (c*R*S).
 * Picked when 2 <= C/G <= 4,
 * R*S >= 25, K/G fills at least 3/4 of its 96-channel tiles (K/G >= 72) and one channel fits
 * the two-blocks-per-SM budget; see convgemm_direct_make_plan.
 */
#ifndef CONVGEMM_DIRECT_CONV2D_PLAN_H_
#define CONVGEMM_DIRECT_CONV2D_PLAN_H_

#include <stddef.h>
#include <stdint.h>

#include "conv/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Thread-block tile shapes; the kernel is instantiated once per shape. */
typedef enum convgemm_direct_tile {
  CONVGEMM_DIRECT_TILE_K64 = 0, /* 64 channels x (8 x 32) pixels; thread tile 8 x 8   */
  CONVGEMM_DIRECT_TILE_K16 = 1, /* 16 channels x (16 x 32) pixels; thread tile 4 x 8  */
  CONVGEMM_DIRECT_TILE_K1 = 2,  /* 1 channel x (64 x 32) pixels; thread tile 1 x 8    */
  CONVGEMM_DIRECT_GENERIC = 3,  /* one thread per output element                     */
  CONVGEMM_DIRECT_DEPTHWISE = 4, /* C/G == 1: 1 channel x (32 x 128) pixels; 4 x 4    */
  CONVGEMM_DIRECT_ROW_STRIP = 5  /* 96 channels x 32 groups of 5 columns; 12 x 5        */
} convgemm_direct_tile_t;

enum {
  CONVGEMM_DIRECT_THREADS = 256,       /* threads per block, every tile shape */
  CONVGEMM_DIRECT_TILE_Q = 32,         /* output columns per tile (one warp across) */
  CONVGEMM_DIRECT_DW_TILE_P = 32,      /* DEPTHWISE: output rows per tile (8 warps x 4) */
  CONVGEMM_DIRECT_DW_TILE_Q = 128,     /* DEPTHWISE: output columns per tile (32 lanes x 4) */
  CONVGEMM_DIRECT_DW_BLOCKS_PER_SM = 4, /* DEPTHWISE: resident blocks per SM (persistent grid) */
  CONVGEMM_DIRECT_STRIP_BLOCK_K = 96,  /* ROW_STRIP: output channels per block (8 warps x 12) */
  CONVGEMM_DIRECT_STRIP_TP = 5,        /* ROW_STRIP: consecutive output columns per thread */
  CONVGEMM_DIRECT_STRIP_GROUPS = 32,   /* ROW_STRIP: 5-column groups per strip (one per lane) */
  CONVGEMM_DIRECT_STRIP_MAX_CG = 4,    /* ROW_STRIP: most input channels per group it takes */
  CONVGEMM_DIRECT_STRIP_MIN_TAPS = 25, /* ROW_STRIP: fewest filter taps R*S it takes */
  CONVGEMM_DIRECT_STRIP_TILE_BYTES = 128, /* ROW_STRIP: two slots of a tile's coordinates */
  CONVGEMM_DIRECT_MAX_C_CHUNK = 8,     /* input channels staged per pass, at most */
  CONVGEMM_DIRECT_SMEM_BUDGET = 96 * 1024 /* bytes per block that leave room for two blocks/SM */
};

typedef struct convgemm_direct_tile_shape {
  int block_k; /* output channels per block */
  int tile_p;  /* output rows per block (ROW_STRIP: rows a strip spans at most; plan-set) */
  int tile_q;  /* output columns per block (ROW_STRIP: the strip's row width; plan-set) */
  int w_ld;    /* floats between filter rows in shared memory (padded against bank conflicts) */
} convgemm_direct_tile_shape_t;

typedef struct convgemm_direct_plan {
  convgemm_direct_tile_t tile;
  convgemm_direct_tile_shape_t shape;
  int c_chunk;        /* input channels staged per pass */
  int halo_h, halo_w; /* staged input window per channel */
  size_t smem_bytes;  /* dynamic shared memory per block */
  int x_phase_ld;     /* ROW_STRIP: floats per column phase of a staged row, ceil(halo_w/stride_w) */
  int x_row_ld;       /* ROW_STRIP: floats between staged rows (>= stride_w * x_phase_ld) */
  int strip_window;   /* ROW_STRIP: 1 for the register-window path (stride_w 4, dilation_w 1,
                         S 11: the stem's width geometry), 0 for the general path */
  int64_t k_tiles, p_tiles, q_tiles; /* ROW_STRIP: p_tiles counts strips */
  int64_t tiles;      /* blocks of work: n * groups * k_tiles * p_tiles * q_tiles */
} convgemm_direct_plan_t;

/* The shape of a tile kind (block_k 0 for GENERIC; tile_p and tile_q 0 for ROW_STRIP, whose
 * plan sets them from Q). */
convgemm_direct_tile_shape_t convgemm_direct_tile_shape(convgemm_direct_tile_t tile);

/* Chooses the tile shape and channel chunk for `desc` on a device whose blocks may use up to
 * `max_smem_per_block` bytes of shared memory. Never fails. */
void convgemm_direct_make_plan(const struct convgemm_conv_desc* desc, int max_smem_per_block,
                               convgemm_direct_plan_t* plan);

/* Whether DIRECT's plan for `desc` is ROW_STRIP's register-window path (AUTO's DIRECT rule);
 * builds the plan only for the window's width geometry. */
int convgemm_direct_takes_strip_window(const struct convgemm_conv_desc* desc,
                                       int max_smem_per_block);

/* Lets DIRECT's kernels use up to `max_smem_per_block` bytes of dynamic shared memory on the
 * current device. Called once per handle by convgemm_create. */
cudaError_t convgemm_direct_configure(int max_smem_per_block);

/* Queues the plan's kernel for the descriptor's data type on `stream` (the current device must
 * be the data's device) and returns the launch's error code; it records no message (the caller
 * does). x, w, bias and y hold elements of desc->params.data_type. */
cudaError_t convgemm_direct_launch(const struct convgemm_conv_desc* desc,
                                   const convgemm_direct_plan_t* plan, const void* x,
                                   const void* w, const void* bias, void* y, cudaStream_t stream);

/* ROW_STRIP's halves of the two above (direct_conv2d_row_strip.cu); convgemm_direct_configure
 * and convgemm_direct_launch call them. */
cudaError_t convgemm_direct_row_strip_configure(int max_smem_per_block);
cudaError_t convgemm_direct_row_strip_launch(const struct convgemm_conv_desc* desc,
                                             const convgemm_direct_plan_t* plan, const void* x,
                                             const void* w, const void* bias, void* y,
                                             cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_DIRECT_CONV2D_PLAN_H_ */
