// Applies the library's TF32 rounding to raw bit patterns (tf32_round_kernel.h).
#include "tests/tf32_round_kernel.h"

#include <cuda_runtime.h>

#include "gemm/tf32_round.cuh"

namespace {

// Bits in and out, never a float in memory: a NaN payload or a denormal reaches the cvt exactly
// as generated.
__global__ void tf32_round_bits_kernel(const uint32_t* in, uint32_t* out, size_t count) {
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (size_t)gridDim.x * blockDim.x)
    out[i] = __float_as_uint(convgemm::tf32_round_rna(__uint_as_float(in[i])));
}

}  // namespace

extern "C" cudaError_t tf32_round_kernel_launch(const uint32_t* in, uint32_t* out, size_t count,
                                                cudaStream_t stream) {
  if (count == 0) return cudaSuccess;  // a zero-block launch would be an error
  const unsigned threads = 256;
  const size_t blocks = (count + threads - 1) / threads;
  tf32_round_bits_kernel<<<(unsigned)(blocks < 65535 ? blocks : 65535), threads, 0, stream>>>(
      in, out, count);
  return cudaGetLastError();
}
