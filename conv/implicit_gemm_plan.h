/*
 * IMPLICIT_GEMM: the convolution as a GEMM computed on tensor cores without a column matrix
 * (TF32 mma.sync m16n8k8, sm_80 and newer; Hopper runs it too). Host-side tiling and support
 * decisions, CPU-tested.
 *
 * GEMM view per group: M = output pixels, N = K/G output channels, reduction over (c, r, s).
 * A 256-thread block computes one image's (TILE_P x TILE_Q) output pixels x BLOCK_K channels of
 * one group. It walks the group's input channels in chunks of C_CHUNK; per chunk it stages in
 * shared memory (two stages: chunk i+1's copies fly while chunk i is computed)
 *   x_s (C_CHUNK, halo_h, halo_w)   the input window with halo and zero padding, rounded to TF32
 *                                   (ties away) in place; channel planes x_plane_ld floats apart
 *   w_s (R*S, C_CHUNK, W_LD)        the chunk's filter taps from the packed filter
 * and per filter tap (r, s) does one k8 step: A = the window shifted by the tap (an index offset,
 * no copy), B = the tap's 8 x BLOCK_K filter slice. 8 warps: warp w owns pixel row w % 2 of the
 * tile (64 pixels, 4 m16 fragments) and channels 32 * (w / 2) .. +31 (4 n8 fragments).
 *
 * The packed filter lives in the workspace: (G, k_tiles, c_chunks, R*S, C_CHUNK, BLOCK_K) floats,
 * TF32-rounded, zero past K/G and C/G, repacked by a small kernel on every call (295 KB for
 * problem 55), so a changed filter is always picked up.
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
  CONVGEMM_IGEMM_W_LD = 136,     /* floats per filter row in shared memory: 128 + 8, so the
                                    4 k rows of a B fragment land 8 banks apart */
  CONVGEMM_IGEMM_STAGES = 2,
  CONVGEMM_IGEMM_BLOCKS_PER_SM = 2 /* register budget: 128 per thread */
};

typedef struct convgemm_igemm_plan {
  int halo_h, halo_w;      /* input window per channel: (TILE_P-1)*stride + (R-1)*dilation + 1 */
  int x_plane_ld;          /* floats between channel planes of x_s: >= halo_h*halo_w, = 8 mod 32 */
  int x_stage_floats;      /* C_CHUNK * x_plane_ld */
  int w_stage_floats;      /* R*S * C_CHUNK * W_LD */
  size_t smem_bytes;       /* STAGES * (x_stage_floats + w_stage_floats) * 4 */
  int64_t c_chunks;        /* ceil((C/G) / C_CHUNK) */
  int64_t k_tiles, p_tiles, q_tiles;
  int64_t tiles;           /* N * G * k_tiles * p_tiles * q_tiles */
  size_t packed_floats;    /* the packed filter */
  size_t workspace_bytes;  /* packed_floats * 4 rounded up to 256 */
} convgemm_igemm_plan_t;

/* The plan for `desc` (whether or not it is supported). */
void convgemm_igemm_make_plan(const struct convgemm_conv_desc* desc, convgemm_igemm_plan_t* plan);

/* SUCCESS, or NOT_SUPPORTED with the reason: TF32 operands only (DEFAULT math with C/G > 1;
 * IEEE math and depthwise are fp32), compute capability 8.0 or newer, the two shared-memory
 * stages within the device's per-block limit (large R*S, stride or dilation exceed it), and the
 * grid's tile count and window indices within 32 bits. */
convgemm_status_t convgemm_igemm_supports(const struct convgemm_conv_desc* desc,
                                          const convgemm_device_info_t* info);

/* The same test without reporting (for AUTO). */
int convgemm_igemm_fits(const struct convgemm_conv_desc* desc, const convgemm_device_info_t* info);

/* Lets the kernel use the device's shared memory (once per handle, like DIRECT's). */
cudaError_t convgemm_igemm_configure(int max_smem_per_block);

/* Queues the filter packing and the kernel on `stream`; `workspace` holds workspace_bytes. */
cudaError_t convgemm_igemm_launch(const struct convgemm_conv_desc* desc,
                                  const convgemm_igemm_plan_t* plan, const float* x,
                                  const float* w, const float* bias, float* y, void* workspace,
                                  cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_IMPLICIT_GEMM_PLAN_H_ */
