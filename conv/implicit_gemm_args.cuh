/*
 * The arguments both IMPLICIT_GEMM kernels take (conv/implicit_gemm.cu: mma.sync,
 * conv/implicit_gemm_wgmma.cu: wgmma), built once from the descriptor and the plan.
 */
#ifndef CONVGEMM_CONV_IMPLICIT_GEMM_ARGS_CUH_
#define CONVGEMM_CONV_IMPLICIT_GEMM_ARGS_CUH_

#include <cstdint>

#include <cuda_runtime.h>

#include "conv/conv_geometry.cuh"
#include "conv/implicit_gemm_plan.h"

namespace convgemm {

struct IgemmArgs : ConvGeometry {
  // Tensors of data_type (float32 for the cp.async wgmma kernel; the mma.sync and TMA wgmma
  // kernels also take float16 and bfloat16).
  convgemm_data_type_t data_type;
  const void* x;        // (N, C, H, W)
  const float* packed;  // (G, k_tiles, c_chunks, R*s_taps, 1024 words (x 2 split)): per tap C_CHUNK x
                        // BLOCK_K TF32 values, or C_CHUNK_16BIT x BLOCK_K 16-bit values
  const void* bias;     // (K) or nullptr
  void* y;              // (N, K, P, Q)
  int halo_h, halo_w, x_plane_ld, x_stage_floats, w_stage_floats, stages, tma_box_w,
      tma_shift, stage_rows;
  int split;            // 3xTF32 (IEEE math): x_s and each packed tap hold big and small parts
  int c_chunks, k_tiles, p_tiles, q_tiles;
  int64_t tiles;
  // The persistent blocks' tile order (the wgmma kernels' Cursor): runs of run_tiles tiles
  // round-robin for full_rounds rounds, then one range of tail_tiles per block.
  int run_tiles, full_rounds, tail_tiles;
  int carry;  // the TMA kernel's float epilogue stores split sectors whole (plan->carry)
  // plan->tap_pairs, plan->tile_q_step, plan->s_taps (S, or ceil(S / 2) with tap pairs)
  int tap_pairs, q_step, s_taps;
  int producer_groups;  // plan->producer_groups
  int resident_filter;  // plan->resident_filter (16-bit TMA kernel, fp16 products)
  int ping_pong;        // plan->ping_pong (16-bit resident filter: a warpgroup per tile)
  // plan->f16_products: the packed filter is fp16, and f16_info points at the workspace's
  // F16_INFO_INTS (largest |tf32(w)| bits, filter inexact, listed tiles, unused), then the list
  // (read by the listed launch's Cursor too)
  int f16_products;
  int* f16_info;
};

// fp16 products' scale exponent for operands whose largest magnitude has the bits amax_bits: that
// magnitude lands in [2^top, 2^(top + 1)), clamped to +-F16_MAX_SCALE_EXP (0 for all zeros).
__host__ __device__ inline int f16_scale_exp(uint32_t amax_bits, int top) {
  const int e = amax_bits == 0 ? top : (int)(amax_bits >> 23) - 127;
  const int s = top - e;
  return s > CONVGEMM_IGEMM_F16_MAX_SCALE_EXP    ? CONVGEMM_IGEMM_F16_MAX_SCALE_EXP
         : s < -CONVGEMM_IGEMM_F16_MAX_SCALE_EXP ? -CONVGEMM_IGEMM_F16_MAX_SCALE_EXP
                                                 : s;
}

// A packed 16-bit tap's value e in wgmma's K-major order (core matrices of 8 output channels x 8
// k values, the two k halves of a channel group adjacent): its output channel n (of BLOCK_K) and
// its input channel kk (of 16). Used by the 16-bit and the fp16-products packings.
__host__ __device__ inline void wgmma16_tap_coords(int e, int* n, int* kk) {
  *n = (e / 128) * 8 + (e / 8) % 8;
  *kk = ((e / 64) % 2) * 8 + e % 8;
}

// 2^e as a float (|e| <= 126).
__host__ __device__ inline float f16_pow2(int e) {
  union { uint32_t u; float f; } v;
  v.u = (uint32_t)(127 + e) << 23;
  return v.f;
}

// fp16 products' filter (conv/implicit_gemm_f16_products.cu): the info ints zeroed, the filter's
// largest magnitude, its fp16 packing into a.packed.
cudaError_t igemm_f16_pack_launch(const IgemmArgs& a, const float* w, cudaStream_t stream);

// The TF32 TMA kernel over the tiles fp16 products listed in a.f16_info (all of them when the
// filter was not exact), with a's TF32 tiling (conv/implicit_gemm_wgmma.cu).
cudaError_t igemm_wgmma_launch_listed(const IgemmArgs& a, size_t smem_bytes, int blocks,
                                      cudaStream_t stream);

// The WGMMA kernel's launch (conv/implicit_gemm_wgmma.cu); the packed filter is in a.packed.
cudaError_t igemm_wgmma_launch(const IgemmArgs& a, const convgemm_igemm_plan_t* plan,
                               cudaStream_t stream);
cudaError_t igemm_wgmma_configure(int max_smem_per_block);

}  // namespace convgemm

#endif  // CONVGEMM_CONV_IMPLICIT_GEMM_ARGS_CUH_
