/* Filter packing for IM2COL_GEMM (layout in pack_filter.h): one thread per packed element, a
 * template on the element type (16-bit elements are copied as they are: no rounding, one bias
 * row). */
#include <cstdint>

#include <cuda_runtime.h>

#include "gemm/elem_type.cuh"
#include "gemm/pack_filter.h"
#include "gemm/tf32_round.cuh"

namespace convgemm {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kThreads) pack_filter_kernel(const convgemm_pack_filter_args_t a) {
  const T* w = static_cast<const T*>(a.w);
  const T* bias = static_cast<const T*>(a.bias);
  T* packed = static_cast<T*>(a.packed);
  const int64_t total = a.k * a.krg_pad;
  for (int64_t e = (int64_t)blockIdx.x * kThreads + threadIdx.x; e < total;
       e += (int64_t)gridDim.x * kThreads) {
    const int64_t k = e / a.krg_pad;
    const int64_t j = e - k * a.krg_pad;
    float v = 0.0f;
    if (j < a.krg) {
      const float x = to_float(w[k * a.krg + j]);
      v = a.round_tf32 ? tf32_round_rna(x) : x;
    } else if (j < a.krg + a.bias_rows) {
      const float b = to_float(bias[k]);
      if (!a.round_tf32) {
        v = b;
      } else {
        // A finite bias whose TF32 rounding overflows keeps the largest finite TF32 as its high
        // part; an infinite one has no remainder (Inf - Inf would make it NaN).
        float hi = tf32_round_rna(b);
        if (isinf(hi) && isfinite(b)) hi = copysignf(__uint_as_float(0x7F7FE000u), b);
        float lo = isinf(hi) ? 0.0f : tf32_round_rna(b - hi);
        // Rounding the remainder up can carry hi + lo past the largest float (b = FLT_MAX); then
        // truncate it instead. Only |b| > 2^127 (2 - 2^-11) gets here, where b - hi < 2^117
        // and truncation costs < 3 * 2^104, still below 2^-22 |b|.
        if (isinf(hi + lo)) lo = __uint_as_float(__float_as_uint(b - hi) & 0xFFFFE000u);
        v = j == a.krg ? hi : lo;
      }
    }
    packed[e] = from_float<T>(v);  // exact: v is a value of T (or a TF32 part of a float)
  }
}

}  // namespace
}  // namespace convgemm

extern "C" cudaError_t convgemm_pack_filter_launch(const convgemm_pack_filter_args_t* args,
                                                   cudaStream_t stream) {
  using namespace convgemm;
  const int64_t total = args->k * args->krg_pad;
  int64_t blocks = (total + kThreads - 1) / kThreads;
  if (blocks > 65536) blocks = 65536;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)blocks);
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  switch (args->data_type) {
    case CONVGEMM_DATA_FLOAT32:
      return cudaLaunchKernelEx(&config, pack_filter_kernel<float>, *args);
    case CONVGEMM_DATA_FLOAT16:
      if (args->round_tf32 || args->bias_rows > 1) break;
      return cudaLaunchKernelEx(&config, pack_filter_kernel<__half>, *args);
    case CONVGEMM_DATA_BFLOAT16:
      if (args->round_tf32 || args->bias_rows > 1) break;
      return cudaLaunchKernelEx(&config, pack_filter_kernel<__nv_bfloat16>, *args);
  }
  return cudaErrorInvalidValue;
}
