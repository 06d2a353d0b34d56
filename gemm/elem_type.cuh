/*
 * The element types of convgemm_data_type_t on the device (float, __half, __nv_bfloat16) and the
 * two conversions every kernel that reads or writes convolution tensors needs:
 *   to_float      on load: exact for all three (a 16-bit value is a float with fewer bits);
 *   from_float    on store: the fp32 result rounded once, to nearest even (cvt.rn); the
 *                 identity for float, so a float kernel compiles to the same code as before;
 *   pack_16bit    two from_float values of a 16-bit type in one 32-bit word.
 * Accumulation is always fp32: 16-bit data changes what is loaded and stored, never the math.
 */
#ifndef CONVGEMM_GEMM_ELEM_TYPE_CUH_
#define CONVGEMM_GEMM_ELEM_TYPE_CUH_

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace convgemm {

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T from_float(float v);

template <>
__device__ __forceinline__ float from_float<float>(float v) {
  return v;
}

// Round to nearest even; past 65504 (+ half an ulp) to Inf, as PyTorch's float -> half cast.
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
  return __float2half_rn(v);
}

// Round to nearest even (NaN stays NaN), as PyTorch's float -> bfloat16 cast.
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

__device__ __forceinline__ uint32_t bits16(__half v) { return __half_as_ushort(v); }
__device__ __forceinline__ uint32_t bits16(__nv_bfloat16 v) { return __bfloat16_as_ushort(v); }

// Two values rounded as from_float<T> (16-bit T), packed in one 32-bit word, lo in the low half
// (the pair's order in memory).
template <typename T>
__device__ __forceinline__ uint32_t pack_16bit(float lo, float hi) {
  static_assert(sizeof(T) == 2, "16-bit T");
  return bits16(from_float<T>(lo)) | bits16(from_float<T>(hi)) << 16;
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_ELEM_TYPE_CUH_
