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
 * holding a value that is not (too small or too large for its scale, NaN) is listed, and the
 * TF32 TMA kernel recomputes the listed tiles (every tile if the filter itself is not exact: its
 * values spread over more than fp16's range, or a NaN). Either way every product is the TF32
 * product; only the fp32 summation order differs, as it does between any two TF32 kernels.
 *
 * Per call, on the caller's stream (conv/implicit_gemm.cu): the TF32 filter packed for the
 * recomputation, the info ints zeroed (cudaMemsetAsync), the filter's largest magnitude
 * (igemm_f16_filter_max_kernel), the fp16 packing (igemm_f16_pack_kernel), the fp16-products
 * kernel, then the TF32 kernel over the list (its blocks leave at once when it is empty).
 *
 * Workspace (offsets in the plan): the fp16 filter in the 16-bit wgmma order (G 1, k_tiles 1,
 * c_chunks, R*S, 2048 values: implicit_gemm.cu's 16-bit packing), the info ints (F16_INFO_INTS:
 * largest |tf32(w)| bits, filter inexact, listed tiles, unused) and the list (one int per tile),
 * then the TF32 filter (plan->f16_fallback's packing).
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

// packed[cc][tap][e] = fp16(tf32(w[k][cc*16 + kk][tap]) 2^E) in the 16-bit wgmma order
// (wgmma16_tap_coords), zero past K and C. info[1] = 1 if a conversion was not exact.
__global__ void __launch_bounds__(kThreads) igemm_f16_pack_kernel(const float* w, __half* packed,
                                                                  int64_t total, int cg, int kg,
                                                                  int rs, int* info) {
  constexpr int kTapValues = kChunk16 * kBlockK;
  const float scale = f16_pow2(f16_scale_exp((uint32_t)info[0], CONVGEMM_IGEMM_F16_W_TOP_EXP));
  bool inexact = false;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * kThreads) {
    int64_t t = i;
    const int e = (int)(t % kTapValues); t /= kTapValues;
    const int tap = (int)(t % rs);       t /= rs;
    const int cc = (int)t;
    int k, kk;
    wgmma16_tap_coords(e, &k, &kk);
    const int c = cc * kChunk16 + kk;
    const bool in = k < kg && c < cg;
    const float v = in ? tf32_round_rna(w[((int64_t)k * cg + c) * rs + tap]) : 0.0f;
    const float scaled = v * scale;
    const __half h = __float2half_rn(scaled);
    inexact |= __half2float(h) != scaled;
    packed[i] = h;
  }
  if (inexact) info[1] = 1;
}

}  // namespace

cudaError_t igemm_f16_pack_launch(const IgemmArgs& a, const float* w, cudaStream_t stream) {
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
                            reinterpret_cast<__half*>(const_cast<float*>(a.packed)), total, a.cg,
                            a.kg, rs, a.f16_info);
}

}  // namespace convgemm
