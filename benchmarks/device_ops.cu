// Input fill and allclose kernels of conv_bench. Memory-bound grid-stride loops, templates on
// the element type (float, __half, __nv_bfloat16).
#include "benchmarks/device_ops.h"

#include <stdint.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "gemm/elem_type.cuh"

namespace {

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 8192;

unsigned int grid_for(size_t n) {
  const size_t blocks = (n + kThreads - 1) / kThreads;
  return (unsigned int)(blocks < (size_t)kMaxBlocks ? (blocks > 0 ? blocks : 1) : kMaxBlocks);
}

// splitmix64's finalizer: a bijective 64-bit mix.
__device__ __forceinline__ uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

using convgemm::from_float;
using convgemm::to_float;

template <typename T>
__global__ void fill_uniform_kernel(T* __restrict__ p, size_t n, uint64_t seed, float lo,
                                    float span) {
  const uint64_t key = mix64(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const uint64_t h = mix64(key ^ mix64((uint64_t)i));
    // (2k + 1) / 2^24 with k < 2^23: exactly representable, strictly inside (0, 1).
    const float u = (float)(((h >> 41) << 1) | 1u) * (1.0f / 16777216.0f);
    p[i] = from_float<T>(lo + span * u);
  }
}

template <typename T>
__global__ void compare_kernel(const T* __restrict__ a, const T* __restrict__ b, size_t n,
                               float atol, float rtol, bench_compare_result_t* result) {
  unsigned int max_bits = 0;
  unsigned long long n_fail = 0, n_nonfinite = 0;
  unsigned long long first_fail = ~0ull;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const float va = to_float(a[i]), vb = to_float(b[i]);
    const float diff = fabsf(va - vb);  // NaN if either is NaN; sign cleared
    // For non-negative floats the bit patterns order like the values, and NaN sorts above inf.
    max_bits = max(max_bits, __float_as_uint(diff));
    if (!(diff <= atol + rtol * fabsf(vb))) {
      ++n_fail;
      first_fail = min(first_fail, (unsigned long long)i);
    }
    if (!isfinite(vb)) ++n_nonfinite;
  }
  for (int offset = 16; offset > 0; offset >>= 1) {
    max_bits = max(max_bits, __shfl_down_sync(0xffffffffu, max_bits, offset));
    n_fail += __shfl_down_sync(0xffffffffu, n_fail, offset);
    n_nonfinite += __shfl_down_sync(0xffffffffu, n_nonfinite, offset);
    first_fail = min(first_fail, __shfl_down_sync(0xffffffffu, first_fail, offset));
  }
  if ((threadIdx.x & 31) == 0) {
    if (max_bits != 0) atomicMax(&result->max_abs_diff_bits, max_bits);
    if (n_fail != 0) {
      atomicAdd(&result->n_fail, n_fail);
      atomicMax(&result->first_fail_inv, ~first_fail);
    }
    if (n_nonfinite != 0) atomicAdd(&result->n_ref_nonfinite, n_nonfinite);
  }
}

}  // namespace

extern "C" cudaError_t bench_fill_uniform(float* p, size_t n, uint64_t seed, float lo, float hi,
                                          cudaStream_t stream) {
  fill_uniform_kernel<float><<<grid_for(n), kThreads, 0, stream>>>(p, n, seed, lo, hi - lo);
  return cudaGetLastError();
}

extern "C" cudaError_t bench_fill_uniform_typed(void* p, size_t n, convgemm_data_type_t type,
                                                uint64_t seed, float lo, float hi,
                                                cudaStream_t stream) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT32: return bench_fill_uniform(static_cast<float*>(p), n, seed, lo, hi,
                                                          stream);
    case CONVGEMM_DATA_FLOAT16:
      fill_uniform_kernel<__half><<<grid_for(n), kThreads, 0, stream>>>(
          static_cast<__half*>(p), n, seed, lo, hi - lo);
      return cudaGetLastError();
    case CONVGEMM_DATA_BFLOAT16:
      fill_uniform_kernel<__nv_bfloat16><<<grid_for(n), kThreads, 0, stream>>>(
          static_cast<__nv_bfloat16*>(p), n, seed, lo, hi - lo);
      return cudaGetLastError();
  }
  return cudaErrorInvalidValue;
}

extern "C" cudaError_t bench_compare(const float* a, const float* b, size_t n, float atol,
                                     float rtol, bench_compare_result_t* result,
                                     cudaStream_t stream) {
  compare_kernel<float><<<grid_for(n), kThreads, 0, stream>>>(a, b, n, atol, rtol, result);
  return cudaGetLastError();
}

extern "C" cudaError_t bench_compare_typed(const void* a, const void* b, size_t n,
                                           convgemm_data_type_t type, float atol, float rtol,
                                           bench_compare_result_t* result, cudaStream_t stream) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT32:
      return bench_compare(static_cast<const float*>(a), static_cast<const float*>(b), n, atol,
                           rtol, result, stream);
    case CONVGEMM_DATA_FLOAT16:
      compare_kernel<__half><<<grid_for(n), kThreads, 0, stream>>>(
          static_cast<const __half*>(a), static_cast<const __half*>(b), n, atol, rtol, result);
      return cudaGetLastError();
    case CONVGEMM_DATA_BFLOAT16:
      compare_kernel<__nv_bfloat16><<<grid_for(n), kThreads, 0, stream>>>(
          static_cast<const __nv_bfloat16*>(a), static_cast<const __nv_bfloat16*>(b), n, atol,
          rtol, result);
      return cudaGetLastError();
  }
  return cudaErrorInvalidValue;
}
