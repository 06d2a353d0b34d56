// Device helpers of the GPU suites (test_device_ops.h).
#include "tests/test_device_ops.h"

#include <cuda_runtime.h>

namespace {

constexpr unsigned kThreads = 256;
constexpr unsigned kMaxBlocks = 65535 * 4;  // grid-stride loops cover any count

unsigned blocks_for(int64_t count) {
  const int64_t blocks = (count + kThreads - 1) / kThreads;
  return (unsigned)(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

__global__ void fill_pattern_kernel(float* x, int64_t count, uint64_t seed) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (int64_t)gridDim.x * blockDim.x)
    x[i] = test_pattern_unit(seed, (uint64_t)i);
}

__global__ void count_nonfinite_kernel(const float* y, int64_t count,
                                       unsigned long long* result) {
  unsigned long long mine = 0;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (int64_t)gridDim.x * blockDim.x)
    mine += !isfinite(y[i]);
  // Few atomics: one per warp that saw any.
  for (int offset = 16; offset > 0; offset /= 2) mine += __shfl_down_sync(~0u, mine, offset);
  if (threadIdx.x % 32 == 0 && mine != 0) atomicAdd(result, mine);
}

__global__ void gather_kernel(const float* y, const int64_t* indices, int64_t count, float* out) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (int64_t)gridDim.x * blockDim.x)
    out[i] = y[indices[i]];
}

__global__ void fault_store_kernel(float* address) { *(volatile float*)address = 1.0f; }

}  // namespace

extern "C" cudaError_t test_fill_pattern(float* x, int64_t count, uint64_t seed,
                                         cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(blocks_for(count));
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  return cudaLaunchKernelEx(&config, fill_pattern_kernel, x, count, seed);
}

extern "C" cudaError_t test_count_nonfinite(const float* y, int64_t count, int64_t* result,
                                            cudaStream_t stream) {
  unsigned long long* d_result = nullptr;
  cudaError_t e = cudaMalloc((void**)&d_result, sizeof *d_result);
  if (e != cudaSuccess) return e;
  unsigned long long host = 0;
  e = cudaMemsetAsync(d_result, 0, sizeof *d_result, stream);
  if (e == cudaSuccess && count > 0) {
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(blocks_for(count));
    config.blockDim = dim3(kThreads);
    config.stream = stream;
    e = cudaLaunchKernelEx(&config, count_nonfinite_kernel, y, count, d_result);
  }
  if (e == cudaSuccess) e = cudaMemcpyAsync(&host, d_result, sizeof host, cudaMemcpyDeviceToHost,
                                            stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
  const cudaError_t freed = cudaFree(d_result);
  if (e == cudaSuccess) e = freed;
  *result = (int64_t)host;
  return e;
}

extern "C" cudaError_t test_gather(const float* y, const int64_t* indices, int64_t count,
                                   float* out, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  int64_t* d_indices = nullptr;
  float* d_out = nullptr;
  cudaError_t e = cudaMalloc((void**)&d_indices, (size_t)count * sizeof(int64_t));
  if (e == cudaSuccess) e = cudaMalloc((void**)&d_out, (size_t)count * sizeof(float));
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(d_indices, indices, (size_t)count * sizeof(int64_t),
                        cudaMemcpyHostToDevice, stream);
  if (e == cudaSuccess) {
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(blocks_for(count));
    config.blockDim = dim3(kThreads);
    config.stream = stream;
    e = cudaLaunchKernelEx(&config, gather_kernel, y, (const int64_t*)d_indices, count, d_out);
  }
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(out, d_out, (size_t)count * sizeof(float), cudaMemcpyDeviceToHost,
                        stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
  cudaFree(d_indices);
  cudaFree(d_out);
  return e;
}

extern "C" cudaError_t test_fault_store(float* address, cudaStream_t stream) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(1);
  config.blockDim = dim3(1);
  config.stream = stream;
  return cudaLaunchKernelEx(&config, fault_store_kernel, address);
}
