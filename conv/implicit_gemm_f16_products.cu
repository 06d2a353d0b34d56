/*
 * IMPLICIT_GEMM's fp16 products (plan->f16_products): the TF32 products of DEFAULT math computed
 * on fp16 tensor cores, whose k16 wgmmas run at twice TF32's rate.
 *
 * Why it is exact: a TF32 value has an 11-bit significand (10 stored bits) and fp32's exponent
 * range; fp16 has the same 11 bits and normal exponents -14..15. So a TF32 value scaled by a
 * power of two into [2^-14, 65504] is an fp16 value, and the product of two such values, like the
 * TF32 one, is exact in fp32. The wgmma kernel scales x per tile (its first chunk's largest
 * magnitude to [2^12, 2^13)) and w per tensor (to [2^14, 2^15)), converts, checks that every
 * conversion was exact, and unscales the fp32 sums by 2^-(both exponents), also exact. A tile
 * holding a value that is not (too small or too large for its scale, NaN) is listed, and
 * igemm_f16_fixup_kernel recomputes it from x and the TF32-rounded filter on CUDA cores; if the
 * filter itself is not exact (its values spread over more than fp16's range, or a NaN) every
 * tile is recomputed. Either way every product is the TF32 product; only the fp32 summation
 * order differs, as it does between any two TF32 kernels.
 *
 * Per call, on the caller's stream: the info ints zeroed (cudaMemsetAsync), the filter's largest
 * magnitude (igemm_f16_filter_max_kernel), the fp16 packing and the TF32 copy
 * (igemm_f16_pack_kernel), the wgmma kernel, then the recomputation (its blocks leave at once when
 * no tile is listed).
 *
 * Workspace (offsets in the plan): the fp16 filter in the 16-bit wgmma order
 * (G 1, k_tiles 1, c_chunks, R*S, 2048 values: implicit_gemm.cu's 16-bit packing), the info ints
 * (F16_INFO_INTS: largest |tf32(w)| bits, filter inexact, listed tiles, unused) and the list (one
 * int per tile), then w_tf32 (C, R*S, BLOCK_K floats: the TF32-rounded filter, output channels
 * fastest, zero past K).
 */
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "conv/implicit_gemm_args.cuh"
#include "gemm/tf32_round.cuh"

namespace convgemm {
namespace {

constexpr int kBlockK = CONVGEMM_IGEMM_BLOCK_K;
constexpr int kChunk16 = CONVGEMM_IGEMM_F16_C_CHUNK;
constexpr int kThreads = 256;

// info[0] = the largest |tf32(w)| as bits (non-negative floats order as their bits; a NaN's
// bits exceed every other value's).
__global__ void __launch_bounds__(kThreads) igemm_f16_filter_max_kernel(const float* w,
                                                                        int64_t count,
                                                                        int* info) {
  uint32_t amax = 0;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < count;
       i += (int64_t)gridDim.x * kThreads) {
    const uint32_t m = __float_as_uint(tf32_round_rna(w[i])) & 0x7FFFFFFFu;
    amax = m > amax ? m : amax;
  }
  amax = __reduce_max_sync(0xFFFFFFFFu, amax);
  if (threadIdx.x % 32 == 0 && amax != 0) atomicMax(reinterpret_cast<unsigned*>(info), amax);
}

// packed[cc][tap][e] = fp16(tf32(w[k][cc*16 + kk][tap]) 2^E) in the 16-bit wgmma order (e =
// ((k / 8) * 2 + kk / 8) * 64 + (k % 8) * 8 + kk % 8), zero past K and C; w_tf32[c][tap][k] =
// tf32(w[k][c][tap]), zero past K. info[1] = 1 if a conversion was not exact.
__global__ void __launch_bounds__(kThreads) igemm_f16_pack_kernel(const float* w, __half* packed,
                                                                  float* w_tf32, int64_t total,
                                                                  int cg, int kg, int rs,
                                                                  int* info) {
  constexpr int kTapValues = kChunk16 * kBlockK;
  const float scale = f16_pow2(f16_w_scale_exp((uint32_t)info[0]));
  bool inexact = false;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * kThreads) {
    int64_t t = i;
    const int e = (int)(t % kTapValues); t /= kTapValues;
    const int tap = (int)(t % rs);       t /= rs;
    const int cc = (int)t;
    const int k = (e / 128) * 8 + (e / 8) % 8;
    const int c = cc * kChunk16 + ((e / 64) % 2) * 8 + e % 8;
    const bool in = k < kg && c < cg;
    const float v = in ? tf32_round_rna(w[((int64_t)k * cg + c) * rs + tap]) : 0.0f;
    const float scaled = v * scale;
    const __half h = __float2half_rn(scaled);
    inexact |= __half2float(h) != scaled;
    packed[i] = h;
    if (c < cg) w_tf32[((int64_t)c * rs + tap) * kBlockK + k] = v;
  }
  if (inexact) info[1] = 1;
}

// Recomputes listed tiles (every tile when info[1] says the filter is not exact in fp16). An
// item is one output row of a tile and 8 of its channels: 64 threads, one output pixel each, 8
// accumulators started at the bias; per (c, r, s) one TF32-rounded x value times 8 filter values
// (two 16-byte loads of w_tf32, the same address in every thread), fmaf: the product exact, one
// rounding per addition, as the tensor cores' fp32 sums.
constexpr int kFixThreads = CONVGEMM_IGEMM_WG_TILE_Q;  // a tile row
constexpr int kFixChannels = 8;
constexpr int kFixItemsPerTile =
    CONVGEMM_IGEMM_WG_TILE_P * (kBlockK / kFixChannels);  // 4 rows x 16 channel groups

struct FixupArgs {
  ConvGeometry g;
  const float* x;
  const float* w_tf32;
  const float* bias;
  float* y;
  const int* info;
  int tiles, p_tiles, q_tiles;
};

__global__ void __launch_bounds__(kFixThreads) igemm_f16_fixup_kernel(const FixupArgs f) {
  const ConvGeometry& g = f.g;
  const bool all = f.info[1] != 0;
  const int64_t items = (int64_t)(all ? f.tiles : f.info[2]) * kFixItemsPerTile;
  const int* const list = f.info + CONVGEMM_IGEMM_F16_INFO_INTS;
  const int rs = g.r * g.s;
  const int64_t plane = (int64_t)g.in_h * g.in_w;
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
    const int64_t entry = item / kFixItemsPerTile;
    const int part = (int)(item % kFixItemsPerTile);
    const int tile = all ? (int)entry : list[entry];
    const TileCoord tc = split_tile(tile, 1, f.q_tiles, f.p_tiles, 1);
    const int k0 = (part % (kBlockK / kFixChannels)) * kFixChannels;
    const int p = tc.pt * CONVGEMM_IGEMM_WG_TILE_P + part / (kBlockK / kFixChannels);
    const int q = tc.qt * CONVGEMM_IGEMM_WG_TILE_Q + (int)threadIdx.x;
    if (k0 >= g.kg || p >= g.p || q >= g.q) continue;  // no barrier in this loop
    float acc[kFixChannels];
#pragma unroll
    for (int j = 0; j < kFixChannels; ++j)
      acc[j] = f.bias != nullptr && k0 + j < g.kg ? f.bias[k0 + j] : 0.0f;
    const float* x_img = f.x + (int64_t)tc.n * g.c * plane;
    for (int c = 0; c < g.cg; ++c) {
      const float* x_c = x_img + c * plane;
      for (int r = 0; r < g.r; ++r) {
        const int ih = p * g.stride_h - g.pad_h + r * g.dilation_h;
        for (int s = 0; s < g.s; ++s) {
          const int iw = q * g.stride_w - g.pad_w + s * g.dilation_w;
          const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
          const float xv = inside ? tf32_round_rna(x_c[(int64_t)ih * g.in_w + iw]) : 0.0f;
          const float4* wp = reinterpret_cast<const float4*>(
              f.w_tf32 + ((int64_t)c * rs + r * g.s + s) * kBlockK + k0);
          const float4 w0 = wp[0], w1 = wp[1];
          acc[0] = fmaf(xv, w0.x, acc[0]);
          acc[1] = fmaf(xv, w0.y, acc[1]);
          acc[2] = fmaf(xv, w0.z, acc[2]);
          acc[3] = fmaf(xv, w0.w, acc[3]);
          acc[4] = fmaf(xv, w1.x, acc[4]);
          acc[5] = fmaf(xv, w1.y, acc[5]);
          acc[6] = fmaf(xv, w1.z, acc[6]);
          acc[7] = fmaf(xv, w1.w, acc[7]);
        }
      }
    }
    const int64_t pq = (int64_t)g.p * g.q;
    float* const y_px = f.y + ((int64_t)tc.n * g.k + k0) * pq + (int64_t)p * g.q + q;
#pragma unroll
    for (int j = 0; j < kFixChannels; ++j)
      if (k0 + j < g.kg) y_px[j * pq] = acc[j];
  }
}

}  // namespace

cudaError_t igemm_f16_pack_launch(const IgemmArgs& a, const float* w, float* w_tf32,
                                  cudaStream_t stream) {
  cudaError_t e = cudaMemsetAsync(a.f16_info, 0, CONVGEMM_IGEMM_F16_INFO_INTS * sizeof(int),
                                  stream);
  if (e != cudaSuccess) return e;
  const int rs = a.r * a.s;
  const int64_t count = (int64_t)a.kg * a.cg * rs;  // one group
  cudaLaunchConfig_t config = {};
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  int64_t blocks = (count + kThreads - 1) / kThreads;
  config.gridDim = dim3((unsigned)(blocks < 1024 ? blocks : 1024));
  e = cudaLaunchKernelEx(&config, igemm_f16_filter_max_kernel, w, count, a.f16_info);
  if (e != cudaSuccess) return e;
  const int64_t total = (int64_t)a.c_chunks * rs * kChunk16 * kBlockK;
  blocks = (total + kThreads - 1) / kThreads;
  config.gridDim = dim3((unsigned)(blocks < 65536 ? blocks : 65536));
  return cudaLaunchKernelEx(&config, igemm_f16_pack_kernel, w,
                            reinterpret_cast<__half*>(const_cast<float*>(a.packed)), w_tf32,
                            total, a.cg, a.kg, rs, a.f16_info);
}

cudaError_t igemm_f16_fixup_launch(const IgemmArgs& a, const float* w_tf32, int sm_count,
                                   cudaStream_t stream) {
  FixupArgs f;
  f.g = a;
  f.x = static_cast<const float*>(a.x);
  f.w_tf32 = w_tf32;
  f.bias = static_cast<const float*>(a.bias);
  f.y = static_cast<float*>(a.y);
  f.info = a.f16_info;
  f.tiles = (int)a.tiles;
  f.p_tiles = a.p_tiles;
  f.q_tiles = a.q_tiles;
  cudaLaunchConfig_t config = {};
  config.blockDim = dim3(kFixThreads);
  config.gridDim = dim3((unsigned)(8 * (sm_count > 0 ? sm_count : 1)));
  config.stream = stream;
  return cudaLaunchKernelEx(&config, igemm_f16_fixup_kernel, f);
}

}  // namespace convgemm
