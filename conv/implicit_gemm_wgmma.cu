/*
 * IMPLICIT_GEMM on Hopper: TF32 warpgroup MMA (wgmma.m64n128k8, sm_90a, both operands in shared
 * memory), tiling in implicit_gemm_plan.h; stride_w = dilation_w = 1 only. Offsets into x, w and
 * y are 64-bit.
 *
 * A persistent block (256 threads = 2 warpgroups, one block per SM) walks its tiles' (tile,
 * channel chunk) iterations as one stream, so the cp.async copies of the next tile's first chunks
 * fly while this tile's last chunks are computed and its epilogue stores drain. Per stage:
 *   x_s (2, plane_ld, 4)   the chunk's input window with halo and zero padding, channel-minor:
 *                          [k half][window pixel (row-major, halo_w per row)][4 channels],
 *                          rounded to TF32 in place. Each window pixel is one 16-byte core-matrix
 *                          row, so the A operand of a tap (64 consecutive output pixels of a row)
 *                          is the window shifted by the tap: a descriptor 16 (r halo_w + s) bytes
 *                          further, no copy. k halves plane_ld pixels apart (LBO).
 *   w_s (R*S, 1024)        per tap 16 channel groups x 2 k halves of 8 x 16-byte core matrices
 *                          (the packed filter's wgmma order, copied as is)
 * Per tap each warpgroup issues two wgmma.m64n128k8 (its two output rows) reading 64 x 8 of x_s
 * and 8 x 128 of w_s; accumulators: 2 x 64 floats per thread (warpgroup j: pixel rows 2j, 2j + 1
 * of the tile, all 128 output channels).
 */
#include <cstdint>

#include <cuda_runtime.h>

#include "conv/implicit_gemm_args.cuh"
#include "gemm/cp_async.cuh"
#include "gemm/tf32_round.cuh"
#include "gemm/wgmma_tf32.cuh"

namespace convgemm {
namespace {

constexpr int kThreads = CONVGEMM_IGEMM_WG_THREADS;
constexpr int kTileP = CONVGEMM_IGEMM_WG_TILE_P;
constexpr int kTileQ = CONVGEMM_IGEMM_WG_TILE_Q;
constexpr int kBlockK = CONVGEMM_IGEMM_BLOCK_K;
constexpr int kChunk = CONVGEMM_IGEMM_C_CHUNK;
static_assert(kThreads == 256 && kTileP == 4 && kTileQ == 64 && kBlockK == 128 && kChunk == 8,
              "the warpgroup split below assumes 2 warpgroups x 2 rows x 64 columns x 128 ch");

#if CONVGEMM_HAS_WGMMA  // the sm_90a pass; other passes compile an empty kernel
constexpr int kWarps = kThreads / 32;
constexpr int kTapFloats = kChunk * kBlockK;
// w_s's core matrices (8 rows x 16 bytes): the two k halves of an 8-channel group 128 bytes
// apart (LBO, the K direction), channel groups 256 bytes apart (SBO, the N direction).
constexpr uint32_t kLboW = 128;
constexpr uint32_t kSboW = 256;
// x_s's: 8 consecutive window pixels are 128 contiguous bytes, the next 8 follow (SBO); the LBO
// is the plane (a runtime value).
constexpr uint32_t kSboX = 128;

// Waits until this thread's copies for the oldest in-flight stage have landed: one commit group
// per iteration, stages - 1 of them queued ahead.
__device__ __forceinline__ void wait_oldest_stage(int stages) {
  switch (stages) {
    case 2: cp_async_wait_group<0>(); break;
    case 3: cp_async_wait_group<1>(); break;
    default: cp_async_wait_group<2>(); break;
  }
}
#endif

__global__ void __launch_bounds__(kThreads, CONVGEMM_IGEMM_WG_BLOCKS_PER_SM)
    igemm_wgmma_kernel(const IgemmArgs a) {
#if CONVGEMM_HAS_WGMMA
  extern __shared__ float4 smem_f4[];
  float* const smem = reinterpret_cast<float*>(smem_f4);
  const int stage_floats = a.x_stage_floats + a.w_stage_floats;
  const int rs = a.r * a.s;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wg = warp / 4, wq = warp % 4;  // warpgroup: pixel rows 2wg, 2wg + 1; warp: columns
  const int fg = lane / 4, ft = lane % 4;  // accumulator row / column (gemm/wgmma_tf32.cuh)
  const int window_rows = 2 * a.halo_h;    // (k half, window row) pairs
  const uint32_t lbo_x = (uint32_t)a.x_plane_ld * 16;

  const int64_t my_tiles = (a.tiles - blockIdx.x + gridDim.x - 1) / gridDim.x;
  const int64_t iterations = my_tiles * a.c_chunks;  // (tile, chunk) pairs, chunks fastest

  // Queues iteration it's copies into stage it % stages: per window pixel and k half the 4
  // channels' values (4-byte copies, zero padding) into one 16-byte row of x_s, by one thread,
  // which later rounds that row itself; the filter in 16-byte copies.
  auto load_iteration = [&](int64_t it) {
    const int64_t i = it / a.c_chunks;
    const int cc = (int)(it - i * a.c_chunks);
    const TileCoord tc =
        split_tile(blockIdx.x + i * gridDim.x, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
    float* const stage = smem + (int)(it % a.stages) * stage_floats;
    const int64_t ih0 = (int64_t)tc.pt * kTileP * a.stride_h - a.pad_h;
    const int64_t iw0 = (int64_t)tc.qt * kTileQ - a.pad_w;
    const int64_t plane_in = (int64_t)a.in_h * a.in_w;
    const float* x_grp = a.x + ((int64_t)tc.n * a.c + (int64_t)tc.g * a.cg) * plane_in;
    for (int row = warp; row < window_rows; row += kWarps) {
      const int kh = row / a.halo_h, hh = row - kh * a.halo_h;
      const int c0 = cc * kChunk + 4 * kh;
      const int64_t ih = ih0 + hh;
      const bool row_inside = ih >= 0 && ih < a.in_h;
      const float* src = x_grp + (row_inside ? ih * a.in_w : 0);
      float* dst = stage + 4 * (kh * a.x_plane_ld + hh * a.halo_w);
      for (int ww = lane; ww < a.halo_w; ww += 32) {
        const int64_t iw = iw0 + ww;
        const bool inside = row_inside && iw >= 0 && iw < a.in_w;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const bool valid = inside && c0 + j < a.cg;
          cp_async_4_or_zero(dst + 4 * ww + j, valid ? src + (c0 + j) * plane_in + iw : x_grp,
                             valid);
        }
      }
    }
    float* const w_s = stage + a.x_stage_floats;
    const float* w_src = a.packed + (((int64_t)tc.g * a.k_tiles + tc.kt) * a.c_chunks + cc) *
                                        ((int64_t)rs * kTapFloats);
    const int vecs = rs * (kTapFloats / 4);
    for (int v = tid; v < vecs; v += kThreads) cp_async_16(w_s + v * 4, w_src + v * 4);
  };
  // Rounds this thread's own window rows of a landed stage to TF32 (16 bytes at a time).
  auto round_window = [&](float* stage) {
    for (int row = warp; row < window_rows; row += kWarps) {
      const int kh = row / a.halo_h, hh = row - kh * a.halo_h;
      float4* dst = reinterpret_cast<float4*>(stage) + kh * a.x_plane_ld + hh * a.halo_w;
      for (int ww = lane; ww < a.halo_w; ww += 32) {
        float4 v = dst[ww];
        v.x = tf32_round_rna(v.x);
        v.y = tf32_round_rna(v.y);
        v.z = tf32_round_rna(v.z);
        v.w = tf32_round_rna(v.w);
        dst[ww] = v;
      }
    }
  };

  // Never written by ordinary instructions while wgmmas fly (ptxas would serialize them): a
  // tile's first k step overwrites them (scale-d 0).
  float acc[2][64];
  for (int s = 0; s < a.stages - 1; ++s) {
    if (s < iterations) load_iteration(s);
    cp_async_commit();
  }
  for (int64_t it = 0; it < iterations; ++it) {
    float* const stage = smem + (int)(it % a.stages) * stage_floats;
    wait_oldest_stage(a.stages);
    round_window(stage);
    fence_proxy_async_shared();  // the rounded window and the filter, to wgmma's proxy
    __syncthreads();
    // The stage iteration it - 1 read is free: every warpgroup waited for its wgmmas before the
    // barrier above.
    if (it + a.stages - 1 < iterations) load_iteration(it + a.stages - 1);
    cp_async_commit();  // possibly empty: one group per iteration keeps the waits exact

    // Output row 2 wg + m of the tile reads window rows from (2 wg + m) stride_h on.
    const float* const x_row0 = stage + 4 * (2 * wg * a.stride_h * a.halo_w);
    const int next_row = 4 * a.stride_h * a.halo_w;
    const float* const w_s = stage + a.x_stage_floats;
    int accumulate = it % a.c_chunks != 0;  // 0: the tile's first k step overwrites acc
    wgmma_fence();
#pragma unroll 1
    for (int tap = 0; tap < rs; ++tap) {
      const int r = tap / a.s, s = tap - r * a.s;
      const float* xa = x_row0 + 4 * (r * a.dilation_h * a.halo_w + s);
      const uint64_t desc_w = wgmma_desc_kmajor(w_s + tap * kTapFloats, kLboW, kSboW);
      wgmma_m64n128k8_tf32(acc[0], wgmma_desc_kmajor(xa, lbo_x, kSboX), desc_w, accumulate);
      wgmma_m64n128k8_tf32(acc[1], wgmma_desc_kmajor(xa + next_row, lbo_x, kSboX), desc_w,
                           accumulate);
      accumulate = 1;
    }
    wgmma_commit();
    wgmma_wait<0>();
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int i = 0; i < 64; ++i) wgmma_fence_operand(acc[m][i]);

    const int64_t tile_i = it / a.c_chunks;
    if (it - tile_i * a.c_chunks != a.c_chunks - 1) continue;
    // Epilogue: acc[m][4j + 2h + e] is pixel (row 2 wg + m, column 16 wq + fg + 8h), channel
    // 8j + 2 ft + e of the tile.
    const TileCoord tc =
        split_tile(blockIdx.x + tile_i * gridDim.x, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
    const int64_t plane = (int64_t)a.p * a.q;
    const int k0 = tc.g * a.kg + tc.kt * kBlockK;  // the tile's first output channel
#pragma unroll
    for (int m = 0; m < 2; ++m) {
      const int p = tc.pt * kTileP + 2 * wg + m;
      const int q0 = tc.qt * kTileQ + 16 * wq + fg;
      if (p >= a.p) continue;
      float* const y_px = a.y + ((int64_t)tc.n * a.k + k0) * plane + (int64_t)p * a.q + q0;
#pragma unroll
      for (int j = 0; j < 16; ++j) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int kk = 8 * j + 2 * ft + e;
          if (tc.kt * kBlockK + kk >= a.kg) continue;
          const float b = a.bias != nullptr ? a.bias[k0 + kk] : 0.0f;
          float* const y_k = y_px + kk * plane;
          if (q0 < a.q) y_k[0] = acc[m][4 * j + e] + b;
          if (q0 + 8 < a.q) y_k[8] = acc[m][4 * j + 2 + e] + b;
        }
      }
    }
  }
#else
  (void)a;
#endif
}

}  // namespace

cudaError_t igemm_wgmma_configure(int max_smem_per_block) {
  return cudaFuncSetAttribute(igemm_wgmma_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              max_smem_per_block);
}

cudaError_t igemm_wgmma_launch(const IgemmArgs& a, const convgemm_igemm_plan_t* plan,
                               cudaStream_t stream) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)plan->blocks);
  config.blockDim = dim3(kThreads);
  config.dynamicSmemBytes = plan->smem_bytes;
  config.stream = stream;
  return cudaLaunchKernelEx(&config, igemm_wgmma_kernel, a);
}

}  // namespace convgemm
